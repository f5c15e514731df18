import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { eventually } from '../support/start-supergraph.js';

// A real Redis and a real process killed -9: runs where REDIS_URL is set (CI's real-server pass).
const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('what a killed process left on the stream', () => {
  const url = process.env.REDIS_URL!;
  const stream = `test:reaper:${randomBytes(4).toString('hex')}`;
  let raw: ReturnType<typeof createClient>;
  let bus: EventBus;
  const envelope = (): EventEnvelope => ({ eventId: randomUUID(), type: 'test.ping', occurredAt: new Date().toISOString(), tenantId: randomUUID(), source: 'test', version: 1, payload: {} });
  const groups = async () => (await raw.xInfoGroups(stream)).map((g) => String(g.name)).sort();
  const consumers = async (group: string) => (await raw.xInfoConsumers(stream, group)).map((c) => String(c.name)).sort();

  beforeAll(async () => {
    raw = createClient({ url });
    await raw.connect();
  });
  afterAll(async () => {
    await bus?.close();
    for (const key of await raw.keys(`${stream}*`)) await raw.del(key);
    await raw.quit();
  });

  it("removes a killed gateway's ephemeral group and a dead instance's consumer, and keeps the living", async () => {
    const seen: string[] = [];
    bus = await createRedisBus({ url, stream, consumer: 'survivor', leaseMs: 1_000, reapMs: 200, claimIdleMs: 500, log: () => {} });
    await bus.subscribe('gateway-alive', async () => {}, { ephemeral: true });
    await bus.subscribe('inventory', async (event) => void seen.push(event.eventId));

    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/bus-reader-process.ts', url, stream, 'gateway-killed', 'inventory', 'killed', '1000'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(createInterface({ input: child.stdout! }), 'line');
    // Both instances of the group get entries, so both are its consumers.
    await eventually(async () => {
      await bus.publish(envelope());
      expect(await consumers('inventory')).toEqual(['killed', 'survivor']);
    }, 15_000);
    expect(await groups()).toEqual(['gateway-alive', 'gateway-killed', 'inventory']);

    child.kill('SIGKILL');
    await once(child, 'exit');
    await eventually(async () => {
      expect(await groups()).toEqual(['gateway-alive', 'inventory']);
      expect(await consumers('inventory')).toEqual(['survivor']);
    }, 15_000);

    // The living read on, and the group has lost nothing the killed instance was given.
    const after = envelope();
    await bus.publish(after);
    await eventually(async () => expect(seen).toContain(after.eventId));
    expect(Number((await raw.xPending(stream, 'inventory')).pending)).toBe(0);
  }, 60_000);
});
