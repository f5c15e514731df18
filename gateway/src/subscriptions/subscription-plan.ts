import { buildOperationContext, executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import { operationFromDocument, Supergraph } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type QueryPlan } from '@apollo/query-planner';
import {
  execute,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { getArgumentValues, getVariableValues } from 'graphql/execution/values.js';
import { checkInputBounds } from '../../../lib/graphql/check-input-bounds.js';
import { executePlan } from '../executor/execute.js';
import { sendThrough, type ExecutorKind } from '../executor/own-executor.js';

/** One subscription operation, validated and planned once, executed per event. */
export interface PreparedSubscription {
  /** The subscription field, e.g. `stockChanged`. */
  field: string;
  /** Its argument values, variables applied. */
  args: Record<string, unknown>;
  variables: Record<string, unknown>;
  document: DocumentNode;
  operationName: string | undefined;
  /** The subgraph that owns the field (and publishes its events). */
  primary: FetchNode;
  /** `primary` then `rest` of Apollo's SubscriptionNode, as one plan. */
  plan: QueryPlan;
  operationContext: ReturnType<typeof buildOperationContext>;
}

const invalid = (message: string, code = 'GRAPHQL_VALIDATION_FAILED') => new GraphQLError(message, { extensions: { code } });

/**
 * Plans subscriptions with Apollo's query planner and executes one event through the plan: the
 * event, shaped as the owning subgraph's field value, answers the primary fetch; `rest` fetches
 * the other subgraphs' fields as usual (entity fetches batched per subgraph).
 */
export class SubscriptionPlanner {
  /** Built by `warm()` or the first subscription: a second supergraph and query planner, a tenth of a later start's CPU (issue 13). */
  private built?: { planner: QueryPlanner; apiSchema: ReturnType<Supergraph['apiSchema']>; schema: GraphQLSchema; supergraphSchema: GraphQLSchema; subgraphSchemas: Map<string, GraphQLSchema> };
  /** Fetches sent to subgraphs while resolving events (the primary, answered by the event, not counted). */
  subgraphFetches = 0;

  constructor(
    private readonly supergraphSdl: string,
    private readonly dataSources: Record<string, GraphQLDataSource>,
    private readonly executor: ExecutorKind = 'apollo',
  ) {}

  /** Builds the planner now rather than on the first subscription. */
  warm(): void {
    void this.plans;
  }

  private get plans() {
    if (this.built) return this.built;
    const supergraph = Supergraph.build(this.supergraphSdl);
    const apiSchema = supergraph.apiSchema();
    const subgraphSchemas = new Map<string, GraphQLSchema>();
    for (const subgraph of supergraph.subgraphs()) subgraphSchemas.set(subgraph.name, subgraph.schema.toGraphQLJSSchema());
    this.built = {
      planner: new QueryPlanner(supergraph),
      apiSchema,
      schema: apiSchema.toGraphQLJSSchema(),
      supergraphSchema: supergraph.schema.toGraphQLJSSchema(),
      subgraphSchemas,
    };
    return this.built;
  }

  /** Validates and plans; throws GraphQLErrors a client can read. */
  prepare(query: string | DocumentNode, operationName: string | undefined, rawVariables: Record<string, unknown> | undefined): PreparedSubscription {
    let document: DocumentNode;
    try {
      document = typeof query === 'string' ? parse(query) : query;
    } catch (error) {
      throw invalid((error as Error).message, 'GRAPHQL_PARSE_FAILED');
    }
    const { planner, apiSchema, schema } = this.plans;
    const [error] = validate(schema, document);
    if (error) throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    const operation = getOperationAST(document, operationName);
    if (!operation) throw invalid(operationName ? `Unknown operation named "${operationName}".` : 'Must provide exactly one operation or an operation name.');
    if (operation.operation !== 'subscription') throw invalid('Not a subscription operation.', 'BAD_USER_INPUT');
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) throw new GraphQLError(coerced.errors[0]!.message, { extensions: { code: 'BAD_USER_INPUT' } });
    const variables = coerced.coerced;
    const outOfBounds = checkInputBounds(schema, document, operationName, rawVariables);
    if (outOfBounds) throw outOfBounds;
    const fieldNode = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD)!;
    const field = fieldNode.name.value;
    const fieldDef = schema.getSubscriptionType()!.getFields()[field]!;
    const args = getArgumentValues(fieldDef, fieldNode, variables);

    const planned = planner.buildQueryPlan(operationFromDocument(apiSchema, document, { operationName }));
    if (planned.node?.kind !== 'Subscription') throw invalid('This subscription cannot be planned.');
    const { primary, rest } = planned.node;
    const plan: QueryPlan = { kind: 'QueryPlan', node: rest ? { kind: 'Sequence', nodes: [primary, rest] } : primary };
    const operationContext = buildOperationContext({ schema, operationDocument: document, operationName });
    return { field, args, variables, document, operationName, primary, plan, operationContext };
  }

  /** Resolves one event into the full payload for the prepared operation. */
  async execute(prepared: PreparedSubscription, payload: unknown, context: Record<string, unknown>): Promise<ExecutionResult> {
    const { primary } = prepared;
    const { apiSchema, supergraphSchema, subgraphSchemas } = this.plans;
    const owner = this.dataSources[primary.serviceName]!;
    const subgraphSchema = subgraphSchemas.get(primary.serviceName)!;
    const primaryDocument = primary.operationDocumentNode ?? parse(primary.operation);
    // The primary fetch is answered by the event: the field's value as its subgraph resolves it.
    const answerPrimary = (variables: Record<string, unknown> | undefined) =>
      execute({ schema: subgraphSchema, document: primaryDocument, rootValue: { [prepared.field]: payload }, variableValues: variables });
    const requestContext = { request: { query: '', variables: prepared.variables, operationName: prepared.operationName }, context, logger: console } as never;
    if (this.executor === 'own') {
      const send = sendThrough(this.dataSources, requestContext);
      return executePlan({
        plan: prepared.plan,
        operationContext: prepared.operationContext,
        variables: prepared.variables,
        supergraphSchema,
        apiSchema,
        send: async (service, request, path) => {
          if (service === primary.serviceName && request.query === primary.operation) return (await answerPrimary(request.variables)) as never;
          this.subgraphFetches += 1;
          return send(service, request, path);
        },
      });
    }
    const counted = (source: GraphQLDataSource): GraphQLDataSource => ({
      process: (options) => {
        this.subgraphFetches += 1;
        return source.process(options);
      },
    });
    const serviceMap: Record<string, GraphQLDataSource> = {
      ...Object.fromEntries(Object.entries(this.dataSources).map(([name, source]) => [name, counted(source)])),
      [primary.serviceName]: {
        process: async (options) => {
          if (options.request.query !== primary.operation) {
            this.subgraphFetches += 1;
            return owner.process(options);
          }
          return (await answerPrimary(options.request.variables)) as never;
        },
      },
    };
    return executeQueryPlan(
      prepared.plan,
      serviceMap,
      requestContext,
      prepared.operationContext,
      supergraphSchema,
      apiSchema,
    );
  }
}
