import { createHash } from 'node:crypto';
import { buildOperationContext, type ApolloGateway, type GraphQLDataSource } from '@apollo/gateway';
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import { operationFromDocument, type Schema } from '@apollo/federation-internals';
import type { QueryPlan, QueryPlanner } from '@apollo/query-planner';
import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import type { GraphQLSchema } from 'graphql';
import { getVariableValues } from 'graphql/execution/values.js';
import { executePlan, type SendToSubgraph, type SubgraphResponse } from './execute.js';
import { executeIncremental } from './incremental.js';
import { UnsupportedPlan } from './schedule.js';
import { stripStream, streamFieldsOf, usesIncrementalDelivery } from './stream-fields.js';
import { incrementalFormat } from '../incremental/incremental-format.js';
import { SubgraphDataSource } from '../subgraph-data-source.js';
import type { GatewayContext } from '../gateway-context.js';

/** Which executor runs query plans: ours (`own`) or Apollo's `executeQueryPlan` (GATEWAY_EXECUTOR). */
export type ExecutorKind = 'own' | 'apollo';

/** What runs plans when GATEWAY_EXECUTOR is not set. */
export const DEFAULT_EXECUTOR: ExecutorKind = 'own';

/** The parts of a loaded ApolloGateway this executor uses: its planner and plan cache, its schemas. */
interface GatewayInternals {
  schema: GraphQLSchema;
  apiSchema: Schema;
  supergraphSchema: GraphQLSchema;
  queryPlanner: QueryPlanner;
  queryPlanStore: { get(key: string): Promise<QueryPlan | undefined>; set(key: string, plan: QueryPlan): Promise<void> };
}

/** Sends through the gateway's data sources (signing, tenancy headers, shared in-flight fetches). */
export function sendThrough(dataSources: Record<string, GraphQLDataSource>, requestContext: GatewayGraphQLRequestContext): SendToSubgraph {
  return async (service, request, path) => {
    const source = dataSources[service];
    if (!source) throw new Error(`Couldn't find service with name "${service}"`);
    if (source instanceof SubgraphDataSource) return (await source.send(request, requestContext.context as GatewayContext)) as SubgraphResponse;
    const response = await source.process({
      kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION,
      request: { query: request.query, variables: request.variables, operationName: request.operationName },
      incomingRequestContext: requestContext,
      context: requestContext.context,
      pathInIncomingRequest: path as never,
    } as never);
    return response as SubgraphResponse;
  };
}

/**
 * The gateway's executor with ours running the plans: Apollo's validation of variables, its
 * query planner and plan cache (the same keys), then `executePlan`. A client that takes
 * incremental delivery (multipart/mixed with a defer or incremental spec) gets a plan with
 * `@defer` (the planner's) or a list with `@stream` (ours) as a stream of payloads
 * (`executeIncremental`); any other client gets the whole result at once. Plans it does not run
 * go to Apollo's executor. `schema` is the served one (with `@defer` and `@stream`).
 */
export function ownExecutor(
  gateway: ApolloGateway,
  dataSources: Record<string, GraphQLDataSource>,
  options: { onRequest?: (service: string) => void; schema?: GraphQLSchema } = {},
): GatewayExecutor {
  const { onRequest } = options;
  const apollo = gateway.executor;
  const internals = gateway as unknown as GatewayInternals;
  return async (requestContext) => {
    const { request, queryHash } = requestContext;
    const schema = options.schema ?? internals.schema;
    // The planner does not know @stream: the gateway streams a list's items itself, after shaping.
    const document = stripStream(requestContext.document);
    const operationContext = buildOperationContext({ schema, operationDocument: document, operationName: request.operationName });
    const definitions = operationContext.operation.variableDefinitions;
    if (definitions && definitions.length > 0) {
      const { errors } = getVariableValues(operationContext.schema, definitions, request.variables ?? {});
      if (errors) return { errors };
    }
    const key = request.operationName ? createHash('sha256').update(queryHash).update(request.operationName).digest('hex') : queryHash;
    let plan = await internals.queryPlanStore.get(key);
    if (!plan) {
      plan = internals.queryPlanner.buildQueryPlan(operationFromDocument(internals.apiSchema, document, { operationName: request.operationName }));
      await internals.queryPlanStore.set(key, plan).catch(() => {});
    }
    const executeOptions = {
      plan,
      operationContext,
      variables: request.variables,
      supergraphSchema: internals.supergraphSchema,
      apiSchema: internals.apiSchema,
      send: sendThrough(dataSources, requestContext),
      onRequest,
    };
    try {
      if (usesIncrementalDelivery(requestContext.document)) {
        const original = buildOperationContext({ schema, operationDocument: requestContext.document, operationName: request.operationName });
        const found = streamFieldsOf(schema, original.operation, original.fragments, request.variables);
        if ('error' in found) return { errors: [found.error] };
        // The payloads as an async iterable, which yoga writes as multipart (use-incremental-delivery.ts);
        // a client that takes no multipart gets the whole result at once.
        if (incrementalFormat((requestContext.context as Partial<GatewayContext>).request?.headers.get('accept')))
          return (await executeIncremental(executeOptions, found.streams)) as never;
      }
      return await executePlan(executeOptions);
    } catch (error) {
      if (error instanceof UnsupportedPlan) return apollo(requestContext);
      throw error;
    }
  };
}
