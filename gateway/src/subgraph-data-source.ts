import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { REQUEST_ID_HEADER, TENANT_HEADER } from '../../lib/tenant/headers.js';
import type { GatewayContext } from './gateway-context.js';

/**
 * Sends each subgraph fetch with the resolved tenant and request id (never the client's own
 * copies of those headers), and turns a subgraph that cannot be reached into a clean error
 * on its fields instead of a message that names internal addresses.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    private readonly subgraphName: string,
    url: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http!.headers;
    headers.delete(TENANT_HEADER);
    if (context?.tenant) headers.set(TENANT_HEADER, context.tenant.id);
    if (context?.requestId) headers.set(REQUEST_ID_HEADER, context.requestId);
  }

  override didEncounterError(error: Error): void {
    if (error instanceof GraphQLError) throw error;
    throw new GraphQLError(`The ${this.subgraphName} service is unavailable.`, {
      extensions: { code: 'SERVICE_UNAVAILABLE', service: this.subgraphName },
    });
  }
}
