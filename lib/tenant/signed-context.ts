import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Who a subgraph request is for, as the gateway vouches for it: tenant, roles and request id,
 * signed with the secret the gateway and the subgraphs share (HMAC-SHA256), valid for a short
 * time, and bound to the one request it was made for: a hash of the operation (its text and
 * name) and of the variables (their JSON text), and a unique nonce. A subgraph recomputes both
 * hashes from the request it received and accepts a mutation's nonce once (see
 * docs/decisions/0013-signatures-bound-to-their-request.md).
 */
export const CONTEXT_HEADER = 'x-commerce-context';
export const REQUEST_ID_HEADER = 'x-request-id';

import type { Role } from './roles.js';

export type { Role };

export interface CallerContext {
  tenantId: string | undefined;
  roles: Role[];
  requestId: string;
  /** The stores a store-bound credential (a till's pos key) may act on; absent: every store of the tenant. */
  storeIds?: string[];
  /** A signed-in customer (role `customer`): the token's subject. Rows of other customers stay invisible. */
  customerId?: string;
  /** Who acts, for the record (product versions' `changedBy`): `key:<api key id>`, `jwt:<tenant>:<sub>` or `platform`; absent for anonymous callers. */
  actor?: string;
}

/** The request a context is signed for: a GraphQL operation, or a plain route (`routeRequest`). */
export interface SignedRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

/** What a verified context says beyond the caller: its nonce, and whether it may be used once only. */
export interface VerifiedContext extends CallerContext {
  nonce: string;
  /** Expiry (ms since the epoch): a used nonce need not be remembered longer. */
  expiresAt: number;
  /** The gateway marked it single-use (a write on a plain route); mutations are single-use anyway. */
  singleUse: boolean;
}

/** Default lifetime of a signed context: long enough for one request's fetches, no more. */
export const CONTEXT_TTL_MS = 30_000;

const b64 = (buffer: Buffer) => buffer.toString('base64url');
const mac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest();
const sha256 = (text: string) => b64(createHash('sha256').update(text).digest());

/**
 * The variables' JSON text, as the sender serialises them. Not re-sorted: in JavaScript
 * `JSON.stringify(JSON.parse(text))` gives back `text` for any text `JSON.stringify` wrote (key
 * order included), so a subgraph that re-serialises what it parsed gets the gateway's exact text;
 * sorting keys at every depth cost 3-4 times as much on every fetch (decision 0013).
 */
export function variablesJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

/** The hashes a context carries for its request: operation (name and text) and variables. */
export function requestDigest(request: SignedRequest): { d: string; v: string } {
  return { d: sha256(`${request.operationName ?? ''}\n${request.query}`), v: sha256(variablesJson(request.variables ?? {})) };
}

/** A plain HTTP route (a streamed upload) as a signed request: its method and path. */
export const routeRequest = (method: string, path: string): SignedRequest => ({ query: `${method.toUpperCase()} ${path}` });

export function signContext(
  context: CallerContext,
  request: SignedRequest,
  secret: string,
  options: { now?: number; ttlMs?: number; singleUse?: boolean } = {},
): string {
  const exp = (options.now ?? Date.now()) + (options.ttlMs ?? CONTEXT_TTL_MS);
  const { d, v } = requestDigest(request);
  const claims = { t: context.tenantId ?? null, r: context.roles, q: context.requestId, s: context.storeIds, ...(context.customerId ? { c: context.customerId } : {}), ...(context.actor ? { a: context.actor } : {}), exp, d, v, n: randomUUID(), ...(options.singleUse ? { u: 1 } : {}) };
  const body = b64(Buffer.from(JSON.stringify(claims)));
  return `${body}.${b64(mac(secret, body))}`;
}

export class ContextRejected extends Error {
  override name = 'ContextRejected';
}

/**
 * Verifies a signed context against the request it arrived with; throws ContextRejected
 * (missing, malformed, wrongly signed, expired, or made for another request).
 */
export function verifyContext(header: string | null | undefined, secret: string, request: SignedRequest, now = Date.now()): VerifiedContext {
  if (!header) throw new ContextRejected('missing signed context: call the gateway, not the subgraph');
  const [body, signature, extra] = header.split('.');
  if (!body || !signature || extra !== undefined) throw new ContextRejected('malformed signed context');
  const expected = mac(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ContextRejected('invalid signature');
  let claims: { t: string | null; r: Role[]; q: string; s?: string[]; c?: string; a?: string; exp: number; d?: string; v?: string; n?: string; u?: number };
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new ContextRejected('malformed signed context');
  }
  if (typeof claims.exp !== 'number' || claims.exp < now) throw new ContextRejected('signed context expired');
  if (typeof claims.n !== 'string' || typeof claims.d !== 'string' || typeof claims.v !== 'string') {
    throw new ContextRejected('signed context is not bound to a request');
  }
  const digest = requestDigest(request);
  if (digest.d !== claims.d) throw new ContextRejected('signed context was made for another operation');
  if (digest.v !== claims.v) throw new ContextRejected('signed context was made for other variables');
  return {
    tenantId: claims.t ?? undefined,
    roles: Array.isArray(claims.r) ? claims.r : [],
    requestId: String(claims.q),
    ...(Array.isArray(claims.s) ? { storeIds: claims.s.map(String) } : {}),
    ...(typeof claims.c === 'string' ? { customerId: claims.c } : {}),
    ...(typeof claims.a === 'string' ? { actor: claims.a } : {}),
    nonce: claims.n,
    expiresAt: claims.exp,
    singleUse: claims.u === 1,
  };
}

/** A secret for one process (development): every service in it shares it. */
export const generateSecret = () => randomBytes(32).toString('base64url');
