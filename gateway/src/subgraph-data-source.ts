import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { CONTEXT_HEADER, REQUEST_ID_HEADER } from '../../lib/tenant/signed-context.js';
import { actorOf } from './auth/authenticator.js';
import type { GatewayContext } from './gateway-context.js';
import { isMutation, type SubgraphClient, type SubgraphReply } from './subgraph-client.js';

/** Internal: carries the sharing key from willSendRequest to the fetcher; never sent. */
const SHARE_HEADER = 'x-gateway-share-key';

/**
 * Sends each subgraph fetch with the caller's tenant, roles and request id, signed with the
 * secret the subgraphs share (never the client's own copy of that header), and turns a subgraph
 * that cannot be reached into a clean error on its fields, not a message naming internal addresses.
 */
/** Who is asking (tenant, roles, stores, customer): callers with the same key get the same answers. */
const shareKeyOf = (context: GatewayContext | undefined) => {
  const who = context?.identity;
  return who ? `${who.tenant?.id ?? ''}|${who.roles.join(',')}|${who.storeIds?.join(',') ?? '*'}|${who.customerId ?? ''}` : '-';
};

export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraphName: string,
    url: string,
    private readonly client: SubgraphClient,
  ) {
    // The pooled client, not Apollo's default fetch stack (new connections under load);
    // identical queries of the same caller in flight together are sent once.
    super({
      url,
      fetcher: (async (target: string, init: { headers: Record<string, string>; body: string }) => {
        const { [SHARE_HEADER]: shareKey, ...headers } = init.headers;
        const reply = await client.post(subgraphName, target, headers, init.body, shareKey === undefined ? null : shareKey);
        return new Response(reply.text, { status: reply.status, headers: reply.contentType ? { 'content-type': reply.contentType } : {} });
      }) as never,
    });
  }

  /**
   * One operation sent as `process` sends it (the same headers, signature, sharing and errors),
   * without its detours (a Headers object, a Response, a second parse): what our executor calls.
   */
  async send(request: { query: string; variables: Record<string, unknown>; operationName: string | undefined }, context: GatewayContext | undefined): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (context?.requestId) headers[REQUEST_ID_HEADER] = context.requestId;
    const identity = context?.identity;
    // Signed only when it is sent: a fetch that joins an identical one in flight never is (the
    // signature, bound to the query and every variable, was a tenth of the gateway's work on
    // concurrent storefront reads, where almost every fetch is shared).
    const sign = () =>
      this.client.sign(
        { tenantId: identity?.tenant?.id, roles: identity?.roles ?? [], storeIds: identity?.storeIds, customerId: identity?.customerId, actor: actorOf(identity) },
        context?.requestId ?? '',
        { query: request.query, variables: request.variables, operationName: request.operationName },
      );
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName });
    let reply;
    try {
      reply = await this.client.post(this.subgraphName, this.url!, headers, body, isMutation(request.query) ? null : shareKeyOf(context), sign);
    } catch {
      throw this.client.unavailable(this.subgraphName);
    }
    if (reply.status >= 200 && reply.status < 300 && reply.contentType && /^application\/(graphql-response\+)?json/.test(reply.contentType)) {
      const parsed = parsedOnce(reply);
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
      throw this.client.unavailable(this.subgraphName);
    }
    if (reply.status >= 200 && reply.status < 300) throw this.client.unavailable(this.subgraphName);
    // Refused: the error Apollo's data source makes of it (status, body), passed through.
    throw await this.errorFromResponse(new Response(reply.text, { status: reply.status, headers: reply.contentType ? { 'content-type': reply.contentType } : {} }) as never);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    headers.delete(CONTEXT_HEADER);
    headers.delete(SHARE_HEADER);
    // Who is asking decides the answer (tenant, roles, stores): the key under which identical
    // queries may share one subgraph request. Never for mutations.
    if (!isMutation(request.query)) headers.set(SHARE_HEADER, shareKeyOf(context as GatewayContext | undefined));
    if (context?.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
    const identity = context?.identity;
    // Bound to this fetch: its operation and variables, exactly as they are sent.
    const signed = this.client.sign(
      { tenantId: identity?.tenant?.id, roles: identity?.roles ?? [], storeIds: identity?.storeIds, customerId: identity?.customerId, actor: actorOf(identity) },
      context?.requestId ?? '',
      { query: request.query ?? '', variables: request.variables, operationName: request.operationName },
    );
    for (const [name, value] of Object.entries(signed)) headers.set(name, value);
  }

  override didEncounterError(error: Error): void {
    if (error instanceof GraphQLError) throw error;
    throw this.client.unavailable(this.subgraphName);
  }
}

/**
 * A reply's text parsed once for every caller sharing it. Shared by several, its `data` is
 * frozen (deeply): the executor merges into its own tree and copies a frozen object only where it
 * must write (`gateway/src/executor/execute.ts`), so no caller sees another's merges, and a write
 * that forgot to copy throws instead of leaking into another request's answer. A reply of one
 * caller is its own to merge into. The parse fails for every caller alike (`null`).
 */
function parsedOnce(reply: SubgraphReply): unknown {
  if (reply.parsed !== undefined) return reply.parsed;
  let parsed: unknown;
  try {
    parsed = JSON.parse(reply.text);
  } catch {
    parsed = null;
  }
  if ((reply.callers ?? 1) > 1 && typeof parsed === 'object' && parsed !== null) {
    // Errors stay unfrozen: each caller builds its own errors from them and never writes to them.
    const data = (parsed as { data?: unknown }).data;
    if (typeof data === 'object' && data !== null) deepFreeze(data);
  }
  reply.parsed = parsed;
  return parsed;
}

function deepFreeze(value: object): void {
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) deepFreeze(item as object);
  } else {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) deepFreeze(item);
    }
  }
  Object.freeze(value);
}
