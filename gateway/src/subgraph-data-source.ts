import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, signContext } from '../../lib/tenant/signed-context.js';
import type { GatewayContext } from './gateway-context.js';

/**
 * Sends each subgraph fetch with the caller's tenant, roles and request id, signed with the
 * secret the subgraphs share (never the client's own copy of that header), and turns a subgraph
 * that cannot be reached into a clean error on its fields, not a message naming internal addresses.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraphName: string,
    url: string,
    private readonly secret: string | undefined,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    headers.delete(CONTEXT_HEADER);
    if (context?.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
    if (this.secret) {
      const identity = context?.identity;
      headers.set(
        CONTEXT_HEADER,
        signContext(
          { tenantId: identity?.tenant?.id, roles: identity?.roles ?? [], requestId: context?.requestId ?? '', storeIds: identity?.storeIds },
          this.secret,
        ),
      );
    }
  }

  override didEncounterError(error: Error): void {
    if (error instanceof GraphQLError) throw error;
    throw new GraphQLError(`The ${this.subgraphName} service is unavailable.`, {
      extensions: { code: 'SERVICE_UNAVAILABLE', service: this.subgraphName },
    });
  }
}
