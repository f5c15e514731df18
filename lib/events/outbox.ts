import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
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

/** An outbox writer bound to a service's map of event types to payloads. */
export function typedOutbox<M>() {
  return <K extends keyof M & string>(manager: EntityManager, tenantId: string, type: K, payload: M[K]) =>
    appendToOutbox(manager, { type, tenantId, payload });
}
