import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { readDatabaseUrl, readSecret, type Env } from '../lib/env.js';
import type { EventBus } from '../lib/events/event-bus.js';
import { createInMemoryBus } from '../lib/events/in-memory-bus.js';
import { createRedisBus } from '../lib/events/redis-bus.js';
import { readBusConfig } from '../lib/service-runner.js';
import type { SubgraphService } from '../lib/graphql/service.js';
import { buildGateway, type Gateway } from '../gateway/src/app.js';
import type { JwtOptions } from '../gateway/src/auth/jwt-verifier.js';
import { readAuthFailuresPerMinute, readJwtOptions, readRateLimits, readStorefrontCache, readSubgraphCalls, readTrustedProxies } from '../gateway/src/config.js';
import { createMemoryRateLimitStore, createRedisRateLimitStore } from '../gateway/src/limits/rate-limiter.js';
import { createRedisPersistedQueryStore } from '../gateway/src/persisted-queries/persisted-query-store.js';
import { generateSecret } from '../lib/tenant/signed-context.js';
import { createMemoryReplayGuard, createRedisReplayGuard, type ReplayGuard } from '../lib/tenant/replay-guard.js';
import { createLogger, type Logger } from '../lib/observability/logger.js';
import { SUPERGRAPH_PATH, SUBGRAPHS, type SubgraphName } from '../schema/compose-supergraph.js';
import { modelProviderConfigFrom, type ModelProviderConfig } from '../subgraphs/catalog/src/enrichment/model-provider.js';
import { buildCatalog } from '../subgraphs/catalog/src/app.js';
import { openCatalogDatabase } from '../subgraphs/catalog/src/data/database.js';
import { buildInventory } from '../subgraphs/inventory/src/app.js';
import { readWebhookMaxAgeMs } from '../subgraphs/inventory/src/config.js';
import { openInventoryDatabase } from '../subgraphs/inventory/src/data/database.js';
import { buildOrders } from '../subgraphs/orders/src/app.js';
import { openOrdersDatabase } from '../subgraphs/orders/src/data/database.js';
import { buildPricing } from '../subgraphs/pricing/src/app.js';
import { openPricingDatabase } from '../subgraphs/pricing/src/data/database.js';
import { buildTenant, type TenantSubgraph } from '../subgraphs/tenant/src/app.js';
import { openTenantDatabase } from '../subgraphs/tenant/src/data/database.js';
import { readPlugins, type PluginEntry } from '../lib/plugins/load-plugins.js';
import { readOutboundWebhookOptions, type OutboundWebhookOptions } from '../subgraphs/tenant/src/webhooks/config.js';

type Deps = { dataSource: DataSource; bus: EventBus; secret: string; replayGuard: ReplayGuard; logger?: Logger; /** The gateway's base URL once it listens (payment processors' webhooks go there). */ gatewayUrl: () => string | undefined };
/** Options of the subgraphs that have any. */
export interface SubgraphOptions {
  /** The order workflow version new orders start on when their tenant's `order-workflow-version` flag does not choose one (default: the latest). */
  orderWorkflowVersion?: number;
  /** How often expired reservations are released (default 1 s). */
  reservationExpiryMs?: number;
  /** Webhook ingestion: tries before the dead letters, first backoff, poll interval (defaults 5, 1 s, 500 ms). */
  ingestion?: { maxAttempts?: number; backoffMs?: number; pollMs?: number; /** Oldest source time accepted (default 24 h; `npm start` reads WEBHOOK_MAX_AGE_HOURS). */ maxAgeMs?: number };
  /** Feed imports: rows per transaction, poll interval (defaults 500, 1 s). */
  feeds?: { batchSize?: number; pollMs?: number };
  /** An OpenAI-compatible model whose proposals join the enrichment review queue (default off; `npm start` reads ENRICHMENT_MODEL_*). */
  enrichmentModel?: ModelProviderConfig | null;
  /** How long a pricing quote may be charged before its claimed uses come back (default 15 min). */
  quoteTtlMs?: number;
  /** Outbound webhooks: target policy, timeout, retries (default: secure, `npm start` reads WEBHOOK_*). */
  webhooks?: OutboundWebhookOptions;
  /** In-process plug-ins (default: `npm start` reads COMMERCE_PLUGINS). */
  plugins?: readonly PluginEntry[];
}
const SERVICES: Record<SubgraphName, { open: (url: string, schema: string) => Promise<DataSource>; build: (deps: Deps, options: SubgraphOptions) => SubgraphService }> = {
  catalog: { open: openCatalogDatabase, build: (deps, o) => buildCatalog(deps, { feeds: o.feeds, enrichmentModel: o.enrichmentModel }) },
  inventory: { open: openInventoryDatabase, build: (deps, o) => buildInventory(deps, { expiryIntervalMs: o.reservationExpiryMs, ingestion: o.ingestion, plugins: o.plugins }) },
  pricing: { open: openPricingDatabase, build: (deps, o) => buildPricing(deps, { quoteTtlMs: o.quoteTtlMs }) },
  orders: { open: openOrdersDatabase, build: (deps, o) => buildOrders(deps, { workflowVersion: o.orderWorkflowVersion, hookPolicy: o.webhooks?.policy, plugins: o.plugins, paymentWebhookUrl: deps.gatewayUrl }) },
  tenant: { open: openTenantDatabase, build: (deps, o) => buildTenant(deps, { webhooks: o.webhooks }) },
};
/** Each service's database opener (creates and migrates its schema, attaches its audit capture): scripts/schema-template.ts. */
export const SERVICE_DATABASES = Object.fromEntries(Object.entries(SERVICES).map(([name, { open }]) => [name, open])) as Record<SubgraphName, (url: string, schema: string) => Promise<DataSource>>;

