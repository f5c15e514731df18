import type { Client } from '@openfeature/server-sdk';
import type { Identity } from './auth/authenticator.js';

/** What the gateway knows of a request while it executes. */
export interface GatewayContext {
  request: Request;
  requestId: string;
  /** Set by the auth plugin; absent when auth is off, or for anonymous introspection. */
  identity?: Identity;
  /** The tenants' feature flags (OpenFeature; docs/flags.md): evaluate with `flagContext` of the identity. */
  flags: Client;
}
