import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../gateway-context.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import { PERSISTED_QUERY_BOUNDS, type PersistedQueryStore } from './persisted-query-store.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

const persistedError = (message: string, code: string, status: number, spec = false) =>
  new GraphQLError(message, { extensions: { code, http: { status, spec, headers: { 'cache-control': 'private, no-cache, must-revalidate' } } } });

/**
 * Apollo's automatic persisted queries (`extensions.persistedQuery: { version: 1, sha256Hash }`),
 * over POST and GET. A hash the tenant has not registered is answered `PersistedQueryNotFound`
 * (`PERSISTED_QUERY_NOT_FOUND`); the client then sends the query with its hash, which must match,
 * and the document is kept for the tenant once it has run (authenticated, valid, within limits).
 * Documents are per tenant: the caller is authenticated here to know whose they are, with the
 * same failure count as the pipeline.
 */
export function usePersistedQueries(options: {
  store: PersistedQueryStore;
  /** Absent (a plain gateway): one scope for everyone. */
  authenticator?: Authenticator;
  clientAddress?: ClientAddressOf;
}): Plugin<GatewayContext> {
  // The registration a request carries, kept once its operation runs.
  const pending = new WeakMap<Request, { scope: string; hash: string; query: string }>();
  const scopeOf = async (request: Request, context: Record<string, unknown>): Promise<string> => {
    if (!options.authenticator) return 'all';
    const req = context.req as Parameters<ClientAddressOf>[0] | undefined;
    const address = options.clientAddress ? options.clientAddress(req) : (req?.socket?.remoteAddress ?? 'unknown');
    const identity = await options.authenticator.authenticate(request.headers, address);
    return identity.tenant?.id ?? identity.kind;
  };
  const register = (request: Request) => {
    const registration = pending.get(request);
    if (!registration) return;
    pending.delete(request);
    return options.store.set(registration.scope, registration.hash, registration.query);
  };
  return {
    async onParams({ params, setParams, setResult: answer, request, context }) {
      // Yoga's own check of the parameters runs after this hook whatever it answered: give it a query it accepts (never run).
      const setResult = (result: { errors: GraphQLError[] }) => {
        setParams({ ...params, query: '{ __typename }' });
        answer(result);
      };
      const persisted = (params.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
      if (persisted === undefined || persisted === null) return;
      const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
      if (version !== 1) return setResult({ errors: [persistedError('PersistedQueryNotSupported', 'PERSISTED_QUERY_NOT_SUPPORTED', 400)] });
      if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash)) {
        return setResult({ errors: [persistedError('extensions.persistedQuery.sha256Hash must be 64 lower-case hexadecimal digits.', 'BAD_USER_INPUT', 400)] });
      }
      let scope: string;
      try {
        scope = await scopeOf(request, context);
      } catch (error) {
        return setResult({ errors: [error instanceof GraphQLError ? error : persistedError('Authentication failed.', 'INTERNAL_SERVER_ERROR', 500)] });
      }
      if (typeof params.query === 'string' && params.query.length > 0) {
        if (createHash('sha256').update(params.query).digest('hex') !== sha256Hash) {
          return setResult({ errors: [persistedError('provided sha does not match query', 'BAD_USER_INPUT', 400)] });
        }
        if (params.query.length <= PERSISTED_QUERY_BOUNDS.maxDocumentBytes) pending.set(request, { scope, hash: sha256Hash, query: params.query });
        return;
      }
      const query = await options.store.get(scope, sha256Hash);
      // 200 under application/json, as Apollo Server answers it; 400 under application/graphql-response+json (no data).
      if (query === undefined) return setResult({ errors: [persistedError('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND', 400, true)] });
      setParams({ ...params, query });
    },
    onExecute: ({ args }) => register(args.contextValue.request),
    onSubscribe: ({ args }) => register(args.contextValue.request),
  };
}
