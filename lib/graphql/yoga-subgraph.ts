import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/index.js';
import type { DocumentNode, ExecutionResult } from 'graphql';
import { createYoga, processRegularResult, type GraphQLParams } from 'graphql-yoga';
import { readCallerContext } from '../tenant/headers.js';
import { createMemoryReplayGuard, type ReplayGuard } from '../tenant/replay-guard.js';
import { routeRequest } from '../tenant/signed-context.js';
import { maskError } from './mask-error.js';
import { useGraphQLMetrics } from '../observability/graphql-metrics.js';
import { useTracing } from '../observability/tracing.js';
import { useRequestLog } from '../observability/request-log.js';
import { sensitiveCoordinates } from '../observability/sensitive-variables.js';
import type { Logger } from '../observability/logger.js';
import { dependencyChecks, type Checks } from '../observability/readiness.js';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../events/event-bus.js';
import { subgraphHttp, type SubgraphHttp } from './subgraph-http.js';
import type { InProcessEndpoint, SubgraphContext, SubgraphService } from './service.js';
import { auditMutations, auditRoute } from '../audit/audit-mutations.js';
import { auditResolvers, withResolvers } from '../audit/audit-resolvers.js';
import { acceptGlobalIdArguments } from './global-id-arguments.js';
import { useCompiledQueries } from './compiled-execution.js';

export interface YogaSubgraphOptions<C extends SubgraphContext> {
  name: string;
  /** Shared with the gateway; requests without a context it signed are refused. Omitted: no check (plain subgraphs). */
  secret?: string;
  /** Where single-use signed contexts (mutations) are remembered (default: this process's memory). */
  replayGuard?: ReplayGuard;
  typeDefs: DocumentNode;
  // Codegen's resolver maps are typed per subgraph; this builder takes any of them.
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
  /** Root query fields whose queries run compiled (useCompiledQueries, decision 0050); none when absent. */
  compiledQueries?: readonly string[];
  /** Structured request logs (one line per operation); none when absent. */
  logger?: Logger;
  /** What `GET /readyz` checks (its database and bus); absent: always ready. */
  readiness?: () => Promise<Checks>;
  log?: (message: string) => void;
  /** Every mutation (and write route) is recorded in this database's audit log, and the subgraph serves its part of `auditLog`. */
  audit?: { dataSource: DataSource };
}

/** What every subgraph of this system is built from (its `build…(deps)`). */
export interface SubgraphDeps {
  dataSource: DataSource;
  bus: EventBus;
  /** Shared with the gateway (SUBGRAPH_SECRET). */
  secret: string;
  logger?: Logger;
  replayGuard?: ReplayGuard;
}

/** The options a subgraph's deps decide: the signed-context check, readiness (its database and bus) and the request log. */
export const optionsFromDeps = (deps: SubgraphDeps) => ({ secret: deps.secret, replayGuard: deps.replayGuard, readiness: dependencyChecks(deps), logger: deps.logger, audit: { dataSource: deps.dataSource } });

