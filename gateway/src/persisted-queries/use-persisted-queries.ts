import { metrics } from '../../../lib/observability/metrics.js';
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../gateway-context.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { ClientAddressOf } from '../auth/client-address.js';
import type { Identity } from '../auth/authenticator.js';
import type { TenantDirectory } from '../auth/tenant-directory.js';
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
 *
 * Trusted documents too: a request names a document its tenant published
 * (publishPersistedDocuments) by `documentId` (in the POST body or the GET parameters), or by the
 * APQ hash, which finds a published document before a registered one. An API key created with
 * `persistedDocumentsOnly` runs nothing else: a query is `PERSISTED_DOCUMENT_REQUIRED` (it cannot
 * register one through APQ either), an id its tenant did not publish `PERSISTED_DOCUMENT_NOT_FOUND`.
 */
export function usePersistedQueries(options: {
  store: PersistedQueryStore;
  /** Absent (a plain gateway): one scope for everyone. */
  authenticator?: Authenticator;
  clientAddress?: ClientAddressOf;
  /** Where published documents are found (the tenant subgraph); absent: no trusted documents. */
  directory?: TenantDirectory;
  /** Called with the id of each published document a request runs (metrics). */
  onDocument?: (documentId: string) => void;
}): Plugin<GatewayContext> {
  // The registration a request carries, kept once its operation runs.
  const pending = new WeakMap<Request, { scope: string; hash: string; query: string }>();
  const identityOf = async (request: Request, context: Record<string, unknown>): Promise<Identity | undefined> => {
    if (!options.authenticator) return undefined;
    const req = context.req as Parameters<ClientAddressOf>[0] | undefined;
    const address = options.clientAddress ? options.clientAddress(req) : (req?.socket?.remoteAddress ?? 'unknown');
    return options.authenticator.authenticate(request.headers, address);
  };
  const scopeOf = (identity: Identity | undefined) => (identity ? (identity.tenant?.id ?? identity.kind) : 'all');
  const published = async (identity: Identity | undefined, documentId: string) =>
    identity?.tenant && options.directory ? options.directory.persistedDocument(identity.tenant.id, documentId) : null;
  const register = (request: Request) => {
    const registration = pending.get(request);
    if (!registration) return;
    pending.delete(request);
    return options.store.set(registration.scope, registration.hash, registration.query);
  };
  return {
    async onParams({ params, setParams, setResult: answer, request, context }) {
      // Yoga's own check of the parameters runs after this hook whatever it answered: give it a query it accepts (never run).
      const { documentId: bodyDocumentId, ...rest } = params as typeof params & { documentId?: unknown };
      const setResult = (result: { errors: GraphQLError[] }) => {
        setParams({ ...rest, query: '{ __typename }' });
        answer(result);
      };
      const documentId = bodyDocumentId ?? (request.method === 'GET' ? (new URL(request.url).searchParams.get('documentId') ?? undefined) : undefined);
      const persisted = (params.extensions as { persistedQuery?: unknown } | undefined)?.persistedQuery;
      // Only an API key may be persistedDocumentsOnly: a request without a credential is looked at only when it names a document.
      const credential = (request.headers.get('authorization')?.replace(/^Bearer\s+/i, '') ?? request.headers.get('x-api-key') ?? '').trim();
      // A JWT is never limited to documents: only API keys are looked at.
      const apiKey = credential.length > 0 && !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(credential);
      const needsIdentity = documentId !== undefined || (persisted !== undefined && persisted !== null) || (options.directory !== undefined && apiKey);
      let identity: Identity | undefined;
      if (needsIdentity && options.authenticator) {
        try {
          identity = await identityOf(request, context);
        } catch (error) {
          // Answered here: the pipeline would count the same failure again.
          return setResult({ errors: [error instanceof GraphQLError ? error : persistedError('Authentication failed.', 'INTERNAL_SERVER_ERROR', 500)] });
        }
      }
      const onlyDocuments = identity?.persistedDocumentsOnly === true;
      if (documentId !== undefined) {
        if (typeof documentId !== 'string' || documentId.length === 0 || documentId.length > 128) {
          return setResult({ errors: [persistedError('documentId must be a string of at most 128 characters.', 'BAD_USER_INPUT', 400)] });
        }
        if (typeof params.query === 'string' && params.query.length > 0) {
          return setResult({ errors: [persistedError('Send documentId or query, not both.', 'BAD_USER_INPUT', 400)] });
        }
        const body = await published(identity, documentId);
        if (body === null) return setResult({ errors: [persistedError(`No persisted document ${documentId} is published for this tenant.`, 'PERSISTED_DOCUMENT_NOT_FOUND', 400)] });
        options.onDocument?.(documentId);
        return setParams({ ...rest, query: body });
      }
      if (persisted === undefined || persisted === null) {
        if (onlyDocuments) return setResult({ errors: [persistedError('This API key runs published persisted documents only: send a documentId.', 'PERSISTED_DOCUMENT_REQUIRED', 400)] });
        return;
      }
      const { version, sha256Hash } = persisted as { version?: unknown; sha256Hash?: unknown };
      if (version !== 1) return setResult({ errors: [persistedError('PersistedQueryNotSupported', 'PERSISTED_QUERY_NOT_SUPPORTED', 400)] });
      if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash)) {
        return setResult({ errors: [persistedError('extensions.persistedQuery.sha256Hash must be 64 lower-case hexadecimal digits.', 'BAD_USER_INPUT', 400)] });
      }
      const scope = scopeOf(identity);
      if (typeof params.query === 'string' && params.query.length > 0) {
        if (onlyDocuments) return setResult({ errors: [persistedError('This API key runs published persisted documents only: it registers none.', 'PERSISTED_DOCUMENT_REQUIRED', 400)] });
        if (createHash('sha256').update(params.query).digest('hex') !== sha256Hash) {
          return setResult({ errors: [persistedError('provided sha does not match query', 'BAD_USER_INPUT', 400)] });
        }
        if (params.query.length <= PERSISTED_QUERY_BOUNDS.maxDocumentBytes) pending.set(request, { scope, hash: sha256Hash, query: params.query });
        return;
      }
      // A published document first: it needs no registration, and is all a persistedDocumentsOnly key runs.
      const body = await published(identity, sha256Hash);
      if (body !== null) {
        options.onDocument?.(sha256Hash);
        return setParams({ ...rest, query: body });
      }
      if (onlyDocuments) return setResult({ errors: [persistedError(`No persisted document ${sha256Hash} is published for this tenant.`, 'PERSISTED_DOCUMENT_NOT_FOUND', 400)] });
      const query = await options.store.get(scope, sha256Hash);
      // 200 under application/json, as Apollo Server answers it; 400 under application/graphql-response+json (no data).
      if (query === undefined) return setResult({ errors: [persistedError('PersistedQueryNotFound', 'PERSISTED_QUERY_NOT_FOUND', 400, true)] });
      setParams({ ...rest, query });
    },
    onExecute: ({ args }) => register(args.contextValue.request),
    onSubscribe: ({ args }) => register(args.contextValue.request),
  };
}

/**
 * Counts the published documents requests run in `gateway_persisted_documents_total`, by id: the first
 * 1,000 ids a gateway sees get a label of their own, the rest share `other` (a bounded label set).
 */
export function countPersistedDocuments(): (documentId: string) => void {
  const documentIds = new Set<string>();
  return (id) => {
    if (documentIds.size < 1_000) documentIds.add(id);
    metrics.persistedDocuments.inc({ document_id: documentIds.has(id) ? id : 'other' });
  };
}
