import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import Fastify, { type FastifyInstance } from 'fastify';
import { getOperationAST, parse, type DocumentNode } from 'graphql';
import mercurius from 'mercurius';
import { isAppError } from '../../../lib/errors.js';
import { maskError } from '../../../lib/graphql/mask-error.js';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { subgraphHttp, type SubgraphHttp } from '../../../lib/graphql/subgraph-http.js';
import type { SubgraphDeps } from '../../../lib/graphql/yoga-subgraph.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { operationMetrics, outcomeCode } from '../../../lib/observability/graphql-metrics.js';
import { dependencyChecks } from '../../../lib/observability/readiness.js';
import { logOperation } from '../../../lib/observability/request-log.js';
import { sensitiveCoordinates } from '../../../lib/observability/sensitive-variables.js';
import { nameOperationSpan, traceRequest } from '../../../lib/observability/tracing.js';
import { readCallerContext } from '../../../lib/tenant/headers.js';
import { createMemoryReplayGuard } from '../../../lib/tenant/replay-guard.js';
import type { CallerContext, SignedRequest } from '../../../lib/tenant/signed-context.js';
import type { Context } from './context.js';
import { ordersAppliers } from './events/orders-consumers.js';
import { resolvers } from './resolvers/index.js';
import { OrderTransitionsService } from './services/order-transitions.service.js';
import { chooseWorkflowVersion, OrderWorkflows } from './services/order-workflow.js';
import { copiedFlagsOf } from '../../../lib/flags/flag-copy.js';
import { OrdersService } from './services/orders.service.js';
import { CartService } from './services/cart.service.js';
import { CheckoutService } from './services/checkout.service.js';
import { PaymentService } from './services/payment.service.js';
import { ShipmentService } from './services/shipment.service.js';
import { ReturnService } from './services/return.service.js';
import { manual } from '../../../lib/payments/manual.js';
import { createTestCard } from '../../../lib/payments/test-card.js';
import { OrderHooksService } from './hooks/order-hooks.service.js';
import { targetGuard, type TargetPolicy } from '../../../lib/outbound/target-policy.js';
import { setUpPlugins, withPluginReactions, type PluginEntry } from '../../../lib/plugins/load-plugins.js';
import { auditMutations } from '../../../lib/audit/audit-mutations.js';
import { auditResolvers, withResolvers } from '../../../lib/audit/audit-resolvers.js';
import { acceptGlobalIdArguments } from '../../../lib/graphql/global-id-arguments.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/**
 * Builds the orders subgraph, served by mercurius on fastify. The schema is built by
 * `@apollo/subgraph` because `@mercuriusjs/federation` speaks Federation 1 only.
 */
