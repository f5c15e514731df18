import { within } from '../../lib/async/within.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';

// A process stopping (a deploy, a test's teardown) must not wait for ever on a Redis that stopped
// answering: its readers' blocked reads and the clean-up commands never get a reply.
describe('stopping the Redis bus when Redis does not answer', () => {
  let redis: RedisProcess;
  beforeEach(async () => {
    redis = await startRedisProcess();
  });
  afterEach(async () => {
    redis.thaw();
    await redis.stop();
  });

  const subscribed = async () => {
    const bus: EventBus = await createRedisBus({ url: redis.url, stream: 'test:stop', consumer: 'c1', log: () => {} });
    await bus.subscribe('durable', async () => {});
    const stopEphemeral = await bus.subscribe('ephemeral', async () => {}, { ephemeral: true });
    return { bus, stopEphemeral };
  };

  it('stops a subscription and closes while Redis is frozen', async () => {
    const { bus, stopEphemeral } = await subscribed();
    redis.freeze();
    await expect(within(stopEphemeral(), 10_000)).resolves.toBeUndefined();
    await expect(within(bus.close(), 10_000)).resolves.toBeUndefined();
  });

  it('closes after Redis was killed', async () => {
    const { bus } = await subscribed();
    await redis.kill();
    await expect(within(bus.close(), 10_000)).resolves.toBeUndefined();
  });
});
