import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloGateway } from '@apollo/gateway';
import { useApolloFederation } from '@envelop/apollo-federation';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { GraphQLError, parse, printSchema } from 'graphql';
import type { EventBus } from '../../lib/events/event-bus.js';
import type { GatewayContext } from './gateway-context.js';
import { exampleQuery } from './graphiql-example.js';
import { usePageSizeBounds } from './limits/use-page-size-bounds.js';
import { schemaForRoles } from './auth/schema-for-roles.js';
import { SubgraphDataSource } from './subgraph-data-source.js';
import { SubgraphClient } from './subgraph-client.js';
import { createStorefrontCache } from './cache/storefront-cache.js';
import { useGraphQLMetrics } from '../../lib/observability/graphql-metrics.js';
import { metrics, reportGauge } from '../../lib/observability/metrics.js';
import { serveMetrics } from '../../lib/observability/serve-metrics.js';
import type { Logger } from '../../lib/observability/logger.js';
import { useRequestLog } from '../../lib/observability/request-log.js';
import { sensitiveCoordinates } from '../../lib/observability/sensitive-variables.js';
import { serveBoard } from './board.js';
import { headersOf } from './http-headers.js';
import { useTracing } from '../../lib/observability/tracing.js';
import { COMMERCE_SUBSCRIPTIONS, type SubscriptionField } from './subscriptions/subscription-fields.js';
import { SubscriptionHub } from './subscriptions/subscription-hub.js';
import { SubscriptionPlanner } from './subscriptions/subscription-plan.js';
import { createGraphQLWsServer, type GraphQLWsOptions } from './subscriptions/graphql-ws-server.js';
import { useSubscriptionHub } from './subscriptions/use-subscription-hub.js';
import { createAuthenticator, type Authenticator } from './auth/authenticator.js';
import { createJwtVerifier, type JwtOptions } from './auth/jwt-verifier.js';
import { CUSTOMER_TOKEN_ISSUER, customerTokenKey } from '../../lib/tenant/customer-token.js';
import { extractScopes } from './auth/scopes.js';
import { createTenantDirectory, type TenantDirectory } from './auth/tenant-directory.js';
import { isPartnerOnly, useAuth } from './auth/use-auth.js';
import { buildContractSchema } from '../../lib/graphql/contract.js';
import { operationLimits } from './limits/operation-limits.js';
import { useErrorCodes } from './limits/use-error-codes.js';
import { useInputBounds } from './limits/use-input-bounds.js';
import { createMemoryRateLimitStore, type RateLimitStore } from './limits/rate-limiter.js';
import { within } from '../../lib/async/within.js';
import { limitAuthFailures, type AuthFailureLimit } from './auth/auth-failure-limit.js';
import { createClientAddress } from './auth/client-address.js';
import { createBusMonitor, type BusMonitorOptions } from './subscriptions/bus-monitor.js';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createWebhookReceiver, webhookPath } from './webhooks/webhook-receiver.js';
import { webhookSourceAt } from '../../lib/webhooks/registry.js';
import { createFeedUpload } from './webhooks/feed-upload.js';
import { createOperatorAccess, type OperatorAccessOptions } from './operator-access.js';
import { readBoundedBody, refuseRequest, sendResponse } from './limits/request-body.js';

