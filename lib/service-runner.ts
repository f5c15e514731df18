import type { DataSource } from 'typeorm';
import { ConfigError, readDatabaseUrl, readInt, readOptional, type Env } from './env.js';
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
  });
}

/**
 * SUBGRAPH_SECRET is required in production; in development a fixed, well-known value is used
 * (with a warning) so that services started separately still agree.
 */
export function readSubgraphSecret(env: Env = process.env): string {
  const secret = readOptional(env, 'SUBGRAPH_SECRET');
  if (secret) return secret;
  if (env.NODE_ENV === 'production') throw new ConfigError('SUBGRAPH_SECRET is required when NODE_ENV=production');
  console.warn('SUBGRAPH_SECRET is not set: using the development secret (never in production)');
  return DEVELOPMENT_SECRET;
}
const DEVELOPMENT_SECRET = 'development-only-subgraph-secret';

export async function openBus(redisUrl: string | undefined): Promise<EventBus> {
  return redisUrl ? createRedisBus({ url: redisUrl }) : createInMemoryBus();
}

/**
 * Runs one subgraph as its own process: open its database (embedded when no URL is set),
 * its bus, build and listen; stop cleanly on SIGTERM/SIGINT; exit non-zero with a clear message.
 */
export async function runSubgraphProcess(
  config: SubgraphConfig,
  open: (url: string, schema: string) => Promise<DataSource>,
  build: (deps: { dataSource: DataSource; bus: EventBus; secret: string; logger?: Logger; replayGuard: ReplayGuard }) => SubgraphService,
): Promise<void> {
  // Traces go out over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; off otherwise.
  installTracing({ serviceName: config.name });
  try {
    const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres({ dataDir: config.dataDir });
    const dataSource = await open(config.databaseUrl ?? embedded!.url, config.databaseSchema);
    const bus = await openBus(config.redisUrl);
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