/** A Federation 2 subgraph served by graphql-yoga on node:http at `/graphql`. */
export function buildYogaSubgraph<C extends SubgraphContext>(options: YogaSubgraphOptions<C>): SubgraphService {
  const log = options.log ?? console.error;
  const audit = options.audit;
  const resolvers = acceptGlobalIdArguments(
    audit
      ? auditMutations(withResolvers(options.resolvers, auditResolvers(options.name, audit.dataSource)), { dataSource: audit.dataSource, sensitive: sensitiveCoordinates(options.typeDefs) })
      : options.resolvers,
  );
  const schema = buildSubgraphSchema({ typeDefs: options.typeDefs, resolvers });
  const guard = options.replayGuard ?? createMemoryReplayGuard();
  const anonymous = () => ({ tenantId: undefined, roles: [], requestId: crypto.randomUUID() });
  const yoga = createYoga({
    schema,
    graphqlEndpoint: '/graphql',
    plugins: [...(options.compiledQueries?.length ? [useCompiledQueries(options.compiledQueries)] : []), useGraphQLMetrics(options.name), useTracing(options.name), ...(options.logger ? [useRequestLog(options.logger, { sensitive: sensitiveCoordinates(options.typeDefs) })] : [])],
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
  let http: SubgraphHttp | undefined;
  // A call from the gateway in this process: the operation goes to yoga's GraphQL pipeline
  // (every plugin's parse/validate/context/execute hooks, the signed-context check, error
  // masking) and the result is written as yoga writes it for a request without an Accept header
  // or with `*/*` (application/json, its status rules), skipping what a socket needs: the
  // Request's body stream, the parse of the body by content type, the Response's. Anything else
  // (another Accept header, a body that is not one operation) takes yoga's whole HTTP path, in
  // this process. A plain POST over HTTP is answered here too (servePlainPost).
  const inProcess: InProcessEndpoint = async (url, init) => {
    let params: unknown;
    try {
      params = answersAsJson(init.headers.accept) ? JSON.parse(init.body) : undefined;
    } catch {
      params = undefined;
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params) || typeof (params as { query?: unknown }).query !== 'string') {
      const response = await yoga.fetch(url, init);
      return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
    }
    const request = new yoga.fetchAPI.Request(url, { method: 'POST', headers: init.headers });
    const result = await yoga.getResultForParams({ params: params as GraphQLParams, request }, {});
    const response = processRegularResult(result as ExecutionResult, yoga.fetchAPI, 'application/json');
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  };
  return {
    name: options.name,
    typeDefs: options.typeDefs,
    inProcess: () => (http ? inProcess : undefined),
    async start(port, host = '127.0.0.1') {
      await options.onStart?.();
      const routes = options.routes ?? {};
      http = subgraphHttp((req, res) => {
        const path = new URL(req.url ?? '/', 'http://subgraph').pathname;
        const route = routes[path];
        if (!route) return void (isPlainGraphqlPost(req, path) ? servePlainPost(req, res, inProcess, log, options.name) : yoga(req, res));
        // A plain route's signature is bound to its method and path, and good for one call.
        const caller: Promise<SubgraphContext> = options.secret
          ? readCallerContext(req.headers, options.secret, routeRequest(req.method ?? 'GET', path), guard)
          : Promise.resolve(anonymous());
        caller.then(
          (who) => (audit && req.method === 'POST' ? auditRoute(audit.dataSource, who, path, () => route(req, res, who)) : route(req, res, who)),
          (error: Error & { extensions?: { code?: string } }) => {
            const code = error.extensions?.code === 'SERVICE_UNAVAILABLE' ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
            res.writeHead(code === 'UNAUTHENTICATED' ? 401 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message: error.message } }));
            req.resume();
          },
        ).catch((error: unknown) => {
          log(`${options.name}: ${req.url} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Unexpected error."}}');
        });
      }, options.readiness);
      return http.listen(port, host);
    },
    async stop() {
      await http?.close();
      http = undefined;
      await options.onStop?.();
      if (!options.replayGuard) await guard.close();
    },
  };
}

/**
 * True when yoga would answer a GraphQL POST with `application/json`, whatever it holds: no Accept
 * header, or `*\/*` (what `fetch` sends by default; yoga's last match among its JSON media types
 * is `application/json` then too).
 */
const answersAsJson = (accept: string | undefined) => accept === undefined || accept.replace(/\s/g, '') === '*/*';

/** The largest body a plain POST takes the short path with (yoga's own limit, 25 MB, still applies to the rest). */
export const PLAIN_POST_MAX_BYTES = 1024 * 1024;

/**
 * A GraphQL POST over HTTP that the in-process endpoint answers exactly as yoga's HTTP path
 * would: POST to /graphql (no query string), `content-type: application/json` (charset utf-8 or
 * none), an Accept header absent or `*\/*`, no Origin (yoga's CORS would add headers), no
 * content or transfer encoding, and a Content-Length of at most PLAIN_POST_MAX_BYTES. Anything
 * else takes yoga's whole HTTP path.
 */
function isPlainGraphqlPost(req: IncomingMessage, path: string): boolean {
  const h = req.headers;
  if (req.method !== 'POST' || path !== '/graphql' || req.url !== '/graphql') return false;
  const type = h['content-type']?.replace(/\s/g, '').toLowerCase();
  if (type !== 'application/json' && type !== 'application/json;charset=utf-8') return false;
  if (!answersAsJson(h.accept) || h.origin !== undefined || h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined) return false;
  const length = h['content-length'];
  return length !== undefined && /^\d{1,8}$/.test(length) && Number(length) <= PLAIN_POST_MAX_BYTES;
}

/**
 * Serves a plain GraphQL POST (isPlainGraphqlPost) through the in-process endpoint: the body is
 * read as one string and handed with the request's headers to yoga's GraphQL pipeline (every
 * plugin, the signed-context check, error masking), and the reply written as one response with
 * its status and content type. It skips what yoga's HTTP adapter builds per request (a Request
 * with a body stream, the body-size transform, a Response and its piping): a third of a pricing
 * quote's server-side HTTP work (decision 0050). A body that is not one operation goes on to
 * yoga's own HTTP handling in the endpoint, as an in-process call's does.
 */
function servePlainPost(req: IncomingMessage, res: ServerResponse, endpoint: InProcessEndpoint, log: (message: string) => void, name: string): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('error', () => res.destroy());
  req.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(req.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
    endpoint(`http://${headers.host ?? 'subgraph'}/graphql`, { method: 'POST', headers, body: Buffer.concat(chunks).toString('utf8') }).then(
      (reply) => {
        res.writeHead(reply.status, reply.contentType ? { 'content-type': reply.contentType } : {});
        res.end(reply.text);
      },
      (error: unknown) => {
        log(`${name}: POST /graphql failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"code":"INTERNAL_SERVER_ERROR","message":"Unexpected error."}}');
      },
    );
  });
}

/** What runs beside a subgraph's server: started after its lifecycle, stopped before it. */
export interface SubgraphWorker {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

/**
 * A subgraph of this system, built the one way: the options its deps decide (`optionsFromDeps`),
 * its lifecycle (outbox relay, consumers) started first and stopped last, its workers started in
 * order after it and stopped in reverse before it. `context` adds the per-request parts.
 */
export function buildSystemSubgraph<C extends SubgraphContext>(
  deps: SubgraphDeps,
  parts: Pick<YogaSubgraphOptions<C>, 'name' | 'typeDefs' | 'resolvers' | 'routes' | 'compiledQueries'> & {
    lifecycle: { start(): Promise<void>; stop(): Promise<void> };
    workers?: readonly SubgraphWorker[];
    context: YogaSubgraphOptions<C>['extendContext'];
  },
): SubgraphService {
  const { lifecycle, workers = [], context, ...rest } = parts;
  return buildYogaSubgraph<C>({
    ...rest,
    ...optionsFromDeps(deps),
    extendContext: context,
    onStart: async () => {
      await lifecycle.start();
      for (const worker of workers) await worker.start();
    },
    onStop: async () => {
      for (const worker of [...workers].reverse()) await worker.stop();
      await lifecycle.stop();
    },
  });
}