export interface GatewayOptions {
  /** A composed Federation 2 supergraph SDL. */
  supergraphSdl: string;
  /** Subgraph URLs by subgraph name; the supergraph's `@join__graph(url:)` where absent. */
  subgraphUrls?: Record<string, string>;
  /**
   * Commerce identity: API keys, JWTs and the platform key, tenants by host, roles checked
   * against `@requiresScopes`, and the caller signed to subgraphs with `subgraphSecret`. Absent:
   * a plain federation gateway that forwards nothing.
   */
  auth?: {
    /** Shared with the subgraphs (SUBGRAPH_SECRET). */
    subgraphSecret: string;
    /** The credential of the `platform` role (PLATFORM_API_KEY). */
    platformApiKey?: string;
    jwt?: JwtOptions;
    /** Introspection without credentials (default true; off in production). */
    anonymousIntrospection?: boolean;
    /** The subgraph that knows tenants and API keys (default `tenant`). */
    tenantSubgraph?: string;
    /** Requests per minute per API key or token, and per anonymous client (defaults 1200 and 300). */
    rateLimit?: { store?: RateLimitStore; perMinute?: { authenticated: number; anonymous: number } };
    /** Failed authentications a minute per client address before it gets 429 for the rest of the minute (default 30). */
    authFailuresPerMinute?: number;
  };
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
    /** How the bus is watched (defaults: a ping each second, down when one is unanswered for 1 s). */
    monitor?: BusMonitorOptions;
  };
  /** Structured logs (pino): one line per operation, and the gateway's own warnings. */
  logger?: Logger;
  /** Keep anonymous storefront reads until their tenant's next change event (default true; needs auth and the bus). */
  storefrontCache?: boolean;
  log?: (message: string) => void;
}

export interface Gateway {
  /** Listens on `port` (0 for a free one); resolves to the base URL, e.g. `http://127.0.0.1:4000`. */
  start(port: number, host?: string): Promise<string>;
  stop(): Promise<void>;
  /** In-process requests, without a socket (tests). */
  fetch: YogaServerInstance<Record<string, unknown>, GatewayContext>['fetch'];
}

/** Reads the subgraph URLs a supergraph names, by lower-case subgraph name. */
export function supergraphUrls(supergraphSdl: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name:\s*"([^"]+)",\s*url:\s*"([^"]*)"\)/g)) {
    urls[match[1]!] = match[2]!;
  }
  return urls;
}

