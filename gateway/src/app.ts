import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { parse, type GraphQLSchema } from 'graphql';
import type { EventBus } from '../../lib/events/event-bus.js';
import type { GatewayContext } from './gateway-context.js';
import { exampleQuery } from './graphiql-example.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { SubgraphClient, type SubgraphClientOptions } from './subgraph-client.js';
import { createStorefrontCache } from './cache/storefront-cache.js';
import { useGraphQLMetrics } from '../../lib/observability/graphql-metrics.js';
import { reportGatewayGauges } from './gauges.js';
import type { Logger } from '../../lib/observability/logger.js';
import { useRequestLog } from '../../lib/observability/request-log.js';
import { sensitiveCoordinates } from '../../lib/observability/sensitive-variables.js';
import { maskError } from '../../lib/graphql/mask-error.js';
import { closeServer } from '../../lib/http/close-server.js';
import { useBoard } from './board.js';
import { useTracing } from '../../lib/observability/tracing.js';
import { COMMERCE_SUBSCRIPTIONS, type SubscriptionField } from './subscriptions/subscription-fields.js';
import { SubscriptionHub } from './subscriptions/subscription-hub.js';
import { SubscriptionPlanner } from './subscriptions/subscription-plan.js';
import { createGraphQLWsServer, throughPipeline, type GraphQLWsOptions } from './subscriptions/graphql-ws-server.js';
import { useSubscriptionHub } from './subscriptions/use-subscription-hub.js';
import { useMultipartSubscriptions } from './subscriptions/use-multipart-subscriptions.js';
import { createSseSingleConnection, type SseLimits } from './subscriptions/sse-single-connection.js';
import { extractScopes } from './auth/scopes.js';
import type { TenantDirectory } from './auth/tenant-directory.js';
import { credentialEvents } from './auth/credential-events.js';
import { CredentialWatch } from './auth/credential-watch.js';
import { tenantCors, useVaryOrigin } from './auth/tenant-cors.js';
import { setUpAuth, type AuthOptions } from './auth/setup-auth.js';
import { LISTEN_BACKLOG } from '../../lib/graphql/subgraph-http.js';
import { buildContractSchema } from '../../lib/graphql/contract.js';
import type { RateLimitStore } from './limits/rate-limiter.js';
import type { AuthFailureLimit } from './auth/auth-failure-limit.js';
import { createClientAddress } from './auth/client-address.js';
import { createBusMonitor, type BusMonitorOptions } from './subscriptions/bus-monitor.js';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import { createWebhookReceiver } from './webhooks/webhook-receiver.js';
import { createFeedUpload } from './webhooks/feed-upload.js';
import { createOperatorAccess, useOperatorAccess, type OperatorAccessOptions } from './operator-access.js';
import { limitBodySize, useBoundedBody } from './limits/request-body.js';
import { operationGuards } from './limits/operation-guards.js';
import { useWebhooks } from './routes/webhooks.js';
import { useFeedUpload } from './routes/feed-upload.js';
import { useSchemaSdl } from './routes/schema-sdl.js';
import { useHealth } from './routes/health.js';
import { useDebug } from './routes/debug.js';
import { useMetricsRoute } from './routes/metrics.js';
import { useFavicon } from './routes/favicon.js';
import { createMemoryPersistedQueryStore, type PersistedQueryStore } from './persisted-queries/persisted-query-store.js';
import { countPersistedDocuments, usePersistedQueries } from './persisted-queries/use-persisted-queries.js';
import type { ExecutorKind } from './executor/own-executor.js';
import { useFederationExecutor } from './executor/use-federation-executor.js';
import { useIncrementalDelivery } from './incremental/use-incremental-delivery.js';
import { addExtensions } from '@apollo/gateway/dist/schema-helper/addExtensions.js';
import type { Schema } from '@apollo/federation-internals';
import { readExecutor } from './config.js';
import { gatewayFlags } from './flags.js';
import { flagChangesTo } from '../../lib/flags/flag-events.js';
import type { Flags } from '../../lib/flags/provider.js';

