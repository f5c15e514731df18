import { ConfigError } from '../../lib/env.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { createRedisRateLimitStore } from './limits/rate-limiter.js';
import { createRedisPersistedQueryStore } from './persisted-queries/persisted-query-store.js';
import { buildGateway } from './app.js';
import { createLogger } from '../../lib/observability/logger.js';
import { installTracing } from '../../lib/observability/tracing.js';
import { loadConfig, readSupergraph } from './config.js';
import { developmentPlatformKey } from './platform-key.js';

async function main(): Promise<void> {
  const config = loadConfig();
  // Subgraph events reach a separate gateway process only through Redis.
  const bus = config.redisUrl ? await createRedisBus({ url: config.redisUrl }) : undefined;
  if (!bus) console.warn('REDIS_URL is not set: this gateway serves no subscriptions');
  installTracing({ serviceName: 'gateway' });
  const gateway = await buildGateway({
    logger: createLogger('gateway'),
    supergraphSdl: readSupergraph(config.supergraphPath),
    subgraphUrls: config.subgraphUrls,
    auth: config.tenancy
      ? {
          subgraphSecret: config.subgraphSecret,
          platformApiKey: config.platformApiKey ?? developmentPlatformKey(),
          jwt: config.jwt,
          anonymousIntrospection: config.anonymousIntrospection,
          rateLimit: {
            store: config.redisUrl ? await createRedisRateLimitStore(config.redisUrl) : undefined,
            perMinute: config.rateLimitPerMinute,
          },
          authFailuresPerMinute: config.authFailuresPerMinute,
        }
      : undefined,
    trustedProxies: config.trustedProxies,
    limits: { production: config.production },
    operator: { token: config.operatorToken, production: config.production },
    subscriptions: bus ? { bus } : undefined,
    storefrontCache: config.storefrontCache,
    // Automatic persisted queries: every gateway sees what a client registered with any of them.
    persistedQueries: config.redisUrl ? { store: await createRedisPersistedQueryStore(config.redisUrl) } : undefined,
  });
  const url = await gateway.start(config.port, config.host);
  console.log(`gateway ready at ${url}/graphql`);
  const stop = () => void gateway.stop().then(() => bus?.close()).then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`gateway failed to start: ${error instanceof ConfigError ? error.message : String(error)}`);
  process.exit(1);
});
