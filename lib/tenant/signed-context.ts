import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Who a subgraph request is for, as the gateway vouches for it: tenant, roles and request id,
 * signed with the secret the gateway and the subgraphs share (HMAC-SHA256), valid for a short
 * time. A subgraph trusts nothing else; a client cannot forge or replay it past its expiry.
 */
export const CONTEXT_HEADER = 'x-commerce-context';
export const REQUEST_ID_HEADER = 'x-request-id';

export type Role = 'storefront' | 'pos' | 'admin' | 'partner' | 'platform' | 'gateway';

export interface CallerContext {
  tenantId: string | undefined;
  roles: Role[];
  requestId: string;
  /** The stores a store-bound credential (a till's pos key) may act on; absent: every store of the tenant. */
  storeIds?: string[];
}

/** Default lifetime of a signed context: long enough for one request's fetches, no more. */
export const CONTEXT_TTL_MS = 30_000;

const b64 = (buffer: Buffer) => buffer.toString('base64url');
const mac = (secret: string, data: string) => createHmac('sha256', secret).update(data).digest();

export function signContext(context: CallerContext, secret: string, now = Date.now(), ttlMs = CONTEXT_TTL_MS): string {
  const body = b64(
    Buffer.from(JSON.stringify({ t: context.tenantId ?? null, r: context.roles, q: context.requestId, s: context.storeIds, exp: now + ttlMs })),
  );
  return `${body}.${b64(mac(secret, body))}`;
}

export class ContextRejected extends Error {
  override name = 'ContextRejected';
}

/** Verifies a signed context; throws ContextRejected (missing, malformed, wrongly signed, expired). */
export function verifyContext(header: string | null | undefined, secret: string, now = Date.now()): CallerContext {
  if (!header) throw new ContextRejected('missing signed context: call the gateway, not the subgraph');
  const [body, signature, extra] = header.split('.');
  if (!body || !signature || extra !== undefined) throw new ContextRejected('malformed signed context');
  const expected = mac(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new ContextRejected('invalid signature');
  let claims: { t: string | null; r: Role[]; q: string; s?: string[]; exp: number };
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new ContextRejected('malformed signed context');
  }
  if (typeof claims.exp !== 'number' || claims.exp < now) throw new ContextRejected('signed context expired');
  return {
    tenantId: claims.t ?? undefined,
    roles: Array.isArray(claims.r) ? claims.r : [],
    requestId: String(claims.q),
    ...(Array.isArray(claims.s) ? { storeIds: claims.s.map(String) } : {}),
  };
}

/** A secret for one process (development): every service in it shares it. */
export const generateSecret = () => randomBytes(32).toString('base64url');
