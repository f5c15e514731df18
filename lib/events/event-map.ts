/**
 * The one map of event types: each type's payload (in `contracts/<publisher>.ts`), its publisher
 * and its schema version. The outbox writer (`outboxOf`) and consumers (`on`) take their types
 * from here, so a payload change that a consumer does not follow fails to compile.
 *
 * To add an event type: its payload in the publisher's interface in `contracts/`, its version in
 * `EVENT_VERSIONS` below (the compiler asks for it), a row in docs/events.md (a test asks for it).
 */
import type { CatalogEvents } from './contracts/catalog.js';
import type { InventoryEvents } from './contracts/inventory.js';
import type { OrdersEvents } from './contracts/orders.js';
import type { PricingEvents } from './contracts/pricing.js';
import type { TenantEvents } from './contracts/tenant.js';
import type { EventEnvelope } from './envelope.js';

/** Each publisher's events (a subgraph publishes only its own). */
export interface EventsByPublisher {
  tenant: TenantEvents;
  catalog: CatalogEvents;
  inventory: InventoryEvents;
  pricing: PricingEvents;
  orders: OrdersEvents;
}

export type Publisher = keyof EventsByPublisher;
/** Every event type and its payload. */
export type EventMap = TenantEvents & CatalogEvents & InventoryEvents & PricingEvents & OrdersEvents;
export type EventType = keyof EventMap & string;
export type EventPayload<K extends EventType> = EventMap[K];
/** An event of one type as consumers receive it. */
export type TypedEvent<K extends EventType> = EventEnvelope<EventMap[K]> & { type: K };

/**
 * The schema version of each event type, by publisher: bump it when a payload changes in a way an
 * old consumer cannot read (removed or retyped field); adding an optional field keeps it.
 * Events carry it in their envelope (`version`).
 */
export const EVENT_VERSIONS = {
  tenant: {
    'tenant.tenant.created': 1,
    'tenant.tenant.locale-set': 1,
    'tenant.store.created': 1,
    'tenant.store.time-zone-set': 1,
    'tenant.api-key.created': 1,
    'tenant.api-key.revoked': 1,
    'tenant.webhook-source.configured': 1,
    'tenant.customer.registered': 1,
    'tenant.customer.password-reset-requested': 1,
    'tenant.feature-flag.changed': 1,
  },
  catalog: {
    'catalog.product.upserted': 1,
    'catalog.variant.upserted': 1,
    'catalog.variants.upserted': 1,
    'catalog.modifier-groups.set': 1,
    'catalog.availability-windows.set': 1,
    'catalog.feed.batch-imported': 1,
    'catalog.search.synonyms-set': 1,
    'catalog.search.changed': 1,
  },
  inventory: {
    'inventory.stock-level.changed': 1,
    'inventory.stock-levels.changed': 1,
    'inventory.stock-level.low': 1,
    'inventory.reservation.confirmed': 1,
    'inventory.reservation.rejected': 1,
    'inventory.ingestion.product-received': 1,
    'inventory.ingestion.menu-received': 1,
    'inventory.feed-batch.applied': 1,
  },
  pricing: {
    'pricing.price.changed': 1,
    'pricing.prices.changed': 1,
    'pricing.feed-batch.applied': 1,
    'pricing.rules.changed': 1,
  },
  orders: {
    'orders.order.placed': 1,
    'orders.order.paid': 1,
    'orders.order.fulfilled': 1,
    'orders.order.cancelled': 1,
    'orders.order.refunded': 1,
    'orders.shipment.created': 1,
    'orders.return.received': 1,
    'orders.order.updated': 1,
  },
} as const satisfies { [P in Publisher]: { [K in keyof EventsByPublisher[P]]: number } };

const byType = new Map<string, { publisher: Publisher; version: number }>(
  Object.entries(EVENT_VERSIONS).flatMap(([publisher, types]) =>
    Object.entries(types).map(([type, version]) => [type, { publisher: publisher as Publisher, version }] as const),
  ),
);

/** Every event type, in the order above. */
export const EVENT_TYPES: readonly EventType[] = [...byType.keys()] as EventType[];

/** Publisher and schema version of a type; undefined for a type outside the map. */
export const eventInfo = (type: string): { publisher: Publisher; version: number } | undefined => byType.get(type);

export const isEventType = (type: string): type is EventType => byType.has(type);

/** Narrows an envelope to one type of the map (for handlers that see every type, as the gateway's). */
export const isEventOf = <K extends EventType>(event: EventEnvelope, type: K): event is TypedEvent<K> => event.type === type;
