import type { EventEnvelope } from '../../../lib/events/envelope.js';
import type { BatchType, RowTypeOf } from '../../../lib/events/batch-events.js';
import type { EventMap, EventType, TypedEvent } from '../../../lib/events/event-map.js';

/** How one subscription field is fed by events. */
export interface SubscriptionField {
  /** The event type whose payload is this field's value (shaped as the owning subgraph resolves it). */
  eventType: string;
  /** Bulk work's batch type whose `changes` are `eventType` payloads (decision 0042): delivered one change at a time. */
  batchEventType?: string;
  /** Bus topic of a subscription, from the authenticated tenant and the field's arguments. */
  topic(tenantId: string, args: Record<string, unknown>): string;
  /** Bus topic of an event. */
  eventTopic(event: EventEnvelope): string;
  /** Whether a payload concerns a subscription with these arguments. */
  matches(payload: Record<string, unknown>, args: Record<string, unknown>): boolean;
  /** Payloads with the same key supersede each other (snapshot, coalescing). */
  key(payload: Record<string, unknown>): string;
  /** Per-key version, increasing by one with every change. */
  version(payload: Record<string, unknown>): number;
  /**
   * The owning subgraph's query for the current state, as JSON payloads (one per key); it also
   * checks the arguments (an unknown store is NOT_FOUND). `variables` is told whether the
   * subscriber wants the state or only the check.
   */
  snapshot: { subgraph: string; field: string; query: string; variables(args: Record<string, unknown>, wanted: boolean): Record<string, unknown> };
}

/** A subscription field over one event type, its payload typed by the event map. */
interface TypedSubscriptionField<K extends EventType> extends Pick<SubscriptionField, 'topic' | 'snapshot' | 'batchEventType'> {
  eventType: K;
  eventTopic(event: TypedEvent<K>): string;
  matches(payload: EventMap[K], args: Record<string, unknown>): boolean;
  key(payload: EventMap[K]): string;
  version(payload: EventMap[K]): number;
}

/** The hub hands a field only events of its `eventType` (and snapshots of the same shape). */
const typed = <K extends EventType>(field: TypedSubscriptionField<K>): SubscriptionField => field as unknown as SubscriptionField;

const storeSnapshot = (subgraph: string, field: string): SubscriptionField['snapshot'] => ({
  subgraph,
  field,
  query: `query ($storeId: ID!, $skus: [ID!]) { ${field}(storeId: $storeId, skus: $skus) }`,
  // Without a snapshot, an empty list still checks the store.
  variables: (args, wanted) => ({ storeId: args.storeId, skus: wanted ? (args.skus ?? null) : [] }),
});

const storeScoped = <K extends RowTypeOf<BatchType>>(
  eventType: K,
  batchEventType: BatchType & { [B in BatchType]: RowTypeOf<B> extends K ? B : never }[BatchType],
  prefix: string,
  snapshot: SubscriptionField['snapshot'],
): SubscriptionField =>
  typed<K>({
    eventType,
    batchEventType,
    topic: (tenantId, args) => `${prefix}.${tenantId}.${String(args.storeId)}`,
    eventTopic: (event) => `${prefix}.${event.tenantId}.${event.payload.storeId}`,
    matches: (payload, args) => !Array.isArray(args.skus) || args.skus.includes(payload.sku),
    // Snapshots arrive as JSON from the subgraph: normalise as events would carry them.
    key: (payload) => String(payload.sku),
    version: (payload) => Number(payload.version),
    snapshot,
  });

/** The commerce subscriptions: live stock and prices of one store, and orders as they move. */
export const COMMERCE_SUBSCRIPTIONS: Record<string, SubscriptionField> = {
  stockChanged: storeScoped('inventory.stock-level.changed', 'inventory.stock-levels.changed', 'stock', storeSnapshot('inventory', 'stockChangedSnapshot')),
  priceChanged: storeScoped('pricing.price.changed', 'pricing.prices.changed', 'price', storeSnapshot('pricing', 'priceChangedSnapshot')),
  orderUpdated: typed({
    eventType: 'orders.order.updated',
    topic: (tenantId) => `order.${tenantId}`,
    eventTopic: (event) => `order.${event.tenantId}`,
    matches: (payload, args) => (!args.orderId || payload.id === args.orderId) && (!args.storeId || payload.storeId === args.storeId),
    key: (payload) => String(payload.id),
    version: (payload) => Number(payload.version),
    snapshot: {
      subgraph: 'orders',
      field: 'orderUpdatedSnapshot',
      query: 'query ($orderId: ID, $storeId: ID) { orderUpdatedSnapshot(orderId: $orderId, storeId: $storeId) }',
      variables: (args) => ({ orderId: args.orderId ?? null, storeId: args.storeId ?? null }),
    },
  }),
};