/** Builds the gateway: Apollo's query planner and executor behind graphql-yoga. */
export async function buildGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? (options.logger ? (message: string) => options.logger!.warn(message) : console.error);
  const urls = { ...supergraphUrls(options.supergraphSdl), ...options.subgraphUrls };
  // @apollo/gateway refuses @requiresScopes; this gateway enforces it itself.
  const { sdl: supergraphSdl, rules } = extractScopes(options.supergraphSdl);
  const secret = options.auth?.subgraphSecret;
  const dataSources: Record<string, SubgraphDataSource> = {};
  const subgraphClient = new SubgraphClient();
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) => (dataSources[name] ??= new SubgraphDataSource(name, urls[name] ?? url!, secret, subgraphClient)),
    logger: { debug: () => {}, info: () => {}, warn: log, error: log },
  });
  await gateway.load();

  // What a partner key sees: the elements tagged @tag(name: "partner").
  const partnerSchema = buildContractSchema(supergraphSdl, 'partner');
  const plugins = [];
  const cleanups: (() => Promise<void>)[] = [];
  const clientAddress = createClientAddress(options.trustedProxies);
  /** Counts failed authentications per client address; what every entry point authenticates with. */
  let authenticator: AuthFailureLimit | undefined;
  /** The same without the count (the storefront shortcut, whose failures the GraphQL pipeline counts). */
  let uncounted: Authenticator | undefined;
  let anonymousLimit: { store: RateLimitStore; perMinute: number } | undefined;
  let directory: TenantDirectory | undefined;
  if (options.auth) {
    const tenantUrl = urls[options.auth.tenantSubgraph ?? 'tenant'];
    if (!tenantUrl) throw new Error(`auth needs the "${options.auth.tenantSubgraph ?? 'tenant'}" subgraph, which the supergraph lacks`);
    directory = createTenantDirectory({ url: tenantUrl, secret: options.auth.subgraphSecret });
    uncounted = createAuthenticator({
      directory,
      verifyJwt: options.auth.jwt ? createJwtVerifier(options.auth.jwt) : undefined,
      verifyCustomerJwt: createJwtVerifier({ secret: customerTokenKey(options.auth.subgraphSecret), issuer: CUSTOMER_TOKEN_ISSUER }),
      platformApiKey: options.auth.platformApiKey,
    });
    const rateLimitStore = options.auth.rateLimit?.store ?? createMemoryRateLimitStore();
    cleanups.push(() => rateLimitStore.close());
    authenticator = limitAuthFailures(uncounted, { store: rateLimitStore, perMinute: options.auth.authFailuresPerMinute ?? 30 });
    anonymousLimit = { store: rateLimitStore, perMinute: options.auth.rateLimit?.perMinute?.anonymous ?? 300 };
    plugins.push(
      useAuth({
        authenticator,
        schema: gateway.schema!,
        rules,
        anonymousIntrospection: options.auth.anonymousIntrospection ?? true,
        partnerSchema,
        clientAddress,
        rateLimit: { store: rateLimitStore, perMinute: options.auth.rateLimit?.perMinute ?? { authenticated: 1200, anonymous: 300 } },
      }),
    );
  }
  plugins.unshift(useGraphQLMetrics('gateway'));
  // Variables the supergraph marks @sensitive never reach a log line.
  if (options.logger) plugins.unshift(useRequestLog(options.logger, { sensitive: sensitiveCoordinates(parse(options.supergraphSdl)) }));
  plugins.push(useErrorCodes());
  // A literal page size out of bounds is refused before the cost limit, which multiplies by it.
  plugins.push(usePageSizeBounds());
  // Every argument within its documented bound (docs/limits.md) before anything runs.
  plugins.push(useInputBounds());
  plugins.push(...new EnvelopArmor(operationLimits(options.limits?.armor, options.limits?.production)).protect().plugins);
  // Only requests a browser would preflight: no form posts or plain GETs from other sites.
  plugins.push(useCSRFPrevention({ requestHeaders: ['x-graphql-csrf', 'apollo-require-preflight'] }));
  let hub: SubscriptionHub | undefined;
  // Live updates and the storefront cache depend on the bus: they learn when it stops answering.
  const busMonitor = options.subscriptions ? createBusMonitor(options.subscriptions.bus, { log, ...options.subscriptions.monitor }) : undefined;
  if (options.subscriptions) {
    hub = new SubscriptionHub({
      busStatus: busMonitor,
      planner: new SubscriptionPlanner(supergraphSdl, dataSources),
      bus: options.subscriptions.bus,
      fields: options.subscriptions.fields ?? COMMERCE_SUBSCRIPTIONS,
      subgraphUrls: urls,
      subgraphSecret: secret,
      scopes: { schema: gateway.schema!, rules },
      directory,
      log,
    });
    plugins.push(useSubscriptionHub(hub));
  }
  // Anonymous storefront reads, kept until a change event of their tenant arrives.
  const storefrontCache =
    options.auth && options.subscriptions && options.storefrontCache !== false ? createStorefrontCache({ bus: options.subscriptions.bus, busStatus: busMonitor }) : undefined;
  if (storefrontCache) plugins.push(storefrontCache.plugin);
  plugins.push(useApolloFederation({ gateway }));
  // After the federation plugin, so the span wraps Apollo's execution (its plan and fetch spans nest inside).
  plugins.push(useTracing('gateway'));

  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema: gateway.schema!,
    graphqlEndpoint: '/graphql',
    plugins: plugins as never,
    logging: false,
    landingPage: false,
    // GraphiQL sends subscriptions as SSE over GET: it carries the CSRF header on every request.
    graphiql: options.graphiql === false ? false : { title: 'Commerce supergraph', defaultQuery: exampleQuery, additionalHeaders: { 'x-graphql-csrf': 'graphiql' } },
    renderGraphiQL,
    batching: { limit: options.limits?.batchLimit ?? 10 },
    // Browsers may call from a tenant's own domains only.
    cors: async (request) => {
      const origin = request.headers.get('origin');
      if (!origin || !directory) return { origin: origin ?? '*' };
      const host = URL.canParse(origin) ? new URL(origin).hostname : '';
      const tenant = host ? await directory.byHost(host).catch(() => null) : null;
      // No CORS headers at all for anyone else (an empty list would mean "any origin").
      return tenant ? { origin, credentials: true } : (false as unknown as { origin: string[] });
    },
    // Subgraph errors arrive with their codes and pass through; anything else is masked.
    maskedErrors: { maskError: (error) => maskGatewayError(error, log) },
    context: ({ request }) => ({ request, requestId: request.headers.get('x-request-id') ?? randomUUID() }),
  });

  const ws = hub
    ? createGraphQLWsServer({
        ...options.subscriptions?.limits,
        hub,
        authenticator,
        clientAddress,
        log,
        executeOperation: async (body, headers, req) => {
          headers.set('content-type', 'application/json');
          headers.set('accept', 'application/graphql-response+json, application/json');
          // The upgrade request rides along: rate limits key on its client address.
          const response = await yoga.fetch('http://gateway/graphql', { method: 'POST', headers, body: JSON.stringify(body) }, { req } as never);
          return response.json();
        },
      })
    : undefined;

  const maxBody = options.limits?.maxBodyBytes ?? 1024 * 1024;
  // Merchant systems push here; needs the tenant directory (auth) and the inventory subgraph.
  const webhooks =
    directory && secret && urls.inventory
      ? createWebhookReceiver({ directory, inventoryUrl: urls.inventory, subgraphSecret: secret, maxBodyBytes: maxBody, log })
      : undefined;
  // Admins' bulk feeds, streamed to the catalog.
  const feedUpload =
    authenticator && secret && urls.catalog ? createFeedUpload({ authenticator, catalogUrl: urls.catalog, subgraphSecret: secret, log }) : undefined;
  let storefrontSdl: string | undefined;
  /** GET /schema.graphql: the SDL the caller may see (the partner contract for a partner key, the storefront's without one). */
  const schemaFor = async (req: IncomingMessage): Promise<{ status: number; body: string; retryAfter?: number }> => {
    const headers = headersOf(req);
    const hasCredential = headers.has('authorization') || headers.has('x-api-key');
    if (!authenticator) return { status: 200, body: printSchema(gateway.schema!) };
    if (!hasCredential) {
      // An anonymous caller is a storefront: it gets the schema a storefront may use, no more.
      storefrontSdl ??= printSchema(schemaForRoles(gateway.schema!, rules, ['storefront']));
      return options.auth?.anonymousIntrospection === false
        ? { status: 401, body: '# This schema needs credentials.\n' }
        : { status: 200, body: storefrontSdl };
    }
    try {
      const identity = await authenticator.authenticate(headers, clientAddress(req));
      return { status: 200, body: printSchema(isPartnerOnly(identity.roles) ? partnerSchema : gateway.schema!) };
    } catch (error) {
      const retryAfter = error instanceof GraphQLError ? (error.extensions?.retryAfterSeconds as number | undefined) : undefined;
      return { status: retryAfter === undefined ? 401 : 429, body: `# ${error instanceof Error ? error.message : 'Unauthenticated'}\n`, retryAfter };
    }
  };

  /**
   * Anonymous storefront reads whose exact request bytes were answered before (and nothing of the
   * tenant changed since) are answered here, before any GraphQL processing; the rate limit still
   * counts them. Anything else, or any doubt, goes on to yoga (with the body already read).
   */
  const servedFromStorefrontCache = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const h = req.headers;
    const length = Number(h['content-length']);
    if (req.method !== 'POST' || req.url !== '/graphql' || h.authorization || h['x-api-key'] || h.origin || !(length > 0 && length <= 65_536)) return false;
    if (!h['content-type']?.startsWith('application/json') || h.upgrade) return false;
    const accept = h.accept ?? '';
    if (accept.includes('text/event-stream') || accept.includes('multipart')) return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = headersOf(req);
    const forward = async () => {
      const response = await yoga.fetch(`http://gateway${req.url}`, { method: 'POST', headers, body }, { req, res } as never);
      const bytes = Buffer.from(await response.arrayBuffer());
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => (out[name] = value));
      res.writeHead(response.status, out).end(bytes);
      return { status: response.status, contentType: response.headers.get('content-type'), bytes };
    };
    let identity;
    try {
      const address = clientAddress(req);
      // A refused address goes on to the pipeline, which answers 429 without a lookup.
      if (await authenticator!.blockedFor(address)) throw new Error('blocked');
      identity = await uncounted!.authenticate(headers, address);
    } catch {
      await forward();
      return true;
    }
    const tenantId = identity.tenant?.id;
    if (identity.kind !== 'anonymous' || !tenantId) {
      await forward();
      return true;
    }
    const requestKey = `${accept}\n${body.toString('utf8')}`;
    const hit = storefrontCache!.rawAnswer(tenantId, requestKey);
    if (hit && anonymousLimit) {
      const { count } = await anonymousLimit.store.hit(identity.subject);
      if (count <= anonymousLimit.perMinute) {
        const started = performance.now();
        res.writeHead(200, { 'content-type': hit.contentType, 'content-length': String(hit.body.length) }).end(hit.body);
        options.logger?.info(
          { requestId: h['x-request-id'] ?? randomUUID(), tenant: identity.tenant?.slug, roles: identity.roles, durationMs: Math.round((performance.now() - started) * 100) / 100, code: 'OK', cached: true },
          'graphql operation',
        );
        return true;
      }
    }
    const generation = storefrontCache!.generation(tenantId);
    const answer = await forward();
    if (answer.status === 200 && answer.contentType) {
      try {
        storefrontCache!.keepRawAnswer(tenantId, requestKey, JSON.parse(body.toString('utf8')), { contentType: answer.contentType, body: answer.bytes }, generation);
      } catch {
        // Not JSON parameters: nothing to keep.
      }
    }
    return true;
  };

  const operatorOnly = createOperatorAccess(options.operator ?? {});
  const health = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (operatorOnly(req, res)) return true;
    const webhook = webhooks && req.url?.startsWith('/webhooks/') ? webhookPath(req.url) : null;
    if (webhook) {
      const started = performance.now();
      await webhooks!(req, res, webhook.source, webhook.slug);
      const source = webhookSourceAt(webhook.source)?.path ?? 'unknown';
      metrics.webhookAcks.inc({ source, status: String(res.statusCode) });
      metrics.webhookAckDuration.observe({ source }, (performance.now() - started) / 1000);
      return true;
    }
    if (serveMetrics(req, res)) return true;
    if (serveBoard(req, res)) return true;
    if (feedUpload && req.url?.split('?')[0] === '/imports/catalog') {
      await feedUpload(req, res);
      return true;
    }
    if (req.method === 'GET' && req.url === '/schema.graphql') {
      const { status, body, retryAfter } = await schemaFor(req);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }) }).end(body);
      return true;
    }
    if (storefrontCache && (await servedFromStorefrontCache(req, res))) return true;
    if (req.method === 'POST') {
      const length = req.headers['content-length'];
      // A body within the limit with a Content-Length goes to yoga as it streams; any other is read here first.
      if (length === undefined || Number(length) > maxBody) {
        const body = await readBoundedBody(req, maxBody);
        if (!body) {
          refuseRequest(res, 413, { errors: [{ message: `The request body is larger than ${maxBody} bytes.`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
          return true;
        }
        const headers = headersOf(req);
        headers.delete('transfer-encoding');
        headers.set('content-length', String(body.length));
        const response = await yoga.fetch(`http://gateway${req.url}`, { method: 'POST', headers, body }, { req, res } as never);
        await sendResponse(response, res);
        return true;
      }
    }
    if (req.url === '/debug/subscriptions' && hub) {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ...hub.stats(), sockets: ws!.connectionCount(), rssBytes: process.memoryUsage().rss, storefrontCache: storefrontCache?.stats() }));
      return true;
    }
    if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return true;
    }
    if (req.url === '/readyz') {
      // Each subgraph by name, with its own database and bus; the gateway's bus.
      const entries = await Promise.all(Object.entries(urls).map(async ([name, url]) => [name, await readinessOf(url)] as const));
      const bus = options.subscriptions ? await within(options.subscriptions.bus.ping(), 1_000).then(() => true, () => false) : undefined;
      const subgraphs = Object.fromEntries(entries);
      const ready = entries.every(([, checks]) => checks.ready) && bus !== false;
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: ready ? 'ready' : 'unavailable', subgraphs, ...(bus === undefined ? {} : { bus }) }));
      return true;
    }
    return false;
  };

  let server: Server | undefined;
  const unreport: (() => void)[] = [];
  return {
    fetch: yoga.fetch,
    async start(port, host = '127.0.0.1') {
      busMonitor?.start();
      await hub?.start();
      if (hub) {
        unreport.push(
          reportGauge('gateway_subscriptions_open', 'Live subscriptions, over graphql-ws and server-sent events.', [], (set) => set({}, hub!.stats().subscribers)),
          reportGauge('gateway_websockets_open', 'Open graphql-ws sockets.', [], (set) => set({}, ws!.connectionCount())),
          reportGauge('gateway_subscription_groups', 'Groups of identical subscriptions (one execution per event each).', [], (set) => set({}, hub!.stats().groups)),
        );
      }
      if (storefrontCache) {
        unreport.push(
          reportGauge('gateway_storefront_cache', 'Storefront cache: entries kept, and hits and misses since start.', ['kind'], (set) => {
            const stats = storefrontCache.stats();
            set({ kind: 'entries' }, stats.entries + stats.rawEntries);
            set({ kind: 'hits' }, stats.hits);
            set({ kind: 'misses' }, stats.misses);
          }),
        );
      }
      await storefrontCache?.start();
      server = createServer((req, res) => {
        void health(req, res).then((handled) => {
          if (!handled) void yoga(req, res);
        });
      });
      server.on('upgrade', (req, socket, head) => {
        if (ws && new URL(req.url ?? '/', 'http://gateway').pathname === '/graphql') void ws.handleUpgrade(req, socket, head);
        else socket.destroy();
      });
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      return `http://${host}:${(server.address() as AddressInfo).port}`;
    },
    async stop() {
      for (const remove of unreport.splice(0)) remove();
      await ws?.close();
      await hub?.stop();
      await storefrontCache?.stop();
      busMonitor?.stop();
      for (const cleanup of cleanups) await cleanup();
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
      await gateway.stop();
      await subgraphClient.close();
    },
  };
}

/** A subgraph's own /readyz (its database and bus), or, for a subgraph without one, whether it answers GraphQL. */
async function readinessOf(url: string): Promise<{ ready: boolean } & Record<string, unknown>> {
  try {
    const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(3_000) });
    if (response.status === 200 || response.status === 503) {
      const { status, ...checks } = (await response.json()) as { status: string } & Record<string, unknown>;
      return { ready: status === 'ready', ...checks };
    }
  } catch {
    return { ready: false };
  }
  return { ready: await isReachable(url) };
}

async function isReachable(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
      signal: AbortSignal.timeout(2_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

function maskGatewayError(error: unknown, log: (message: string) => void): Error {
  if (error instanceof GraphQLError && typeof error.extensions?.code === 'string') {
    return error.originalError instanceof GraphQLError || !error.originalError
      ? error
      : new GraphQLError(error.message, { nodes: error.nodes, path: error.path, extensions: error.extensions });
  }
  if (error instanceof GraphQLError && !error.originalError) return error;
  log(`gateway: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return new GraphQLError('Unexpected error.', {
    path: error instanceof GraphQLError ? error.path : undefined,
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  });
}
