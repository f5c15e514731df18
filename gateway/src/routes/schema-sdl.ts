import type { IncomingMessage } from 'node:http';
import { GraphQLError, printSchema, type GraphQLSchema } from 'graphql';
import type { AuthFailureLimit } from '../auth/auth-failure-limit.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import { schemaForRoles } from '../auth/schema-for-roles.js';
import type { ScopeRules } from '../auth/scopes.js';
import { isPartnerOnly } from '../auth/use-auth.js';
import { useRoute } from './route.js';

export interface SchemaSdlOptions {
  schema: GraphQLSchema;
  /** Absent: a plain gateway, whose whole schema anyone may read. */
  auth?: { authenticator: AuthFailureLimit; clientAddress: ClientAddressOf; rules: ScopeRules; partnerSchema: () => GraphQLSchema; anonymousIntrospection: boolean };
}

/** `GET /schema.graphql`: the SDL the caller may see (the partner contract for a partner key, the storefront's without a credential). */
export function useSchemaSdl(options: SchemaSdlOptions) {
  let whole: string | undefined;
  let storefront: string | undefined;
  const answer = (status: number, body: string, retryAfter?: number) =>
    new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) } });
  return useRoute<{ req?: IncomingMessage }>(
    (path, request) => request.method === 'GET' && path === '/schema.graphql',
    async (request, { req }) => {
      const { auth } = options;
      if (!auth) return answer(200, (whole ??= printSchema(options.schema)));
      if (!request.headers.has('authorization') && !request.headers.has('x-api-key')) {
        // An anonymous caller is a storefront: it gets the schema a storefront may use, no more.
        if (!auth.anonymousIntrospection) return answer(401, '# This schema needs credentials.\n');
        return answer(200, (storefront ??= printSchema(schemaForRoles(options.schema, auth.rules, ['storefront']))));
      }
      try {
        const identity = await auth.authenticator.authenticate(request.headers, auth.clientAddress(req));
        return answer(200, printSchema(isPartnerOnly(identity.roles) ? auth.partnerSchema() : options.schema));
      } catch (error) {
        const retryAfter = error instanceof GraphQLError ? (error.extensions?.retryAfterSeconds as number | undefined) : undefined;
        return answer(retryAfter === undefined ? 401 : 429, `# ${error instanceof Error ? error.message : 'Unauthenticated'}\n`, retryAfter);
      }
    },
  );
}
