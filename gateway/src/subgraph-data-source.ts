import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { CONTEXT_HEADER, REQUEST_ID_HEADER } from '../../lib/tenant/signed-context.js';
import type { GatewayContext } from './gateway-context.js';
import { isMutation, type SubgraphClient } from './subgraph-client.js';

/** Internal: carries the sharing key from willSendRequest to the fetcher; never sent. */
const SHARE_HEADER = 'x-gateway-share-key';

/**
 * Sends each subgraph fetch with the caller's tenant, roles and request id, signed with the
 * secret the subgraphs share (never the client's own copy of that header), and turns a subgraph
 * that cannot be reached into a clean error on its fields, not a message naming internal addresses.
 */
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

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    headers.delete(CONTEXT_HEADER);
    headers.delete(SHARE_HEADER);
    // Who is asking decides the answer (tenant, roles, stores): the key under which identical
    // queries may share one subgraph request. Never for mutations.
    if (!isMutation(request.query)) {
      const who = context?.identity;
      headers.set(SHARE_HEADER, who ? `${who.tenant?.id ?? ''}|${who.roles.join(',')}|${who.storeIds?.join(',') ?? '*'}` : '-');
    }
    if (context?.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
    const identity = context?.identity;
    // Bound to this fetch: its operation and variables, exactly as they are sent.
    const signed = this.client.sign(
      { tenantId: identity?.tenant?.id, roles: identity?.roles ?? [], storeIds: identity?.storeIds },
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
