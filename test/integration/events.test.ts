import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../lib/db/data-source.js';
import { consumeEvents } from '../../lib/events/consumer.js';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import { createInMemoryBus } from '../../lib/events/in-memory-bus.js';
import { appendToOutbox } from '../../lib/events/outbox.js';
import { createOutboxRelay } from '../../lib/events/outbox-relay.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { openTenantDatabase } from '../../subgraphs/tenant/src/data/database.js';

const buses: [string, () => Promise<EventBus>][] = [['in-process', async () => createInMemoryBus(() => {})]];
if (process.env.REDIS_URL) {
  buses.push(['redis', () => createRedisBus({ url: process.env.REDIS_URL!, stream: `test:events:${randomBytes(4).toString('hex')}`, log: () => {} })]);
}

describe.each(buses)('outbox, relay and consumers on the %s bus', (_name, openBus) => {
  const schema = `tenant_e${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource;
  let bus: EventBus;
  const tenantId = randomUUID();

  beforeAll(async () => {
    dataSource = await openTenantDatabase(process.env.DATABASE_URL!, schema);
  });
  beforeEach(async () => {
    bus = await openBus();
  });
  afterEach(() => bus.close());
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    await dataSource.destroy();
  });

  const write = (type: string) =>
    inTenantTransaction(dataSource, tenantId, (m) => appendToOutbox(m, { type, tenantId, payload: { type } }));

  it('publishes rows committed while no relay ran, in order, and marks them published', async () => {
    const received: EventEnvelope[] = [];
    await bus.subscribe('observer', async (event) => void received.push(event));
    const ids = [await write('test.thing.created'), await write('test.thing.changed')];
    const relay = createOutboxRelay({ dataSource, bus, source: 'test', pollMs: 50 });
    relay.start();
    await relay.flush();
    await waitFor(() => received.length >= 2);
    await relay.stop();
    expect(received.map((e) => [e.eventId, e.type, e.tenantId, e.source])).toEqual([
      [ids[0], 'test.thing.created', tenantId, 'test'],
      [ids[1], 'test.thing.changed', tenantId, 'test'],
    ]);
    const [{ count }] = await inSystemTransaction(dataSource, (m) =>
      m.query(`SELECT count(*)::int AS count FROM "${schema}".outbox WHERE published_at IS NULL`),
    );
    expect(count).toBe(0);
  });

  it('applies a redelivered event once', async () => {
    const applied: string[] = [];
    await consumeEvents({
      dataSource,
      bus,
      group: `consumer-${randomBytes(3).toString('hex')}`,
      appliers: { 'test.thing.counted': async (_m, event) => void applied.push(event.eventId) },
    });
    const event: EventEnvelope = {
      eventId: randomUUID(), type: 'test.thing.counted', occurredAt: new Date().toISOString(), tenantId, source: 'test', version: 1, payload: {},
    };
    await bus.publish(event);
    await bus.publish(event);
    await bus.publish({ ...event, eventId: randomUUID() });
    await waitFor(() => applied.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(applied).toEqual([event.eventId, expect.any(String)]);
  });

  it('redelivers an event whose handler failed mid-way, and applies it exactly once', async () => {
    const applied: string[] = [];
    let attempts = 0;
    await consumeEvents({
      dataSource,
      bus,
      group: `crashy-${randomBytes(3).toString('hex')}`,
      appliers: {
        'test.thing.flaky': async (m, event) => {
          attempts += 1;
          // The write happens, then the handler dies: its transaction (and the dedupe row) roll back.
          await appendToOutbox(m, { type: 'test.thing.side-effect', tenantId, payload: {} });
          if (attempts === 1) throw new Error('crash mid-way');
          applied.push(event.eventId);
        },
      },
    });
    const event: EventEnvelope = {
      eventId: randomUUID(), type: 'test.thing.flaky', occurredAt: new Date().toISOString(), tenantId, source: 'test', version: 1, payload: {},
    };
    const before = await countOutbox();
    await bus.publish(event);
    await waitFor(() => applied.length >= 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect({ attempts, applied }).toEqual({ attempts: 2, applied: [event.eventId] });
    expect(await countOutbox()).toBe(before + 1);
  });

  it('leaves no trace of a transaction that failed', async () => {
    const before = await countOutbox();
    await expect(
      inTenantTransaction(dataSource, tenantId, async (m) => {
        await appendToOutbox(m, { type: 'test.thing.failed', tenantId, payload: {} });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await countOutbox()).toBe(before);
  });

  async function countOutbox(): Promise<number> {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      // The owner is under forced row-level security too: count as the platform.
      await client.query('BEGIN');
      await client.query(`SELECT set_config('app.system', 'on', true)`);
      const { rows } = await client.query(`SELECT count(*)::int AS count FROM "${schema}".outbox`);
      await client.query('COMMIT');
      return rows[0].count;
    } finally {
      await client.end();
    }
  }
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
