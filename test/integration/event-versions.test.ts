import { randomUUID } from 'node:crypto';
import { inSystemTransaction, inTenantTransaction } from '../../lib/db/data-source.js';
import { consumeEvents } from '../../lib/events/consumer.js';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import { eventInfo } from '../../lib/events/event-map.js';
import { createInMemoryBus } from '../../lib/events/in-memory-bus.js';
import { appendToOutbox } from '../../lib/events/outbox.js';
import { replayReadModel } from '../../lib/events/replay.js';
import { eventReader, missingUpcasters, type UpcasterTable, type VersionOf } from '../../lib/events/upcasters.js';
import { openOrdersDatabase } from '../../subgraphs/orders/src/data/database.js';
import { ordersReadModels } from '../../subgraphs/orders/src/events/read-models.js';
import { openTenantDatabase } from '../../subgraphs/tenant/src/data/database.js';
import { useServiceSchema } from '../support/service-schema.js';

/**
 * A code base where `tenant.store.created` is at version 2: version 1 named the store's code
 * `storeCode` (synthetic; the real type is still at 1). The consumer and the replay below are the
 * real ones (orders' `known_store` reaction over a real database), given this reader.
 */
const versionOf: VersionOf = (type) => (type === 'tenant.store.created' ? 2 : eventInfo(type)?.version);
const upcasters: UpcasterTable = {
  'tenant.store.created': { 1: ({ storeCode, ...rest }) => ({ ...rest, code: storeCode }) },
};
const read = eventReader({ versionOf, upcasters });

describe('event versions: older payloads upcast, newer ones refused', () => {
  const orders = useServiceSchema('orders_v', openOrdersDatabase);
  const tenant = useServiceSchema('tenant_v', openTenantDatabase);
  const tenantId = randomUUID();
  const knownStores = ordersReadModels.find((model) => model.name === 'orders.known-stores')!;

  const envelope = (version: number, payload: Record<string, unknown>): EventEnvelope => ({
    eventId: randomUUID(),
    type: 'tenant.store.created',
    occurredAt: new Date().toISOString(),
    tenantId,
    source: 'tenant',
    version,
    payload,
  });
  const stores = () =>
    inTenantTransaction(orders.dataSource(), tenantId, (m) => m.query(`SELECT store_id, code FROM "${orders.schema}".known_store ORDER BY code`)) as Promise<{ store_id: string; code: string }[]>;
  const processed = (eventId: string) =>
    inSystemTransaction(orders.dataSource(), (m) => m.query(`SELECT 1 FROM "${orders.schema}".processed_event WHERE event_id = $1`, [eventId])) as Promise<unknown[]>;

  it('a consumer applies a version 1 payload upcast to version 2, refuses version 3 (logged, not marked processed), and replay upcasts too', async () => {
    const logged: string[] = [];
    const bus = createInMemoryBus(() => {});
    const stop = await consumeEvents({ dataSource: orders.dataSource(), bus, group: 'orders', appliers: { 'tenant.store.created': knownStores.reactions![0]!.apply }, read, log: (m) => logged.push(m) });
    try {
      const old = envelope(1, { id: randomUUID(), storeCode: 'OLD', name: 'Old shape', kind: 'STORE' });
      const current = envelope(2, { id: randomUUID(), code: 'NEW', name: 'Current shape', kind: 'STORE' });
      const newer = envelope(3, { id: randomUUID(), code: 'NEWER', storeKind: { name: 'STORE' } });
      await bus.publish(old);
      await bus.publish(current);
      await bus.publish(newer);
      expect((await stores()).map((s) => s.code)).toEqual(['NEW', 'OLD']);
      expect(await processed(old.eventId)).toHaveLength(1);
      // Refused: not applied, no processed_event row (a redelivery once upgraded applies it), said once.
      expect(await processed(newer.eventId)).toHaveLength(0);
      expect(logged).toEqual([expect.stringMatching(/tenant\.store\.created .* is version 3, this consumer reads it up to version 2: left unapplied and unacknowledged/)]);
      await bus.publish(newer);
      expect(logged).toHaveLength(1);
    } finally {
      await stop();
      await bus.close();
    }

    // The same versions in the publisher's outbox: the replay reads them through the same reader.
    const store = randomUUID();
    await inTenantTransaction(tenant.dataSource(), tenantId, (m) =>
      appendToOutbox(m, { type: 'tenant.store.created', tenantId, version: 1, payload: { id: store, storeCode: 'FROM-OUTBOX', name: 'Outbox', kind: 'STORE' } }),
    );
    const databases = { orders: orders.dataSource(), tenant: tenant.dataSource() } as Record<string, ReturnType<typeof orders.dataSource>>;
    const report = await replayReadModel(knownStores, (service) => databases[service]!, { read });
    expect(report).toEqual(expect.objectContaining({ read: 1, before: 2, after: 1 }));
    expect(await stores()).toEqual([{ store_id: store, code: 'FROM-OUTBOX' }]);
    // And a newer version in the outbox stops the replay (rolled back: the model keeps its rows).
    await inTenantTransaction(tenant.dataSource(), tenantId, (m) =>
      appendToOutbox(m, { type: 'tenant.store.created', tenantId, version: 3, payload: { id: randomUUID(), code: 'X', name: 'X', kind: 'STORE' } }),
    );
    await expect(replayReadModel(knownStores, (service) => databases[service]!, { read })).rejects.toThrow(/version 3/);
    expect(await stores()).toEqual([{ store_id: store, code: 'FROM-OUTBOX' }]);
  });

  it('a type above version 1 without a step from each older version is caught before any event arrives', () => {
    expect(missingUpcasters(versionOf, upcasters, ['tenant.store.created'])).toEqual([]);
    expect(missingUpcasters((type) => (type === 'tenant.store.created' ? 3 : 1), upcasters, ['tenant.store.created'])).toEqual(['tenant.store.created 2 → 3']);
    // This code base's own table is complete (upcasters.ts would not have loaded otherwise).
    expect(missingUpcasters()).toEqual([]);
  });
});
