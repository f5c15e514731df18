import { timingSafeEqual } from 'node:crypto';
import { appError } from '../../../lib/errors.js';
import { jose } from '../../../lib/jose.js';
import type { Role } from '../../../lib/tenant/signed-context.js';
import { CREDENTIAL_ROLES, roleOf } from '../../../lib/tenant/roles.js';
import type { JwtClaims } from './jwt-verifier.js';
import { hashApiKey } from '../../../lib/tenant/api-key-hash.js';
import { CUSTOMER_TOKEN_ISSUER } from '../../../lib/tenant/customer-token.js';
import type { ResolvedTenant, TenantDirectory } from './tenant-directory.js';

/** Who is calling, as the gateway established it. */
export interface Identity {
  tenant: ResolvedTenant | undefined;
  roles: Role[];
  /** How: no credential, an API key, a JWT, or the platform key. */
  kind: 'anonymous' | 'api-key' | 'jwt' | 'platform';
  /** Stable key for rate limits: the API key id, the token subject, or the client address. */
  subject: string;
  /** A store-bound credential's stores (a till's pos key, a JWT's `stores` claim). */
  storeIds?: string[];
  /** The API key's id: its revocation ends the sockets and streams opened with it. */
  apiKeyId?: string;
  /** An API key that runs only its tenant's published persisted documents (trusted documents). */
  persistedDocumentsOnly?: boolean;
  /** A JWT's `exp` (ms since the epoch): sockets and streams opened with it end then. */
  expiresAt?: number;
  /** Role `customer`: the token's subject, the only customer whose rows the subgraphs show. */
  customerId?: string;
}

/** Who acts, as the audit log names it: the credential's subject (`key:<id>`, `jwt:<tenant>:<sub>`, `platform`), or `anonymous`. */
export function actorOf(identity: Identity | undefined): string {
  return !identity || identity.kind === 'anonymous' ? 'anonymous' : identity.subject;
}

/** Roles a JWT or a tenant's API key may carry. Never `platform`: only the platform key is the platform. */

export interface Authenticator {
  /** Resolves the caller from request headers; throws UNAUTHENTICATED for bad or missing credentials. */
  authenticate(headers: Headers, clientAddress?: string): Promise<Identity>;
}

/**
 * Order: `Authorization: Bearer <credential>` or `x-api-key` (the platform key, a JWT or a
 * tenant's API key); without one, the anonymous storefront of the tenant named by `x-tenant-id`
 * or the `Host` header.
 */
export function createAuthenticator(options: {
  directory: TenantDirectory;
  verifyJwt?: (token: string) => Promise<JwtClaims>;
  /** Verifies the tokens the tenant subgraph issues to customers (`customerLogin`), issuer `commerce:tenant`. */
  verifyCustomerJwt?: (token: string) => Promise<JwtClaims>;
  platformApiKey?: string;
}): Authenticator {
  const platformKey = options.platformApiKey ? Buffer.from(options.platformApiKey) : undefined;
  const isPlatformKey = (credential: string) => {
    const given = Buffer.from(credential);
    return platformKey !== undefined && given.length === platformKey.length && timingSafeEqual(given, platformKey);
  };
  const tenantBySlug = async (slug: string) => {
    const tenant = await options.directory.bySlug(slug);
    if (!tenant) throw appError('UNAUTHENTICATED', `Unknown tenant "${slug}".`);
    return tenant;
  };

  return {
    async authenticate(headers, clientAddress = 'unknown') {
      const authorization = headers.get('authorization');
      let credential = headers.get('x-api-key')?.trim() || undefined;
      if (authorization) {
        const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
        if (!match) throw appError('UNAUTHENTICATED', 'Authorization must be "Bearer <API key or JWT>".');
        credential = match[1];
      }
      const slug = headers.get('x-tenant-id')?.trim() || undefined;

      if (credential) {
        if (isPlatformKey(credential)) {
          return { tenant: slug ? await tenantBySlug(slug) : undefined, roles: ['platform'], kind: 'platform', subject: 'platform' };
        }
        if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential)) {
          // Our own customers' tokens are told apart by their issuer, then verified like any other.
          const ours = issuerOf(credential) === CUSTOMER_TOKEN_ISSUER && options.verifyCustomerJwt;
          const verify = ours || options.verifyJwt;
          if (!verify) throw appError('UNAUTHENTICATED', 'This gateway accepts no JWTs (no key is configured).');
          const claims = await verify(credential);
          const roles = claims.roles.map((r) => roleOf(r)) as Role[];
          if (roles.length === 0 || !roles.every((r) => CREDENTIAL_ROLES.includes(r))) {
            throw appError('UNAUTHENTICATED', `The token's roles must be among ${CREDENTIAL_ROLES.join(', ')} (only the platform key is the platform).`);
          }
          // A customer is a person, not staff: the role stands alone, and its subject names the customer.
          const customer = roles.includes('customer');
          if (customer && (roles.length > 1 || !claims.subject)) throw appError('UNAUTHENTICATED', 'A customer token carries the role customer alone, and a `sub`.');
          if (ours && !customer) throw appError('UNAUTHENTICATED', 'The token is invalid.');
          return {
            tenant: await tenantBySlug(claims.tenant),
            roles,
            kind: 'jwt',
            subject: `jwt:${claims.tenant}:${claims.subject ?? 'anonymous'}`,
            expiresAt: claims.expiresAt,
            ...(claims.stores ? { storeIds: claims.stores } : {}),
            ...(customer ? { customerId: claims.subject } : {}),
          };
        }
        const key = await options.directory.byApiKeyHash(hashApiKey(credential));
        if (!key) throw appError('UNAUTHENTICATED', 'Invalid or revoked API key.');
        const role = roleOf(key.role);
        if (!role || !CREDENTIAL_ROLES.includes(role)) throw appError('UNAUTHENTICATED', 'Invalid or revoked API key.');
        return {
          tenant: key.tenant,
          roles: [role],
          kind: 'api-key',
          subject: `key:${key.apiKeyId}`,
          apiKeyId: key.apiKeyId,
          ...(key.storeIds ? { storeIds: key.storeIds } : {}),
          ...(key.persistedDocumentsOnly ? { persistedDocumentsOnly: true } : {}),
        };
      }

      const tenant = slug
        ? await tenantBySlug(slug)
        : await (async () => {
            const host = headers.get('host')?.toLowerCase().replace(/:\d+$/, '');
            return host ? options.directory.byHost(host) : null;
          })();
      if (!tenant) throw appError('UNAUTHENTICATED', 'No tenant: send credentials, x-tenant-id, or use a host name of the tenant.');
      return { tenant, roles: ['storefront'], kind: 'anonymous', subject: `ip:${clientAddress}` };
    },
  };
}

/** The `iss` a JWT claims, unverified: only to pick the key that verifies it. */
function issuerOf(token: string): string | undefined {
  try {
    return jose().decodeJwt(token).iss;
  } catch {
    return undefined;
  }
}
