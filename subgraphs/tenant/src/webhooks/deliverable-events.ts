import { EVENT_TYPES, type EventType } from '../../../../lib/events/event-map.js';

/**
 * Event types that never leave the platform: their payloads are for its own services (a revoked
 * key's hash is how gateways find it in their caches).
 */
const INTERNAL: ReadonlySet<EventType> = new Set<EventType>(['tenant.api-key.revoked', 'tenant.webhook-source.configured']);

/** The event types a subscription may name: every type of the event map but the internal ones. */
export const DELIVERABLE_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter((type) => !INTERNAL.has(type));

export const isDeliverable = (type: string): boolean => (DELIVERABLE_EVENT_TYPES as readonly string[]).includes(type);
