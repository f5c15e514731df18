import { createHmac } from 'node:crypto';
import { jose } from '../jose.js';

/**
 * Customers' access tokens as the tenant subgraph issues them (`customerLogin`): HS256 JWTs with
 * the claims staff JWTs carry (`tenant` slug, `roles: ["customer"]`, `sub` = customer id), signed
 * with a key derived from the secret the gateway and the subgraphs already share, so the gateway
 * verifies them with its ordinary JWT verifier and no new secret is distributed.
 */
export const CUSTOMER_TOKEN_ISSUER = 'commerce:tenant';
/** Lifetime of an access token; the refresh token gets a new one. */
export const CUSTOMER_TOKEN_TTL_SECONDS = 15 * 60;

/** The HS256 key of customer tokens, as text (jose's verifier takes the secret's bytes). */
export const customerTokenKey = (secret: string): string =>
  createHmac('sha256', secret).update('commerce customer token v1').digest('base64url');

export function signCustomerToken(secret: string, claims: { tenantSlug: string; customerId: string }, now = Date.now()): Promise<string> {
  const issuedAt = Math.floor(now / 1000);
  // jose is loaded here, not where the issuer constant is imported (the gateway imports that).
  const { SignJWT } = jose();
  return new SignJWT({ tenant: claims.tenantSlug, roles: ['customer'] })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.customerId)
    .setIssuer(CUSTOMER_TOKEN_ISSUER)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + CUSTOMER_TOKEN_TTL_SECONDS)
    .sign(new TextEncoder().encode(customerTokenKey(secret)));
}
