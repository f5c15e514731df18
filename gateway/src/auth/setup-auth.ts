import type { GraphQLSchema } from 'graphql';
import { CUSTOMER_TOKEN_ISSUER, customerTokenKey } from '../../../lib/tenant/customer-token.js';
import { createMemoryRateLimitStore, type RateLimitStore } from '../limits/rate-limiter.js';
import type { SubgraphClient } from '../subgraph-client.js';
import { limitAuthFailures } from './auth-failure-limit.js';
import { createAuthenticator } from './authenticator.js';
import type { ClientAddressOf } from './client-address.js';
import { createJwtVerifier, type JwtOptions } from './jwt-verifier.js';
import type { ScopeRules } from './scopes.js';
import { createTenantDirectory } from './tenant-directory.js';
import { useAuth } from './use-auth.js';

/** The gateway's commerce identity (`GatewayOptions.auth`). */
export interface AuthOptions {
  /** Shared with the subgraphs (SUBGRAPH_SECRET). */
  subgraphSecret: string;
  /** The credential of the `platform` role (PLATFORM_API_KEY). */
  platformApiKey?: string;
  jwt?: JwtOptions;
  /** Introspection without credentials (default true; off in production). */
  anonymousIntrospection?: boolean;
  /** The subgraph that knows tenants and API keys (default `tenant`). */
  tenantSubgraph?: string;
  /** Requests per minute per API key or token, and per anonymous client (defaults 1200 and 300). */
  rateLimit?: { store?: RateLimitStore; perMinute?: { authenticated: number; anonymous: number } };
  /** Failed authentications a minute per client address before it gets 429 for the rest of the minute (default 30). */
  authFailuresPerMinute?: number;
}

/**
 * What authentication is made of: the tenant directory (over the subgraph client), the JWT
 * verifiers, the rate-limit store, the authenticator every entry point uses (counting failed
 * attempts per client address) and the request plugin that applies it to GraphQL.
 */
export function setUpAuth(
  auth: AuthOptions,
  deps: { urls: Record<string, string>; client: SubgraphClient; schema: GraphQLSchema; rules: ScopeRules; partnerSchema?: () => GraphQLSchema; clientAddress: ClientAddressOf },
) {
  const tenantSubgraph = auth.tenantSubgraph ?? 'tenant';
  if (!deps.urls[tenantSubgraph]) throw new Error(`auth needs the "${tenantSubgraph}" subgraph, which the supergraph lacks`);
  const directory = createTenantDirectory({ client: deps.client, subgraph: tenantSubgraph });
  const store = auth.rateLimit?.store ?? createMemoryRateLimitStore();
  // Counts failed authentications per client address; what every entry point authenticates with.
  const authenticator = limitAuthFailures(
    createAuthenticator({
      directory,
      verifyJwt: auth.jwt ? createJwtVerifier(auth.jwt) : undefined,
      verifyCustomerJwt: createJwtVerifier({ secret: customerTokenKey(auth.subgraphSecret), issuer: CUSTOMER_TOKEN_ISSUER }),
      platformApiKey: auth.platformApiKey,
    }),
    { store, perMinute: auth.authFailuresPerMinute ?? 30 },
  );
  const perMinute = auth.rateLimit?.perMinute ?? { authenticated: 1200, anonymous: 300 };
  const anonymousIntrospection = auth.anonymousIntrospection ?? true;
  const plugin = useAuth({ authenticator, schema: deps.schema, rules: deps.rules, anonymousIntrospection, partnerSchema: deps.partnerSchema, clientAddress: deps.clientAddress, rateLimit: { store, perMinute } });
  return { directory, store, authenticator, plugin };
}
