/**
 * The system under benchmark, in its own process so that clients and server do not share an
 * event loop: starts everything on free ports (embedded defaults, or DATABASE_URL / REDIS_URL),
 * loads the demo data, prints one JSON line `{ gatewayUrl, stores }`, and stops on SIGTERM.
 */
import { FREE_PORTS } from '../lib/subgraphs.js';
import { seedDemo } from '../scripts/seed-demo.js';
import { startSystem } from '../scripts/system.js';
import { cleanUpBench } from './clean-up.js';

async function main(): Promise<void> {
  const system = await startSystem({
    ports: FREE_PORTS,
    schemaSuffix: `_bench${process.pid}`,
    redisStream: `bench:events:${process.pid}`,
    // A benchmark is not abuse: no rate limit gets in its way.
    rateLimitPerMinute: { authenticated: 1e9, anonymous: 1e9 },
    log: () => {},
  });
  const seeded = await seedDemo(system);
  process.stdout.write(`${JSON.stringify({ gatewayUrl: system.gatewayUrl, stores: seeded.stores, keys: seeded.keys })}\n`);
  process.once('SIGTERM', () => void system.stop().then(() => cleanUpBench(`_bench${process.pid}`, `bench:events:${process.pid}`)).then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
