import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inTenantTransaction, qualified } from '../../../../lib/db/data-source.js';
import type { EventEnvelope } from '../../../../lib/events/envelope.js';
import type { EventBus } from '../../../../lib/events/event-bus.js';
import { readEvent, refusingReader } from '../../../../lib/events/upcasters.js';
import { changesOf, isBatchType } from '../../../../lib/events/batch-events.js';
import { isDeliverable } from './deliverable-events.js';
import { resourceKeyOf } from './resource-key.js';

/** The consumer group that turns events into deliveries (its own: `processed_event` is the tenant consumer's). */
export const WEBHOOK_CONSUMER_GROUP = 'tenant-webhooks';

/** The JSON body every subscription gets for an event (Standard Webhooks: `type`, `timestamp`, `data`). */
export function webhookBody(event: EventEnvelope): string {
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt, version: event.version, eventId: event.eventId, data: event.payload });
}

/**
 * The id of a batch event's change `index` as a per-row event: a UUID made from the batch's id and
 * the index (name-based, as RFC 9562's version 5), so a redelivered batch gives each change the
 * id it had, and the message's dedupe mark holds.
 */
export function changeEventId(batchEventId: string, index: number): string {
  const hex = createHash('sha1').update(`${batchEventId}:${index}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Consumes every publisher's events from the bus: an event that subscriptions of its tenant
 * want becomes one `webhook_message` (the dedupe mark, keyed by event id, and the body) and one
 * `webhook_delivery` per subscription, in one transaction. A crash before the commit leaves the
 * event unacknowledged on the bus; after it, the deliveries are in the table: none is lost, and
 * a redelivered event adds nothing. The body carries the payload at the version documented now
 * (an older event is upcast, lib/events/upcasters.ts); an event newer than this code knows is
 * refused (logged, left unacknowledged) rather than sent in a shape docs/events.md does not describe.
 *
 * A batch event (decision 0042) goes as one delivery to subscriptions of its batch type, and as
 * one delivery per change, typed as the per-row event, to subscriptions of that type: a
 * subscriber of `inventory.stock-level.changed` still gets every stock change a feed makes.
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
    const rows = isBatchType(event.type) ? changesOf(event).map((change, i) => ({ ...change, eventId: changeEventId(event.eventId, i) })) : [];
    const types = [...new Set([event.type, ...rows.map((r) => r.type)])];
    const written = await inTenantTransaction(dataSource, event.tenantId, async (m) => {
      // Only subscriptions that existed when the event happened (a new group on Redis reads history).
      const wanted: { id: string; eventTypes: string[] }[] = await m.query(
        `SELECT id, event_types AS "eventTypes" FROM ${subscriptions} WHERE tenant_id = $1 AND event_types && $2::text[] AND created_at <= $3`,
        [event.tenantId, types, event.occurredAt],
      );
      // Every message the event makes (itself, and each change of a batch some subscription
      // wants), then every delivery of the fresh ones: two statements whatever the batch's size,
      // in the event's order (the deliveries' seq keeps a resource's changes in that order).
      const wantedBy = (type: string) => wanted.filter((w) => w.eventTypes.includes(type)).map((w) => w.id);
      const outgoing = [event, ...rows].map((one) => ({ one, ids: wantedBy(one.type) })).filter((o) => o.ids.length > 0);
      if (outgoing.length === 0) return false;
      const fresh = new Set(
        (
          (await m.query(
            `INSERT INTO ${messages} (event_id, tenant_id, type, body)
             SELECT e, $1, t, b FROM unnest($2::uuid[], $3::text[], $4::text[]) AS u(e, t, b)
             ON CONFLICT DO NOTHING RETURNING event_id AS "eventId"`,
            [event.tenantId, outgoing.map((o) => o.one.eventId), outgoing.map((o) => o.one.type), outgoing.map((o) => webhookBody(o.one))],
          )) as { eventId: string }[]
        ).map((r) => r.eventId),
      );
      const pairs = outgoing.filter((o) => fresh.has(o.one.eventId)).flatMap(({ one, ids }) => ids.map((id) => ({ one, id })));
      if (pairs.length === 0) return false;
      await m.query(
        `INSERT INTO ${deliveries} (id, tenant_id, subscription_id, event_id, event_type, resource_key)
         SELECT gen_random_uuid(), $1, s, e, t, k FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) WITH ORDINALITY AS u(s, e, t, k, n)
         ORDER BY n`,
        [event.tenantId, pairs.map((p) => p.id), pairs.map((p) => p.one.eventId), pairs.map((p) => p.one.type), pairs.map((p) => resourceKeyOf(p.one.type, p.one.payload))],
      );
      return true;
    });
    if (written) onWritten();
  });
}
