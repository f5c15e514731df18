import type { ResolvedTenant } from './tenant-resolver.js';

/** What the gateway knows of a request while it executes. */
export interface GatewayContext {
  request: Request;
  requestId: string;
  /** Set by the tenancy plugin; absent when tenancy is off or for pure introspection. */
  tenant?: ResolvedTenant;
}
