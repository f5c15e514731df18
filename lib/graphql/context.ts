import { appError } from '../errors.js';
import type { SubgraphContext } from './service.js';

/** The tenant of the request, or UNAUTHENTICATED: no subgraph serves data without one. */
export function requireTenant(ctx: SubgraphContext): string {
  if (!ctx.tenantId) throw appError('UNAUTHENTICATED', 'No tenant: send the request through the gateway.');
  return ctx.tenantId;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` can be an id of ours (ids are UUIDs); other strings can match nothing. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
