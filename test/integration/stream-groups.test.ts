import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { readGroups } from '../../lib/events/stream-groups.js';
import { registry } from '../../lib/observability/metrics.js';

// Lag and the oldest unconsumed age per consumer group: what the runbook's "Events behind" alert reads.
const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('consumer groups report how far behind they are', () => {
  const url = process.env.REDIS_URL!;
  const stream = `test:groups:${randomBytes(4).toString('hex')}`;
  let raw: ReturnType<typeof createClient>;
  beforeAll(async () => {
    raw = createClient({ url });
    await raw.connect();
  });
  afterAll(async () => {
    await raw.del([stream, `${stream}:durable-groups`, `${stream}:incarnation:test`]);
    await raw.quit();
  });

  it('shows lag, pending and the oldest unconsumed age of a group that fell behind, and 0 once it caught up', async () => {
    const bus = await createRedisBus({ url, stream, log: () => {} });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let received = 0;
    await bus.subscribe('slow', async () => {
      await gate;
      received++;
    });
    const envelope = (): EventEnvelope => ({ eventId: randomUUID(), type: 'test.thing.many', occurredAt: new Date().toISOString(), tenantId: randomUUID(), source: 'test', version: 1, payload: {} });
    for (let i = 0; i < 250; i++) await bus.publish(envelope());
    // The consumer has read a batch (pending) and holds it; the rest was not delivered yet (lag).
    await until(async () => (await readGroups(raw, stream, `${stream}:durable-groups`)).some((g) => g.pending > 0));
    const [behind] = await readGroups(raw, stream, `${stream}:durable-groups`);
    expect(behind).toMatchObject({ group: 'slow', durable: true });
    expect(behind!.pending + behind!.lag).toBe(250);
    expect(behind!.oldestAgeSeconds).toBeGreaterThanOrEqual(0);
    const text = await registry.metrics();
    expect(text).toMatch(new RegExp(`event_group_lag\\{stream="${stream}",group="slow",durable="true"\\} \\d+`));
    expect(text).toContain(`event_stream_length{stream="${stream}"} 250`);

    release();
    await until(() => received === 250);
    await until(async () => {
      const [g] = await readGroups(raw, stream, `${stream}:durable-groups`);
      return g!.lag === 0 && g!.pending === 0 && g!.oldestAgeSeconds === 0;
    });
    await bus.close();
    // Stopped: its series are gone from this process's metrics.
    expect(await registry.metrics()).not.toContain(`stream="${stream}"`);
  });
});

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
