import { readFileSync } from 'node:fs';
import type { JWTVerifyGetKey, KeyLike } from 'jose';
import { appError } from '../../../lib/errors.js';
import { jose } from '../../../lib/jose.js';

export interface JwtOptions {
  /** HS256 secret (JWT_SECRET). */
  secret?: string;
  /** RS256/ES256 public key, PEM (JWT_PUBLIC_KEY). */
  publicKeyPem?: string;
  /** A JWKS file (JWT_JWKS_FILE). */
  jwksFile?: string;
  /** Expected `iss` and `aud`, when set. */
  issuer?: string;
  audience?: string;
}

export interface JwtClaims {
  tenant: string;
  roles: string[];
  /** Optional `stores` claim: the store ids the token may act on. */
  stores?: string[];
  subject: string | undefined;
  /** `exp`, in milliseconds since the epoch: sockets and streams opened with the token end then. */
  expiresAt: number;
}


/** Verifies JWTs with `jose`: signature, `exp` (required) and `nbf`; then the `tenant` and `roles` claims. */
export function createJwtVerifier(options: JwtOptions): ((token: string) => Promise<JwtClaims>) | undefined {
  const keys: { algorithms: string[]; key: () => Promise<KeyLike | Uint8Array | JWTVerifyGetKey> }[] = [];
  if (options.secret) {
    const secret = new TextEncoder().encode(options.secret);
    keys.push({ algorithms: ['HS256'], key: async () => secret });
  }
  if (options.publicKeyPem) {
    const pem = options.publicKeyPem;
    const imported = new Map<string, Promise<KeyLike>>();
    for (const alg of ['RS256', 'ES256']) {
      keys.push({
        algorithms: [alg],
        key: () => {
          if (!imported.has(alg)) imported.set(alg, jose().importSPKI(pem, alg));
          return imported.get(alg)!;
        },
      });
    }
  }
  if (options.jwksFile) {
    const jwks = jose().createLocalJWKSet(JSON.parse(readFileSync(options.jwksFile, 'utf8')));
    keys.push({ algorithms: ['RS256', 'ES256'], key: async () => jwks });
  }
  if (keys.length === 0) return undefined;
  const { jwtVerify } = jose();

  return async (token) => {
    let lastError: unknown;
    for (const { algorithms, key } of keys) {
      try {
        const resolved = await key();
        const { payload } = await jwtVerify(token, resolved as Parameters<typeof jwtVerify>[1] & Uint8Array, {
          algorithms,
          requiredClaims: ['exp'],
          issuer: options.issuer,
          audience: options.audience,
        });
        if (typeof payload.tenant !== 'string' || !Array.isArray(payload.roles) || !payload.roles.every((r) => typeof r === 'string')) {
          throw appError('UNAUTHENTICATED', 'The token needs a `tenant` claim and a `roles` array.');
        }
        const stores = Array.isArray(payload.stores) ? payload.stores.map(String) : undefined;
        return { tenant: payload.tenant, roles: payload.roles as string[], subject: payload.sub, expiresAt: payload.exp! * 1000, ...(stores ? { stores } : {}) };
      } catch (error) {
        lastError = error;
      }
    }
    if (lastError && typeof lastError === 'object' && 'extensions' in lastError) throw lastError;
    const reason = (lastError as { code?: string })?.code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid';
    throw appError('UNAUTHENTICATED', `The token is ${reason}.`);
  };
}
