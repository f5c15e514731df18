import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { EVENT_VERSIONS, type EventMap, type EventsByPublisher, type Publisher } from './event-map.js';
import { OutboxEvent } from './outbox-event.entity.js';

/** Appends an event to the service's outbox inside the caller's transaction. */
export async function appendToOutbox<P>(
  manager: EntityManager,
  event: { type: string; tenantId: string; payload: P; version?: number },
): Promise<string> {
  const eventId = randomUUID();
  await manager.insert(OutboxEvent, {
    eventId,
    type: event.type,
    tenantId: event.tenantId,
    payload: event.payload as object,
    version: event.version ?? 1,
    occurredAt: new Date(),
    publishedAt: null,
  });
  return eventId;
}

/**
 * The outbox writer of one publisher: it appends only that publisher's event types, each with the
 * payload the event map declares and the type's schema version.
 */
export function outboxOf<P extends Publisher>(publisher: P) {
  const versions: Record<string, number> = EVENT_VERSIONS[publisher];
  return <K extends keyof EventsByPublisher[P] & keyof EventMap & string>(manager: EntityManager, tenantId: string, type: K, payload: EventMap[K]) =>
    appendToOutbox(manager, { type, tenantId, payload, version: versions[type] });
}
