/**
 * A process that reads a Redis stream as a gateway and a service instance do, for a test to kill -9:
 * an ephemeral group and a durable group, each with a short lease. Prints `ready` once both read.
 *
 * Arguments: <redis url> <stream> <ephemeral group> <durable group> <consumer> <lease ms>
 */
import { createRedisBus } from '../../lib/events/redis-bus.js';

async function main(): Promise<void> {
  const [url, stream, ephemeralGroup, durableGroup, consumer, leaseMs] = process.argv.slice(2);
  const bus = await createRedisBus({ url: url!, stream, consumer, leaseMs: Number(leaseMs), log: () => {} });
  await bus.subscribe(ephemeralGroup!, async () => {}, { ephemeral: true });
  await bus.subscribe(durableGroup!, async () => {});
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