export interface GatewayOptions {
  /** A composed Federation 2 supergraph SDL. */
  supergraphSdl: string;
  /**
   * Subgraph URLs by subgraph name; the supergraph's `@join__graph(url:)` where absent. A promise
   * lets the gateway be built while the subgraphs start (npm start, issue 13): the build resolves
   * once they are known, and rejects, having released what it made, if they never are.
   */
  subgraphUrls?: Record<string, string> | Promise<Record<string, string>>;
  /** Subgraphs served by this process, called without a socket (`SubgraphClientOptions.inProcess`; scripts/system.ts). */
  inProcess?: SubgraphClientOptions['inProcess'];
  /**
   * Commerce identity: API keys, JWTs and the platform key, tenants by host, roles checked
   * against `@requiresScopes`, and the caller signed to subgraphs with `subgraphSecret`. Absent:
   * a plain federation gateway that forwards nothing.
   */
  auth?: AuthOptions;
  /**
   * Proxies (addresses, CIDRs) whose `Forwarded` / `X-Forwarded-For` name the client address for
   * rate limits; from anyone else these headers are ignored (default none).
   */
  trustedProxies?: string[];
  /** Hardening: operation limits (graphql-armor), request body size, batching. */
  limits?: {
    armor?: GraphQLArmorConfig;
    /** Largest request body, with a Content-Length or chunked (default 1 MiB; 413 above it). */
    maxBodyBytes?: number;
    /** Operations in one batched request (default 10). */
    batchLimit?: number;
    /** Production hides field suggestions. */
    production?: boolean;
    /** graphql-sse's single connection mode: reservations, operations per stream (defaults: SSE_LIMITS). */
    sse?: Partial<SseLimits>;
  };
  /** Serve GraphiQL at GET /graphql (default true). */
  graphiql?: boolean;
  /** Who may reach /metrics, /debug/* and GraphiQL (default: anyone; production: the operator token, or no one). */
  operator?: OperatorAccessOptions;
  /**
   * Live subscriptions over graphql-ws and server-sent events, fed by the event bus; off when
   * absent. `fields` maps each subscription field to its events (default: the commerce ones).
   */
  subscriptions?: {
    bus: EventBus;
    fields?: Record<string, SubscriptionField>;
    /** Per-socket limits (defaults: 1 MiB buffered, 1000 waiting updates, 1 MiB messages, 16 KiB connection_init, 100 operations). */
    limits?: Pick<GraphQLWsOptions, 'highWaterBytes' | 'maxPendingUpdates' | 'keepAliveMs' | 'maxPayloadBytes' | 'maxInitBytes' | 'maxSubscriptionsPerSocket'>;
    /** How the bus is watched (defaults: a ping each second, down when two in a row are unanswered for 1 s). */
    monitor?: BusMonitorOptions;
  };
  /** Structured logs (pino): one line per operation, and the gateway's own warnings. */
  logger?: Logger;
  /**
   * Keep anonymous storefront reads until their tenant's next change event (default on; needs auth
   * and the bus); `maxBytes` bounds what it keeps (default 64 MiB, STOREFRONT_CACHE_MAX_BYTES).
   */
  storefrontCache?: boolean | { maxBytes?: number; ttlMs?: number };
  /**
   * Automatic persisted queries, kept per tenant: in this process by default, or in a shared store
   * (Redis with REDIS_URL, `createRedisPersistedQueryStore`), which the gateway closes on stop.
   */
  persistedQueries?: { store?: PersistedQueryStore };
  /** Which executor runs query plans (default: GATEWAY_EXECUTOR, else `own`). */
  executor?: ExecutorKind;
  /**
   * Build the subscription planner and the partner contract when first needed or on `warm()`, not
   * while building (`npm start`: after it is ready; issue 13). Default: while building.
   */
  deferPlanning?: boolean;
  log?: (message: string) => void;
}

