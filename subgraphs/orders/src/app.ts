import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildSubgraphSchema } from '@apollo/subgraph';
import DataLoader from 'dataloader';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse } from 'graphql';
import mercurius from 'mercurius';
import { getOperationAST } from 'graphql';
import { metrics, registry } from '../../../lib/observability/metrics.js';
import { allTrue, dependencyChecks } from '../../../lib/observability/readiness.js';
import type { Logger } from '../../../lib/observability/logger.js';
import { redactVariables, sensitiveCoordinates } from '../../../lib/observability/sensitive-variables.js';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../../../lib/events/event-bus.js';
import { maskError } from '../../../lib/graphql/mask-error.js';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { LISTEN_BACKLOG } from '../../../lib/graphql/yoga-subgraph.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { readCallerContext } from '../../../lib/tenant/headers.js';
import { isAppError } from '../../../lib/errors.js';
import type { CallerContext, SignedRequest } from '../../../lib/tenant/signed-context.js';
import { createMemoryReplayGuard, type ReplayGuard } from '../../../lib/tenant/replay-guard.js';
import type { Context } from './context.js';
import { ordersAppliers } from './events/orders-consumers.js';
import { resolvers } from './resolvers/index.js';
import { OrderTransitionsService } from './services/order-transitions.service.js';
import { OrderWorkflows } from './services/order-workflow.js';
import { OrdersService } from './services/orders.service.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/**
 * Builds the orders subgraph, served by mercurius on fastify. The schema is built by
 * `@apollo/subgraph` because `@mercuriusjs/federation` speaks Federation 1 only.
 */
export function buildOrders(
  deps: { dataSource: DataSource; bus: EventBus; secret: string; logger?: Logger; replayGuard?: ReplayGuard },
  /** The workflow version new orders start on (default: the latest in workflows/). */
  options: { workflowVersion?: number } = {},
): SubgraphService {
  const workflows = OrderWorkflows.load(options.workflowVersion);
  let flush = () => Promise.resolve();
  const transitions = new OrderTransitionsService(deps.dataSource, () => flush(), workflows);
  const lifecycle = subgraphLifecycle({ ...deps, source: 'orders', appliers: ordersAppliers(transitions) });
  flush = lifecycle.flush;
  const orders = new OrdersService(deps.dataSource, lifecycle.flush, transitions, workflows.current);
  const schema = buildSubgraphSchema({ typeDefs, resolvers: resolvers as never });
  const sensitive = sensitiveCoordinates(typeDefs);
  let app: FastifyInstance | undefined;
  const guard = deps.replayGuard ?? createMemoryReplayGuard();

  const contextFor = (caller: CallerContext): Context => {
    const ctx: Context = {
      ...caller,
      orders,
      transitions,
      loaders: {
        orderById: new DataLoader((ids) => orders.ordersByIds(ctx, ids)),
        linesByOrder: new DataLoader((ids) => orders.linesByOrderIds(ctx, ids)),
        historyByOrder: new DataLoader((ids) => transitions.historyByOrderIds(ctx, ids)),
      },
    };
    return ctx;
  };

  return {
    name: 'orders',
    typeDefs,
    async start(port, host = '127.0.0.1') {
      await lifecycle.start();
      app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
      // Only the gateway may call: no valid signed context, no execution.
      const callers = new WeakMap<object, CallerContext>();
      const ready = dependencyChecks(deps);
      app.get('/readyz', async (_request, reply) => {
        const checks = await ready();
        const ok = allTrue(checks);
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', ...checks });
      });
      app.get('/metrics', async (_request, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
      app.addHook('preHandler', async (request, reply) => {
        if (['/metrics', '/readyz'].includes(request.url.split('?')[0]!)) return;
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
      // The same operation metrics as the yoga subgraphs.
      const started = new WeakMap<object, { at: number; operation: string; variables: Record<string, unknown> | null | undefined }>();
      app.graphql.addHook('preExecution', async (schema, document, context, variables) => {
        // The variables as every service logs them: what the schema marks @sensitive redacted.
        started.set(context, { at: performance.now(), operation: getOperationAST(document)?.name?.value ?? 'anonymous', variables: redactVariables(schema, sensitive, document, undefined, variables) });
      });
      app.graphql.addHook('onResolution', async (execution, context) => {
        const run = started.get(context);
        if (!run) return;
        const code = execution.errors?.length ? String(execution.errors[0]!.extensions?.code ?? 'ERROR') : 'OK';
        metrics.graphqlRequests.inc({ service: 'orders', operation: run.operation.slice(0, 64), code });
        metrics.graphqlDuration.observe({ service: 'orders', operation: run.operation.slice(0, 64) }, (performance.now() - run.at) / 1000);
        const caller = context as unknown as Context;
        deps.logger?.[code === 'OK' ? 'info' : 'warn'](
          { requestId: caller.requestId, tenant: caller.tenantId, roles: caller.roles, operation: run.operation, durationMs: Math.round((performance.now() - run.at) * 100) / 100, code, variables: run.variables },
          'graphql operation',
        );
      });
      await app.listen({ port, host, backlog: LISTEN_BACKLOG });
      return `http://${host}:${(app.server.address() as AddressInfo).port}/graphql`;
    },
    async stop() {
      await app?.close();
      app = undefined;
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