export interface SystemOptions {
  /** Database URLs come from `<SERVICE>_DATABASE_URL` / `DATABASE_URL`; the bus from `REDIS_URL`. */
  env?: Env;
  /** Embedded PGlite data folder when no database URL is set; in memory when undefined. */
  dataDir?: string;
  /** The embedded database, already starting (`npm start` opens it on its thread while this module loads); stopped with the system. */
  embeddedPostgres?: Promise<EmbeddedPostgres>;
  /** Suffix of every service's schema (tests give each run its own: `catalog_ab12`). */
  schemaSuffix?: string;
  /** Redis stream for events (tests give each run its own). */
  redisStream?: string;
  /** Ports: the gateway's and each subgraph's; 0 everywhere picks free ones. */
  ports?: { gateway: number } & Record<SubgraphName, number>;
  host?: string;
  /** JWT verification for the gateway (default: JWT_SECRET etc. from `env`). */
  jwt?: JwtOptions;
  /** Production behaviour (default: NODE_ENV=production): no anonymous introspection, no field suggestions. */
  production?: boolean;
  /** The bearer token of /metrics, /debug/* and GraphiQL (default OPERATOR_TOKEN; none: open, or off in production). */
  operatorToken?: string;
  /** Requests per minute (default RATE_LIMIT_PER_MINUTE / RATE_LIMIT_ANONYMOUS_PER_MINUTE, else 1200 / 300). */
  rateLimitPerMinute?: { authenticated: number; anonymous: number };
  /** Failed authentications a minute per client address before 429 (default AUTH_FAILURES_PER_MINUTE, else 30). */
  authFailuresPerMinute?: number;
  /** Proxies whose X-Forwarded-For / Forwarded name the client (default TRUSTED_PROXIES, else none). */
  trustedProxies?: string[];
  /** The gateway's storefront cache (default: STOREFRONT_CACHE and STOREFRONT_CACHE_MAX_BYTES from `env`). */
  storefrontCache?: false | { maxBytes: number };
  subgraphOptions?: SubgraphOptions;
  /** The gateway's subscription planner and partner contract are built by `gateway.warm()` or when first needed (`npm start`, after it is ready). */
  deferPlanning?: boolean;
  /** Per-socket subscription limits of the gateway (tests make them tiny). */
  subscriptionLimits?: { highWaterBytes?: number; maxPendingUpdates?: number };
  /** The gateway's structured logger (default: pino to stdout at LOG_LEVEL, silent when `log` is given). */
  logger?: Logger;
  /** Each subgraph's structured logger (default: none, the gateway's line covers the request). */
  subgraphLogger?: (name: SubgraphName) => Logger;
  log?: (message: string) => void;
  /** The gateway calls this process's subgraphs without a socket (default: SUBGRAPH_CALLS, else `in-process`; `http` sends every call over loopback). */
  inProcessCalls?: boolean;
}