export interface Gateway {
  /** Listens on `port` (0 for a free one); resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
  start(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  /** The tenants' feature flags as this gateway evaluates them (docs/flags.md). */
  flags: Flags;
  /** In-process requests, without a socket, as Yoga's `fetch` (test/e2e/gateway-correctness.test.ts). */
  fetch: YogaServerInstance<Record<string, unknown>, GatewayContext>['fetch'];
  /** Builds what `deferPlanning` left for later (the subscription planner, the partner contract); at once otherwise. */
  warm(): void;
}

/** Reads the subgraph URLs a supergraph names, by lower-case subgraph name. */
export function supergraphUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name:\s*"([^"]+)",\s*url:\s*"([^"]*)"\)/g)) {
    urls[match[1]!] = match[2]!;
  }
  return urls;
}

/** Builds the gateway: Apollo's query planner and executor behind graphql-yoga; every side route a request plugin. */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? (options.logger ? (message: string) => options.logger!.warn(message) : console.error);
  const given = options.subgraphUrls;
  const later = given instanceof Promise ? given : undefined;
  later?.catch(() => undefined); // awaited at the end of the build
  const urls = { ...supergraphUrls(options.supergraphSdl), ...(later ? {} : (given as Record<string, string> | undefined)) };
  // @apollo/gateway refuses @requiresScopes; this gateway enforces it itself.
  const { sdl: supergraphSdl, rules } = extractScopes(options.supergraphSdl);
  const secret = options.auth?.subgraphSecret;
  const client = new SubgraphClient({ urls, secret, inProcess: options.inProcess });
  const dataSources: Record<string, SubgraphDataSource> = {};
  const executorKind = options.executor ?? readExecutor(process.env);
  const gateway = new ApolloGateway({
    supergraphSdl,
    // Plans with @defer's blocks, which only our executor runs (Apollo's refuses them).
    ...(executorKind === 'own' ? { queryPlannerConfig: { incrementalDelivery: { enableDefer: true } } } : {}),
    buildService: ({ name, url }) => (dataSources[name] ??= new SubgraphDataSource(name, urls[name] ?? url!, client)),
    logger: { debug: () => {}, info: () => {}, warn: log, error: log },
  });
  await gateway.load();
  // The served schema: with @defer and @stream (and their introspection) when our executor delivers them.
  const schema = executorKind === 'own' ? addExtensions((gateway as unknown as { apiSchema: Schema }).apiSchema.toGraphQLJSSchema({ includeDefer: true, includeStream: true })) : gateway.schema!;

  // What a partner key sees: the elements tagged @tag(name: "partner"); with `deferPlanning`, built
  // on a partner's first request or on warm(), not while building (another supergraph build).
  let contract: GraphQLSchema | undefined;
  const partnerSchema = () => (contract ??= buildContractSchema(supergraphSdl, 'partner'));
  const operator = createOperatorAccess(options.operator ?? {});
  // Request plugins first (the operator guard before any route), then the GraphQL pipeline.
  const routes: object[] = [useOperatorAccess(operator), useMetricsRoute(), useBoard(), useHealth({ client, subgraphs: Object.keys(urls), bus: options.subscriptions?.bus }), useFavicon(), useVaryOrigin()];
  const plugins: object[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const clientAddress = createClientAddress(options.trustedProxies);
  let authenticator: AuthFailureLimit | undefined;
  let directory: TenantDirectory | undefined;
  let rateLimitStore: RateLimitStore | undefined;
  if (options.auth) {
    const auth = setUpAuth(options.auth, { urls, client, schema, rules, partnerSchema, clientAddress });
    ({ authenticator, directory, store: rateLimitStore } = auth);
    cleanups.push(() => auth.store.close());
    plugins.push(auth.plugin);
    const anonymousIntrospection = options.auth.anonymousIntrospection ?? true;
    routes.push(useSchemaSdl({ schema, auth: { authenticator, clientAddress, rules, partnerSchema, anonymousIntrospection } }));
    // Merchant systems push here (verified with the tenant's secret), ingested by inventory.
    // Payment processors' confirmations too (verified with the tenant's derived key), applied by orders.
    if (urls.inventory || urls.orders) {
      const payments = urls.orders ? { subgraphSecret: options.auth.subgraphSecret } : undefined;
      routes.push(useWebhooks(createWebhookReceiver({ directory, client, payments, ingestion: Boolean(urls.inventory), maxBodyBytes: options.limits?.maxBodyBytes, log })));
    }
    // Admins' bulk feeds, streamed to the catalog.
    if (urls.catalog) routes.push(useFeedUpload(createFeedUpload({ authenticator, client, log }), clientAddress));
  } else routes.push(useSchemaSdl({ schema }));
  plugins.unshift(useGraphQLMetrics('gateway'));
  // Variables the supergraph marks @sensitive never reach a log line.
  if (options.logger) plugins.unshift(useRequestLog(options.logger, { sensitive: sensitiveCoordinates(parse(options.supergraphSdl)) }));
  plugins.push(...operationGuards(options.limits));
  // After the guards: a document is kept only once it has passed them.
  const persistedStore = options.persistedQueries?.store ?? createMemoryPersistedQueryStore();
  cleanups.push(() => persistedStore.close());
  plugins.push(usePersistedQueries({ store: persistedStore, authenticator, clientAddress, directory, onDocument: countPersistedDocuments() }));
  // Live updates and the storefront cache depend on the bus: they learn when it stops answering.
  const bus = options.subscriptions?.bus;
  const busMonitor = bus ? createBusMonitor(bus, { log, ...options.subscriptions!.monitor }) : undefined;
  const credentials = new CredentialWatch();
  const flags = gatewayFlags({ client });
  const planner = bus ? new SubscriptionPlanner(supergraphSdl, dataSources, executorKind) : undefined;
  const warm = () => {
    planner?.warm();
    partnerSchema();
  };
  if (!options.deferPlanning) warm();
  const hub = bus && planner
    ? new SubscriptionHub({
        busStatus: busMonitor,
        planner,
        bus,
        fields: options.subscriptions!.fields ?? COMMERCE_SUBSCRIPTIONS,
        client,
        scopes: { schema, rules },
        // One bus subscription per gateway: the hub's; authentication reads revocations from it too, the flags their changes.
        credentials,
        observers: [credentialEvents({ credentials, directory }), flagChangesTo(flags.cache)],
        log,
      })
    : undefined;
  if (hub) plugins.push(useSubscriptionHub(hub), useMultipartSubscriptions());
  // @defer and @stream over multipart/mixed, in the format the client asks for.
  plugins.push(useIncrementalDelivery({ log }));
  // Anonymous storefront reads, kept until a change event of their tenant arrives.
  const cacheOptions = typeof options.storefrontCache === 'object' ? options.storefrontCache : {};
  const storefrontCache =
    authenticator && bus && options.storefrontCache !== false
      ? createStorefrontCache({
          ...cacheOptions,
          bus,
          busStatus: busMonitor,
          logger: options.logger,
          limits: { authenticator, store: rateLimitStore!, perMinute: options.auth?.rateLimit?.perMinute?.anonymous ?? 300, clientAddress },
        })
      : undefined;
  if (storefrontCache) plugins.push(storefrontCache.plugin);
  plugins.push(useFederationExecutor(gateway, dataSources, schema, executorKind));
  // After the federation plugin, so the span wraps Apollo's execution (its plan and fetch spans nest inside).
  plugins.push(useTracing('gateway'));
  // Yoga's body bound, last as yoga places its own (after every request parser), without a stream pipeline per request.
  plugins.push(useBoundedBody());

  // Assigned once the yoga it serves exists; the debug route reads it later.
  // eslint-disable-next-line prefer-const
  let ws: ReturnType<typeof createGraphQLWsServer> | undefined;
  // graphql-sse's single connection mode: each operation it carries is handed to the yoga below.
  const sseStreams = createSseSingleConnection(async (request, serverContext) => yoga.fetch(request, serverContext as never), { limits: options.limits?.sse });
  routes.push(sseStreams.plugin);
  cleanups.unshift(async () => sseStreams.close());
  if (hub) routes.push(useDebug(() => ({ ...hub.stats(), sockets: ws?.connectionCount() ?? 0, sseStreams: sseStreams.stats(), storefrontCache: storefrontCache?.stats() })));
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    plugins: [...routes, ...plugins] as never,
    logging: false,
    landingPage: false,
    // GraphiQL (an operator surface) sends subscriptions as SSE over GET, which needs no CSRF header (decision 0026); it sends one anyway.
    graphiql:
      options.graphiql === false
        ? false
        : (request) => operator.allows(request) && { title: 'Commerce supergraph', defaultQuery: exampleQuery, additionalHeaders: { 'x-graphql-csrf': 'graphiql' } },
    // Loaded on the first GraphiQL page, not at start: its bundle is 9 MB of JavaScript, held as a
    // 10 MB string by every gateway (a fifth of its idle heap) and parsed before "ready".
    renderGraphiQL: (graphiqlOptions) => (require('@graphql-yoga/render-graphiql') as typeof import('@graphql-yoga/render-graphiql')).renderGraphiQL(graphiqlOptions),
    batching: { limit: options.limits?.batchLimit ?? 10 },
    maxRequestBodySize: false, // useBoundedBody above
    cors: tenantCors(directory),
    // Subgraph errors arrive with their codes and pass through; anything else is masked.
    maskedErrors: { maskError: (error) => maskError(error, (message) => log(`gateway: ${message}`), { forwarded: true }) },
    context: ({ request }) => ({ request, requestId: request.headers.get('x-request-id') ?? randomUUID(), flags: flags.client }),
  });

  ws = hub
    ? createGraphQLWsServer({
        ...options.subscriptions?.limits,
        hub,
        authenticator,
        clientAddress,
        log,
        // Trusted documents by id over the socket too (decision 0026), as the HTTP pipeline finds them.
        publishedDocument: async (identity, documentId) => (identity?.tenant && directory ? directory.persistedDocument(identity.tenant.id, documentId) : null),
        executeOperation: throughPipeline(yoga.fetch),
      })
    : undefined;
  const handle = limitBodySize(yoga, options.limits?.maxBodyBytes ?? 1024 * 1024);
  if (later) {
    try {
      Object.assign(urls, await later);
    } catch (error) {
      await ws?.close();
      await flags.stop();
      for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      await gateway.stop();
      await client.close();
      throw error;
    }
    // Apollo built each data source with the supergraph's URL: they follow the late ones.
    for (const [name, source] of Object.entries(dataSources)) source.url = urls[name] ?? source.url;
  }

  let server: Server | undefined;
  const unreport: (() => void)[] = [];
  return {
    fetch: yoga.fetch,
    flags,
    warm,
    async start(port, host = '127.0.0.1') {
      busMonitor?.start();
      await hub?.start();
      unreport.push(...reportGatewayGauges(hub, ws, storefrontCache));
      await storefrontCache?.start();
      server = createServer(handle);
      server.on('upgrade', (req, socket, head) => {
        if (ws && new URL(req.url ?? '/', 'http://gateway').pathname === '/graphql') void ws.handleUpgrade(req, socket, head);
        else socket.destroy();
      });
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
      });
      return `http://${host}:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      for (const remove of unreport.splice(0)) remove();
      await ws?.close();
      await hub?.stop();
      await storefrontCache?.stop();
      await flags.stop();
      busMonitor?.stop();
      for (const cleanup of cleanups) await cleanup();
      if (server) await closeServer(server);
      server = undefined;
      await gateway.stop();
      await client.close();
    },
  };
}
