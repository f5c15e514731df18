import type { DataSource } from 'typeorm';
import { inTenantTransaction, qualified } from '../../../../lib/db/data-source.js';
import type { EventEnvelope } from '../../../../lib/events/envelope.js';
import type { EventBus } from '../../../../lib/events/event-bus.js';
import { readEvent, refusingReader } from '../../../../lib/events/upcasters.js';
import { isDeliverable } from './deliverable-events.js';
import { resourceKeyOf } from './resource-key.js';

/** The consumer group that turns events into deliveries (its own: `processed_event` is the tenant consumer's). */
export const WEBHOOK_CONSUMER_GROUP = 'tenant-webhooks';

/** The JSON body every subscription gets for an event (Standard Webhooks: `type`, `timestamp`, `data`). */
export function webhookBody(event: EventEnvelope): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, version: event.version, eventId: event.eventId, data: event.payload });
}

/**
 * Consumes every publisher's events from the bus: an event that subscriptions of its tenant
 * want becomes one `webhook_message` (the dedupe mark, keyed by event id, and the body) and one
 * `webhook_delivery` per subscription, in one transaction. A crash before the commit leaves the
 * event unacknowledged on the bus; after it, the deliveries are in the table: none is lost, and
 * a redelivered event adds nothing. The body carries the payload at the version documented now
 * (an older event is upcast, lib/events/upcasters.ts); an event newer than this code knows is
 * refused (logged, left unacknowledged) rather than sent in a shape docs/events.md does not describe.
 */
export async function consumeForWebhooks(
  dataSource: DataSource,
  bus: EventBus,
  onWritten: () => void,
  options: { read?: (event: EventEnvelope) => EventEnvelope; log?: (message: string) => void } = {},
): Promise<() => Promise<void>> {
  const read = refusingReader(options.read ?? readEvent, options.log ?? ((message) => console.error(message)));
  const subscriptions = qualified(dataSource, 'webhook_subscription');
  const messages = qualified(dataSource, 'webhook_message');
  const deliveries = qualified(dataSource, 'webhook_delivery');
  return bus.subscribe(WEBHOOK_CONSUMER_GROUP, async (received) => {
    if (!isDeliverable(received.type)) return;
    const event = read(received);
    const written = await inTenantTransaction(dataSource, event.tenantId, async (m) => {
      // Only subscriptions that existed when the event happened (a new group on Redis reads history).
      const wanted: { id: string }[] = await m.query(
        `SELECT id FROM ${subscriptions} WHERE tenant_id = $1 AND $2 = ANY(event_types) AND created_at <= $3`,
        [event.tenantId, event.type, event.occurredAt],
      );
      if (wanted.length === 0) return false;
      const fresh: unknown[] = await m.query(
        `INSERT INTO ${messages} (event_id, tenant_id, type, body) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING event_id`,
        [event.eventId, event.tenantId, event.type, webhookBody(event)],
      );
      if (fresh.length === 0) return false;
      await m.query(
        `INSERT INTO ${deliveries} (id, tenant_id, subscription_id, event_id, event_type, resource_key)
         SELECT gen_random_uuid(), $1, id, $2, $3, $4 FROM unnest($5::uuid[]) AS id`,
        [event.tenantId, event.eventId, event.type, resourceKeyOf(event.type, event.payload), wanted.map((w) => w.id)],
      );
      return true;
    });
    if (written) onWritten();
  });
}
