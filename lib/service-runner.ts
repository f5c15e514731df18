import { hostname } from 'node:os';
import type { DataSource } from 'typeorm';
import { ConfigError, MIN_SECRET_LENGTH, readDatabaseUrl, readInt, readOptional, readSecret, type Env } from './env.js';
import { installTracing } from './observability/tracing.js';
import { createLogger, type Logger } from './observability/logger.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import type { EventBus } from './events/event-bus.js';
import { createInMemoryBus } from './events/in-memory-bus.js';
import { createRedisBus } from './events/redis-bus.js';
import type { SubgraphService } from './graphql/service.js';
import { createMemoryReplayGuard, createRedisReplayGuard, type ReplayGuard } from './tenant/replay-guard.js';

/** What one subgraph process needs from its environment. */
export interface SubgraphConfig {
  name: string;
  port: number;
  host: string;
  databaseUrl: string | undefined;
  /** PostgreSQL schema of the service (default: its name). */
  databaseSchema: string;
  redisUrl: string | undefined;
  /** Where embedded PGlite keeps its data when no database URL is set. */
  dataDir: string;
  /** SUBGRAPH_SECRET: shared with the gateway, which signs every request's context with it. */
  secret: string;
  /** How this instance takes part in the Redis bus (INSTANCE_ID, EVENT_CLAIM_IDLE_MS, EVENT_REPUBLISH_WINDOW_SECONDS). */
  bus: BusConfig;
}

/** The Redis bus settings of one process. */
export interface BusConfig {
  /** INSTANCE_ID: this instance's stable consumer name in its service's group (default: the host name). */
  consumer: string;
  /** EVENT_CLAIM_IDLE_MS: entries a consumer has held unacknowledged this long go to a live one (default 30000). */
  claimIdleMs: number;
  /** EVENT_REPUBLISH_WINDOW_SECONDS: what the outbox re-publishes after Redis lost its data (default 3600). */
  republishWindowMs: number;
  /** EVENT_STREAM_MAX_LENGTH: the stream is trimmed near this many entries, never below what a durable group has not acknowledged (default 100000). */
  maxLength: number;
}

export function readBusConfig(env: Env = process.env): BusConfig {
  return Object.freeze({
    consumer: readOptional(env, 'INSTANCE_ID') ?? hostname(),
    claimIdleMs: readInt(env, 'EVENT_CLAIM_IDLE_MS', 30_000),
    republishWindowMs: readInt(env, 'EVENT_REPUBLISH_WINDOW_SECONDS', 3_600) * 1_000,
    maxLength: readInt(env, 'EVENT_STREAM_MAX_LENGTH', 100_000),
  });
}

export function loadSubgraphConfig(name: string, defaultPort: number, env: Env = process.env): SubgraphConfig {
  const upper = name.toUpperCase();
  return Object.freeze({
    name,
    port: readInt(env, `${upper}_PORT`, readInt(env, 'PORT', defaultPort)),
    host: readOptional(env, 'HOST') ?? '127.0.0.1',
    databaseUrl: readDatabaseUrl(env, name),
    databaseSchema: readOptional(env, `${upper}_DATABASE_SCHEMA`) ?? name,
    redisUrl: readOptional(env, 'REDIS_URL'),
    dataDir: readOptional(env, 'PGLITE_DATA_DIR') ?? `.data/${name}`,
    secret: readSubgraphSecret(env),
    bus: readBusConfig(env),
  });
}

/**
 * SUBGRAPH_SECRET, shared by the gateway and every subgraph, is required by every process that
 * runs a service on its own: there is no fixed fallback (whoever read it could sign as the
 * gateway). In production it must also be long and not a published example. `npm start`, one
 * process, generates one per run instead.
 */
export function readSubgraphSecret(env: Env = process.env): string {
  const secret = readSecret(env, 'SUBGRAPH_SECRET', { production: env.NODE_ENV === 'production', required: true });
  if (secret) return secret;
  throw new ConfigError(
    `SUBGRAPH_SECRET is required: the gateway and every subgraph sign and verify with the same one (at least ${MIN_SECRET_LENGTH} random characters, e.g. \`openssl rand -base64 32\`)`,
  );
}

export async function openBus(redisUrl: string | undefined, bus?: BusConfig): Promise<EventBus> {
  return redisUrl ? createRedisBus({ url: redisUrl, ...bus }) : createInMemoryBus();
}

/**
 * Runs one subgraph as its own process: open its database (embedded when no URL is set),
 * its bus, build and listen; stop cleanly on SIGTERM/SIGINT; exit non-zero with a clear message.
 */
export async function runSubgraphProcess(
  loadConfig: () => SubgraphConfig,
  open: (url: string, schema: string) => Promise<DataSource>,
  build: (deps: { dataSource: DataSource; bus: EventBus; secret: string; logger?: Logger; replayGuard: ReplayGuard }) => SubgraphService,
): Promise<void> {
  let config: SubgraphConfig;
  try {
    config = loadConfig();
  } catch (error) {
    // A bad or missing setting: one clear line naming it, no stack trace.
    console.error(`${process.env.npm_lifecycle_event ?? 'subgraph'} failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  // Traces go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; off otherwise.
  installTracing({ serviceName: config.name });
  try {
    const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir });
    const dataSource = await open(config.databaseUrl ?? embedded!.url, config.databaseSchema);
    const bus = await openBus(config.redisUrl, config.bus);
    // Replicas share the used nonces of single-use signatures through Redis; alone, memory will do.
    const replayGuard = config.redisUrl ? await createRedisReplayGuard(config.redisUrl) : createMemoryReplayGuard();
    const service = build({ dataSource, bus, secret: config.secret, logger: createLogger(config.name), replayGuard });
    const url = await service.start(config.port, config.host);
    console.log(`${config.name} subgraph ready at ${url}`);
    const shutdown = async () => {
      await service.stop();
      await bus.close();
      await replayGuard.close();
      await dataSource.destroy();
      await embedded?.stop();
      process.exit(0);
    };
    process.once('SIGTERM', () => void shutdown());
    process.once('SIGINT', () => void shutdown());
  } catch (error) {
    console.error(`${config.name} failed to start: ${error instanceof ConfigError ? error.message : String(error)}`);
    process.exit(1);
  }
}