export function buildOrders(
  deps: SubgraphDeps,
  /** The workflow version new orders start on when the tenant's `order-workflow-version` flag does not say (default: the latest in workflows/). */
  /** `hookPolicy`: where decision hooks may call (default: public hosts, http allowed); `plugins`: in-process plug-ins. */
  /** `paymentWebhookUrl`: the gateway's base URL the test-card processor POSTs its confirmations to (unset: none are sent). */
  options: { workflowVersion?: number; hookPolicy?: TargetPolicy; plugins?: readonly PluginEntry[]; paymentWebhookUrl?: () => string | undefined } = {},
): SubgraphService {
  const workflows = OrderWorkflows.load(options.workflowVersion);
  let flush = () => Promise.resolve();
  const transitions = new OrderTransitionsService(deps.dataSource, () => flush(), workflows);
  const plugins = setUpPlugins('orders', options.plugins);
  const orderHooks = new OrderHooksService(deps.dataSource, () => flush(), targetGuard(options.hookPolicy ?? { requireHttps: false, allowedCidrs: [] }), plugins.deciders);
  transitions.decide = (ctx, subject) => orderHooks.decide(ctx, subject);
  const appliers = withPluginReactions(ordersAppliers(transitions), plugins.reactions);
  const flags = copiedFlagsOf(deps, 'orders');
  const lifecycle = subgraphLifecycle({ ...deps, source: 'orders', appliers });
  flush = lifecycle.flush;
  const chooseWorkflow = chooseWorkflowVersion(flags, workflows, (message) => deps.logger?.warn(message));
  const orders = new OrdersService(deps.dataSource, lifecycle.flush, transitions, chooseWorkflow, deps.secret);
  const carts = new CartService(deps.dataSource, lifecycle.flush, orders);
  const testCard = createTestCard({ sharedSecret: deps.secret, webhookBaseUrl: options.paymentWebhookUrl ?? (() => undefined), log: (message) => deps.logger?.warn(message) });
  const payments = new PaymentService(deps.dataSource, lifecycle.flush, transitions, { MANUAL: manual, TEST_CARD: testCard });
  transitions.beforeClientMove = (m, order, event) => payments.beforeClientMove(m, order, event);
  const checkout = new CheckoutService(carts, payments);
  const shipments = new ShipmentService(deps.dataSource, lifecycle.flush, transitions);
  const returns = new ReturnService(deps.dataSource, lifecycle.flush, payments);
  const sensitive = sensitiveCoordinates(typeDefs);
  // Every mutation is recorded in the audit log (lib/audit), and orders serves its part of `auditLog`.
  const audited = acceptGlobalIdArguments(auditMutations(withResolvers(resolvers as Record<string, unknown>, auditResolvers('orders', deps.dataSource)), { dataSource: deps.dataSource, sensitive }));
  const schema = buildSubgraphSchema({ typeDefs, resolvers: audited as never });
  let app: FastifyInstance | undefined;
  let http: SubgraphHttp | undefined;
  const guard = deps.replayGuard ?? createMemoryReplayGuard();
  const observe = operationMetrics('orders');

  const contextFor = (caller: CallerContext): Context => {
    const ctx: Context = {
      ...caller,
      flags: flags.client,
      orders,
      transitions,
      carts,
      checkout,
      payments,
      shipments,
      returns,
      orderHooks,
      loaders: {
        orderById: new DataLoader((ids) => orders.ordersByIds(ctx, ids)),
        linesByOrder: new DataLoader((ids) => orders.linesByOrderIds(ctx, ids)),
        historyByOrder: new DataLoader((ids) => transitions.historyByOrderIds(ctx, ids)),
        paymentsByOrder: new DataLoader((ids) => payments.paymentsByOrderIds(ctx, ids)),
        refundsByPayment: new DataLoader((ids) => payments.refundsByPaymentIds(ctx, ids)),
        shipmentsByOrder: new DataLoader((ids) => shipments.shipmentsByOrderIds(ctx, ids)),
        returnsByOrder: new DataLoader((ids) => returns.returnsByOrderIds(ctx, ids)),
      },
    };
    return ctx;
  };

  return {
    name: 'orders',
    typeDefs,
    async start(port, host = '127.0.0.1') {
      await lifecycle.start();
      await flags.start();
      // The HTTP side (metrics, readiness, drain) is the other subgraphs'; fastify serves the rest,
      // each request in a span of its own (mercurius has no execute hook to wrap).
      app = Fastify({
        logger: false,
        serverFactory: (handler) => {
          http = subgraphHttp((req, res) => traceRequest('orders', req, res, () => handler(req, res)), dependencyChecks(deps));
          return http.server;
        },
      });
      // Only the gateway may call: no valid signed context, no execution.
      const callers = new WeakMap<object, CallerContext>();
      app.addHook('preHandler', async (request, reply) => {
        try {
          callers.set(request, await readCallerContext(request.headers, deps.secret, signedRequestOf(request.method, request.body, request.query), guard));
        } catch (error) {
          if (!isAppError(error)) throw error;
          return reply.code(200).send({ data: null, errors: [{ message: error.message, extensions: error.extensions }] });
        }
      });
      await app.register(mercurius, {
        schema,
        path: '/graphql',
        graphiql: false,
        context: (request) => contextFor(callers.get(request)!),
        // Subgraph errors keep their codes; anything unexpected is masked. Always 200, as the
        // GraphQL-over-HTTP spec asks for a response with data.
        errorFormatter: (execution) => ({
          statusCode: 200,
          response: { data: execution.data ?? null, errors: execution.errors.map((e) => maskError(e)) },
        }),
      });
      // The same operation metrics, request log and span names as the yoga subgraphs.
      const runs = new WeakMap<object, { startedAt: number; document: DocumentNode; variables: Record<string, unknown> | null | undefined; done: (code: string) => void }>();
      app.graphql.addHook('preExecution', async (_schema, document, context, variables) => {
        const operation = getOperationAST(document);
        nameOperationSpan('orders', document);
        runs.set(context, { startedAt: performance.now(), document, variables, done: observe.start(operation?.name?.value) });
      });
      app.graphql.addHook('onResolution', async (execution, context) => {
        const run = runs.get(context);
        if (!run) return;
        run.done(outcomeCode(execution.errors));
        if (deps.logger) logOperation(deps.logger, sensitive, { schema, document: run.document, variables: run.variables, context, startedAt: run.startedAt, errors: execution.errors });
      });
      await app.ready();
      return http!.listen(port, host);
    },
    async stop() {
      await http?.close();
      await app?.close();
      app = undefined;
      http = undefined;
      await flags.stop();
      await lifecycle.stop();
      if (!deps.replayGuard) await guard.close();
    },
  };
}

/** The operation a request to /graphql carries (a JSON body, or the query string of a GET), as the gateway signed it. */
function signedRequestOf(method: string, body: unknown, query: unknown): SignedRequest {
  const source = (method === 'GET' ? query : body) as { query?: unknown; variables?: unknown; operationName?: unknown } | null | undefined;
  let variables = source?.variables;
  if (typeof variables === 'string') {
    try {
      variables = JSON.parse(variables);
    } catch {
      variables = undefined;
    }
  }
  return {
    query: typeof source?.query === 'string' ? source.query : '',
    variables: variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : null,
    operationName: typeof source?.operationName === 'string' ? source.operationName : null,
  };
}
