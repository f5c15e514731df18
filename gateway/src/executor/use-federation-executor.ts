import type { ApolloGateway } from '@apollo/gateway';
import { useApolloFederation } from '@envelop/apollo-federation';
import type { GraphQLSchema } from 'graphql';
import type { SubgraphDataSource } from '../subgraph-data-source.js';
import { ownExecutor, type ExecutorKind } from './own-executor.js';

/**
 * The federation plugin over Apollo's planner and plan cache either way; `own` runs the plans with
 * our executor (decision 0022) and serves `schema` (with @defer and @stream), `apollo` with Apollo's.
 */
export function useFederationExecutor(gateway: ApolloGateway, dataSources: Record<string, SubgraphDataSource>, schema: GraphQLSchema, kind: ExecutorKind) {
  return useApolloFederation({
    gateway:
      kind === 'own'
        ? ({
            schema,
            load: () => gateway.load(),
            onSchemaLoadOrUpdate: (callback: (update: object) => void) => gateway.onSchemaLoadOrUpdate((update) => callback({ ...update, apiSchema: schema })),
            executor: ownExecutor(gateway, dataSources, { schema }),
          } as never)
        : gateway,
  });
}
