import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { DocumentNode } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { readCallerContext } from '../tenant/headers.js';
import { createMemoryReplayGuard, type ReplayGuard } from '../tenant/replay-guard.js';
import { routeRequest } from '../tenant/signed-context.js';
import { maskError } from './mask-error.js';
import { useGraphQLMetrics } from '../observability/graphql-metrics.js';
import { useTracing } from '../observability/tracing.js';
import { useRequestLog } from '../observability/request-log.js';
import { sensitiveCoordinates } from '../observability/sensitive-variables.js';
import type { Logger } from '../observability/logger.js';
import { serveMetrics } from '../observability/serve-metrics.js';
import { serveReadiness, type Checks } from '../observability/readiness.js';
import type { SubgraphContext, SubgraphService } from './service.js';

/**
 * Connections the kernel queues for an HTTP server before it accepts them (capped by
 * net.core.somaxconn). Node's default, 511, is smaller than a POS fleet reconnecting at once: the
 * surplus were reset or retried a second later.
 */
export const LISTEN_BACKLOG = 4096;

export interface YogaSubgraphOptions<C extends SubgraphContext> {
  name: string;
  /** Shared with the gateway; requests without a context it signed are refused. Omitted: no check (plain subgraphs). */
  secret?: string;
  /** Where single-use signed contexts (mutations) are remembered (default: this process's memory). */
  replayGuard?: ReplayGuard;
  typeDefs: DocumentNode;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  resolvers: GraphQLResolverMap<any>;
  /** Adds per-request parts (loaders) to the base context. */
  extendContext: (base: SubgraphContext) => C;
  /** Work started with the server (outbox relay, consumers), stopped after it. */
  onStart?: () => Promise<void>;
  onStop?: () => Promise<void>;
  /**
   * Plain HTTP endpoints beside /graphql (a streamed upload), by path; each gets the caller the
   * gateway signed, or a 401 without one.
   */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse, caller: SubgraphContext) => Promise<void>>;
  /** Structured request logs (one line per operation); none when absent. */
  logger?: Logger;
  /** What `GET /readyz` checks (its database and bus); absent: always ready. */
  readiness?: () => Promise<Checks>;
  log?: (message: string) => void;
}

/** A Federation 2 subgraph served by graphql-yoga on node:http at `/graphql`. */
export function buildYogaSubgraph<C extends SubgraphContext>(options: YogaSubgraphOptions<C>): SubgraphService {
  const log = options.log ?? console.error;
  const schema = buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers: options.resolvers });
  const guard = options.replayGuard ?? createMemoryReplayGuard();
  const anonymous = () => ({ tenantId: undefined, roles: [], requestId: crypto.randomUUID() });
  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    plugins: [useGraphQLMetrics(options.name), useTracing(options.name), ...(options.logger ? [useRequestLog(options.logger, { sensitive: sensitiveCoordinates(options.typeDefs) })] : [])],
    graphiql: false,
    landingPage: false,
    logging: false,
    maskedErrors: { maskError: (error) => maskError(error, log) },
    // The signature must be for this very operation and these variables (hashes in the context).
    context: async ({ request, params }) =>
      options.extendContext(
        options.secret
          ? await readCallerContext(request.headers, options.secret, { query: params.query ?? '', variables: params.variables, operationName: params.operationName }, guard)
          : anonymous(),
      ),
  });
  let server: Server | undefined;
  return {
    name: options.name,
    typeDefs: options.typeDefs,
    async start(port, host = '127.0.0.1') {
      await options.onStart?.();
      const routes = options.routes ?? {};
      server = createServer((req, res) => {
        if (serveMetrics(req, res)) return;
        if (serveReadiness(req, res, options.readiness ?? (async () => ({})))) return;
        const path = new URL(req.url ?? '/', 'http://subgraph').pathname;
        const route = routes[path];
        if (!route) return void yoga(req, res);
        // A plain route's signature is bound to its method and path, and good for one call.
        const caller: Promise<SubgraphContext> = options.secret
          ? readCallerContext(req.headers, options.secret, routeRequest(req.method ?? 'GET', path), guard)
          : Promise.resolve(anonymous());
        caller.then(
          (who) => route(req, res, who),
          (error: Error & { extensions?: { code?: string } }) => {
            const code = error.extensions?.code === 'SERVICE_UNAVAILABLE' ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
            res.writeHead(code === 'UNAUTHENTICATED' ? 401 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message: error.message } }));
            req.resume();
          },
        ).catch((error: unknown) => {
          log(`${options.name}: ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Unexpected error."}}');
        });
      });
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
      });
      const address = server.address() as AddressInfo;
      return `http://${host}:${address.port}/graphql`;
    },
    async stop() {
      if (server) {
        // No new connections; requests in flight may finish (5 s at most), idle ones close now.
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        const idle = setInterval(() => server!.closeIdleConnections(), 25);
        server.closeIdleConnections();
        const drained = await Promise.race([closing.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5_000).unref())]);
        clearInterval(idle);
        if (!drained) server.closeAllConnections();
        await closing;
        server = undefined;
      }
      await options.onStop?.();
      if (!options.replayGuard) await guard.close();
    },
  };
}
