import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../lib/db/data-source.js';
import { consumeEvents } from '../../lib/events/consumer.js';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import { appendToOutbox } from '../../lib/events/outbox.js';
import { createOutboxRelay } from '../../lib/events/outbox-relay.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { openTenantDatabase } from '../../subgraphs/tenant/src/data/database.js';

// What only a real Redis can lose: runs where REDIS_URL is set (CI's real-server pass).
const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('the Redis bus recovers what a crash or an emptied Redis left behind', () => {
  const url = process.env.REDIS_URL!;
  const tenantId = randomUUID();
  let stream: string;
  let raw: ReturnType<typeof createClient>;
  const buses: EventBus[] = [];
  const open = async (options: { consumer?: string; claimIdleMs?: number; maxLength?: number; trimMs?: number } = {}) => {
    const bus = await createRedisBus({ url, stream, log: () => {}, checkMs: 100, ...options });
    buses.push(bus);
    return bus;
  };
  const envelope = (type: string): EventEnvelope => ({ eventId: randomUUID(), type, occurredAt: new Date().toISOString(), tenantId, source: 'test', version: 1, payload: {} });
  /** What a process that read an entry and died (kill -9) leaves: the entry pending under its name. */
  const readAndDie = async (group: string, consumer: string, event: EventEnvelope) => {
    await raw.xGroupCreate(stream, group, '0', { MKSTREAM: true });
    await raw.xAdd(stream, '*', { event: JSON.stringify(event) });
    await raw.xReadGroup(group, consumer, { key: stream, id: '>' }, { COUNT: 10 });
    expect(Number((await raw.xPending(stream, group)).pending)).toBe(1);
  };

  beforeAll(async () => {
    raw = createClient({ url });
    await raw.connect();
  });
  beforeEach(() => {
    stream = `test:recovery:${randomBytes(4).toString('hex')}`;
  });
  afterEach(async () => {
    for (const bus of buses.splice(0)) await bus.close();
    await raw.del([stream, `${stream}:incarnation:test`, `${stream}:durable-groups`]);
  });
  afterAll(() => raw.quit());

  it('gives a restarted instance, under its stable name, what it had read and not acknowledged', async () => {
    const event = envelope('test.thing.stranded');
    await readAndDie('svc', 'instance-1', event);
    const received: string[] = [];
    const bus = await open({ consumer: 'instance-1', claimIdleMs: 3_600_000 });
    await bus.subscribe('svc', async (e) => void received.push(e.eventId));
    await waitFor(() => received.length > 0);
    expect(received).toEqual([event.eventId]);
    await waitFor(async () => Number((await raw.xPending(stream, 'svc')).pending) === 0);
  });

  it('has a live instance claim what a dead one left pending, once idle long enough', async () => {
    const event = envelope('test.thing.orphaned');
    await readAndDie('svc', 'dead-instance', event);
    const received: string[] = [];
    const bus = await open({ consumer: 'live-instance', claimIdleMs: 200 });
    await bus.subscribe('svc', async (e) => void received.push(e.eventId));
    await waitFor(() => received.length > 0);
    expect(received).toEqual([event.eventId]);
    await waitFor(async () => Number((await raw.xPending(stream, 'svc')).pending) === 0);
  });

  it('trims the stream, but never an entry a durable group has not acknowledged', async () => {
    let open_!: () => void;
    const gate = new Promise<void>((resolve) => (open_ = resolve));
    const received: string[] = [];
    const bus = await open({ maxLength: 10, trimMs: 20 });
    // A slow service: it holds its first entry until the gate opens; 499 more wait behind it.
    await bus.subscribe('slow', async (e) => {
      await gate;
      received.push(e.eventId);
    });
    const sent: string[] = [];
    for (let i = 0; i < 500; i++) {
      const event = envelope('test.thing.many');
      await bus.publish(event);
      sent.push(event.eventId);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    open_();
    await waitFor(() => received.length >= 500, 10_000);
    expect(received).toEqual(sent);
    // Once acknowledged, the entries go: the stream shrinks towards its cap (whole nodes of 100).
    await waitFor(async () => (await raw.xLen(stream)) <= 110);
  });

  describe('with an outbox', () => {
    const schema = `tenant_r${randomBytes(4).toString('hex')}`;
    let dataSource: DataSource;
    beforeAll(async () => {
      dataSource = await openTenantDatabase(process.env.DATABASE_URL!, schema);
    });
    afterAll(async () => {
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
      await dataSource.destroy();
    });

    it('recreates its groups and re-publishes the outbox when Redis comes back without its data', async () => {
      const bus = await open();
      const received: string[] = [];
      await bus.subscribe('svc', async (e) => void received.push(e.eventId));
      const relay = createOutboxRelay({ dataSource, bus, source: 'test', pollMs: 100 });
      relay.start();
      const write = (type: string) => inTenantTransaction(dataSource, tenantId, (m) => appendToOutbox(m, { type, tenantId, payload: {} }));
      const before = await write('test.thing.before');
      await relay.flush();
      await waitFor(() => received.includes(before));

      // Redis restarted empty, as far as this stream goes: the stream, its groups and the marker are gone.
      await raw.del([stream, `${stream}:incarnation:test`]);
      const after = await write('test.thing.after');
      await relay.flush();
      await waitFor(() => received.includes(after), 10_000);
      // The event from before the loss is in the stream again (the group had acknowledged it; another might not have).
      const entries = await raw.xRange(stream, '-', '+');
      expect(entries.map((e) => (JSON.parse(e.message.event!) as EventEnvelope).eventId)).toEqual(expect.arrayContaining([before, after]));
      await waitFor(async () => bus.ping().then(() => true, () => false));
      await relay.stop();
    });

    it('applies what one read delivers in one transaction per tenant, and one by one when an event of it fails', async () => {
      const bus = await open();
      const events = Array.from({ length: 31 }, (_, i) => envelope(i === 15 ? 'test.thing.flaky' : 'test.thing.counted'));
      await bus.publishBatch!(events);
      // Sent together, in order.
      const stream_ = (await raw.xRange(stream, '-', '+')).map((e) => (JSON.parse(e.message.event!) as EventEnvelope).eventId);
      expect(stream_).toEqual(events.map((e) => e.eventId));
      const transactionOf = new Map<string, string>();
      let flakyTries = 0;
      const txid = async (m: EntityManager) => String(((await m.query('SELECT txid_current() AS id')) as [{ id: string }])[0].id);
      await consumeEvents({
        dataSource,
        bus,
        group: 'batch',
        appliers: {
          'test.thing.counted': async (m, event) => void transactionOf.set(event.eventId, await txid(m)),
          'test.thing.flaky': async (m, event) => {
            flakyTries += 1;
            // Fails in the read's transaction and again on its own: the read is retried.
            if (flakyTries <= 2) throw new Error('fails twice');
            transactionOf.set(event.eventId, await txid(m));
          },
        },
      });
      const ids = events.map((e) => e.eventId);
      const processed = () =>
        inSystemTransaction(dataSource, async (m) => ((await m.query(`SELECT event_id FROM "${schema}".processed_event WHERE event_id = ANY($1::uuid[])`, [ids])) as unknown[]).length);
      await waitFor(async () => (await processed()) === ids.length, 20_000);
      await waitFor(async () => Number((await raw.xPending(stream, 'batch')).pending) === 0);
      // The failing read fell back to one transaction per event up to the failing one (kept); the
      // retried read skipped those, applied the event that failed, and the rest together with it.
      const before = new Set(ids.slice(0, 15).map((id) => transactionOf.get(id)));
      const after = new Set(ids.slice(15).map((id) => transactionOf.get(id)));
      expect(before.size).toBe(15);
      expect(after.size).toBe(1);
      expect(flakyTries).toBe(3);
    });

    it('publishes each row once when two instances of the service relay one outbox', async () => {
      const second = await openTenantDatabase(process.env.DATABASE_URL!, schema);
      const ids = await inTenantTransaction(dataSource, tenantId, async (m) => {
        const written: string[] = [];
        for (let i = 0; i < 300; i++) written.push(await appendToOutbox(m, { type: 'test.thing.counted', tenantId, payload: { i } }));
        return written;
      });
      const relays = [
        createOutboxRelay({ dataSource, bus: await open(), source: 'test', pollMs: 50 }),
        createOutboxRelay({ dataSource: second, bus: await open(), source: 'test', pollMs: 50 }),
      ];
      for (const relay of relays) relay.start();
      await Promise.all(relays.map((relay) => relay.flush()));
      await waitFor(async () => (await raw.xLen(stream)) >= ids.length);
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const relay of relays) await relay.stop();
      await second.destroy();
      const published = (await raw.xRange(stream, '-', '+')).map((e) => (JSON.parse(e.message.event!) as EventEnvelope).eventId);
      // Each once, in the order written.
      expect(published.filter((id) => ids.includes(id))).toEqual(ids);
    });
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