export interface RunningSystem {
  gatewayUrl: string;
  gateway: Gateway;
  subgraphs: Record<SubgraphName, SubgraphService>;
  subgraphUrls: Record<SubgraphName, string>;
  /** Whether the gateway calls these subgraphs in this process (`SystemOptions.inProcessCalls`) or over HTTP. */
  inProcessCalls: boolean;
  /** The tenant subgraph's services, for seeding without the API. */
  tenants: TenantSubgraph['tenants'];
  apiKeys: TenantSubgraph['apiKeys'];
  /** The platform role's credential (PLATFORM_API_KEY, or one generated for this run). */
  platformApiKey: string;
  /** What the gateway signs subgraph requests with (SUBGRAPH_SECRET, or generated for this run). */
  subgraphSecret: string;
  bus: EventBus;
  /** Each subgraph's database (for tests and operator tools that read or rebuild its tables). */
  dataSources: Record<SubgraphName, DataSource>;
  /** Stops a subgraph and starts it anew on the same port and database with other options (a deployment). */
  redeploy(name: SubgraphName, options: SubgraphOptions): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_PORTS = { gateway: 4000, ...Object.fromEntries(SUBGRAPHS.map((s) => [s.name, s.port])) } as SystemOptions['ports'] & {};

/** Starts the whole supergraph in one process: five subgraphs and the gateway. */
export async function startSystem(options: SystemOptions = {}): Promise<RunningSystem> {
  const env = options.env ?? process.env;
  // One process: every service shares one secret, generated unless SUBGRAPH_SECRET is set. In
  // production, secrets that are set must be long and not published examples.
  const strict = { production: env.NODE_ENV === 'production', required: false };
  const secret = readSecret(env, 'SUBGRAPH_SECRET', strict) || generateSecret();
  const platformApiKey = readSecret(env, 'PLATFORM_API_KEY', strict) || `pk_${randomBytes(24).toString('base64url')}`;
  const production = options.production ?? env.NODE_ENV === 'production';
  const ports = options.ports ?? DEFAULT_PORTS;
  const host = options.host ?? '127.0.0.1';
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => options.log?.(String(error)));
  };
  try {
    let embedded: Promise<EmbeddedPostgres> | undefined = options.embeddedPostgres;
    if (embedded) {
      const db = embedded;
      cleanups.push(() => db.then((started) => started.stop(), () => undefined));
    }
    const urlFor = async (name: string): Promise<string> => {
      const url = readDatabaseUrl(env, name);
      if (url) return url;
      if (!embedded) {
        const db = (embedded = startEmbeddedPostgres({ dataDir: options.dataDir }));
        cleanups.push(() => db.then((started) => started.stop(), () => undefined));
      }
      return (await embedded).url;
    };
    const bus = env.REDIS_URL
      ? await createRedisBus({ url: env.REDIS_URL, stream: options.redisStream, ...readBusConfig(env), log: options.log })
      : createInMemoryBus(options.log);
    cleanups.push(() => bus.close());

    const rateLimitStore = env.REDIS_URL
      ? await createRedisRateLimitStore(env.REDIS_URL, { prefix: `ratelimit:${options.redisStream ?? 'commerce'}`, log: options.log })
      : createMemoryRateLimitStore();
    cleanups.push(() => rateLimitStore.close());
    // Single-use signatures (mutations): remembered in Redis when there is one, as replicas would share it.
    const replayGuard = env.REDIS_URL ? await createRedisReplayGuard(env.REDIS_URL, { prefix: `nonce:${options.redisStream ?? 'commerce'}:` }) : createMemoryReplayGuard();
    cleanups.push(() => replayGuard.close());
    // Known once the gateway listens (after the subgraphs): where payment processors' webhooks go.
    const listening: { base?: string } = {};
    const gatewayUrl = () => listening.base;
    const subgraphs = {} as Record<SubgraphName, SubgraphService>;
    const subgraphUrls = {} as Record<SubgraphName, string>;
    const dataSources = {} as Record<SubgraphName, DataSource>;
    const subgraphOptions = options.subgraphOptions ?? {
      orderWorkflowVersion: env.ORDER_WORKFLOW_VERSION ? Number(env.ORDER_WORKFLOW_VERSION) : undefined,
      ingestion: { maxAgeMs: readWebhookMaxAgeMs(env) },
      webhooks: readOutboundWebhookOptions(env),
      plugins: await readPlugins(env),
      enrichmentModel: modelProviderConfigFrom(env),
    };
    // The gateway is built first, while PGlite opens its folder on its own thread and the databases
    // open: building it (the supergraph, its planner, the pipeline) is this thread's work, which
    // the opening leaves idle. It learns the subgraphs' addresses once they listen (issue 13).
    let subgraphsStarted!: (urls: Record<string, string>) => void;
    let subgraphsFailed!: (error: unknown) => void;
    const urlsKnown = new Promise<Record<string, string>>((resolve, reject) => {
      subgraphsStarted = resolve;
      subgraphsFailed = reject;
    });
    // The gateway calls the subgraphs of this process without a socket (issue 20): the HTTP
    // plumbing on both sides was over a third of the one event loop's work on uncached reads.
    const inProcess = (options.inProcessCalls ?? readSubgraphCalls(env) === 'in-process')
      ? (url: string) => {
          for (const { name } of SUBGRAPHS) if (subgraphUrls[name] === url) return subgraphs[name]?.inProcess?.();
          return undefined;
        }
      : undefined;
    const building = buildGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
      subgraphUrls: urlsKnown,
      inProcess,
      auth: {
        subgraphSecret: secret,
        platformApiKey,
        jwt: options.jwt ?? readJwtOptions(env),
        anonymousIntrospection: !production,
        rateLimit: { store: rateLimitStore, perMinute: options.rateLimitPerMinute ?? readRateLimits(env) },
        authFailuresPerMinute: options.authFailuresPerMinute ?? readAuthFailuresPerMinute(env),
      },
      trustedProxies: options.trustedProxies ?? readTrustedProxies(env),
      limits: { production },
      operator: { token: options.operatorToken ?? env.OPERATOR_TOKEN, production },
      subscriptions: { bus, limits: options.subscriptionLimits },
      storefrontCache: options.storefrontCache ?? readStorefrontCache(env),
      // Automatic persisted queries, shared by replicas through Redis when there is one (the gateway closes the store).
      persistedQueries: env.REDIS_URL
        ? { store: await createRedisPersistedQueryStore(env.REDIS_URL, { prefix: `apq:${options.redisStream ?? 'commerce'}`, log: options.log }) }
        : undefined,
      // Callers that pass their own `log` (tests, benchmarks) get no request lines unless they pass a logger.
      logger: options.logger ?? createLogger('gateway', { level: options.log ? 'silent' : env.LOG_LEVEL }),
      deferPlanning: options.deferPlanning,
      log: options.log,
    });
    building.catch(() => undefined); // awaited once the subgraphs listen
    // Every service opens its database at once: with PGlite the statements take turns on its thread
    // while this one builds each service's metadata; with PostgreSQL they run side by side (issue 13).
    const starting = SUBGRAPHS.map(({ name }) =>
      (async () => {
        const dataSource = await SERVICES[name].open(await urlFor(name), `${name}${options.schemaSuffix ?? ''}`);
        cleanups.push(() => dataSource.destroy());
        dataSources[name] = dataSource;
        const service = SERVICES[name].build({ dataSource, bus, secret, replayGuard, gatewayUrl, logger: options.subgraphLogger?.(name) }, subgraphOptions);
        // Stopped on the way out even when it fails to listen: its relay and workers start first.
        cleanups.push(() => service.stop());
        const url = await service.start(ports[name], host);
        subgraphs[name] = service;
        subgraphUrls[name] = url;
      })(),
    );
    try {
      // Each settled first, so that whatever did open is in `cleanups` when one fails.
      await Promise.allSettled(starting);
      await Promise.all(starting);
    } catch (error) {
      // The gateway being built releases what it made before the services are stopped.
      subgraphsFailed(error);
      await building.catch(() => undefined);
      throw error;
    }
    // In the usual order, whichever started first (npm start prints them).
    for (const { name } of SUBGRAPHS) {
      const url = subgraphUrls[name];
      delete subgraphUrls[name];
      subgraphUrls[name] = url!;
    }
    subgraphsStarted({ ...subgraphUrls });
    const gateway = await building;
    cleanups.push(() => gateway.stop());
    const base = await gateway.start(ports.gateway, host);
    listening.base = base;
    return {
      gatewayUrl: `${base}/graphql`,
      gateway,
      subgraphs,
      subgraphUrls,
      inProcessCalls: inProcess !== undefined,
      tenants: (subgraphs.tenant as TenantSubgraph).tenants,
      apiKeys: (subgraphs.tenant as TenantSubgraph).apiKeys,
      platformApiKey,
      subgraphSecret: secret,
      bus,
      dataSources,
      async redeploy(name, subgraphOptions) {
        await subgraphs[name].stop();
        const service = SERVICES[name].build({ dataSource: dataSources[name], bus, secret, replayGuard, gatewayUrl, logger: options.subgraphLogger?.(name) }, subgraphOptions);
        await service.start(Number(new URL(subgraphUrls[name]).port), host);
        subgraphs[name] = service;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
