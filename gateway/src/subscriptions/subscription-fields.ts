import type { EventEnvelope } from '../../../lib/events/envelope.js';

/** How one subscription field is fed by events. */
export interface SubscriptionField {
  /** The event type whose payload is this field's value (shaped as the owning subgraph resolves it). */
  eventType: string;
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
  /** The owning subgraph's field that returns the current state as JSON payloads. */
  snapshot: { subgraph: string; field: string };
}

const storeScoped = (eventType: string, prefix: string, snapshot: SubscriptionField['snapshot']): SubscriptionField => ({
  eventType,
  topic: (tenantId, args) => `${prefix}.${tenantId}.${String(args.storeId)}`,
  eventTopic: (event) => `${prefix}.${event.tenantId}.${String((event.payload as { storeId?: unknown }).storeId)}`,
  matches: (payload, args) => !Array.isArray(args.skus) || args.skus.includes(payload.sku),
  key: (payload) => String(payload.sku),
  version: (payload) => Number(payload.version),
  snapshot,
});

/** The commerce subscriptions: live stock and prices of one store. */
export const COMMERCE_SUBSCRIPTIONS: Record<string, SubscriptionField> = {
  stockChanged: storeScoped('inventory.stock-level.changed', 'stock', { subgraph: 'inventory', field: 'stockChangedSnapshot' }),
  priceChanged: storeScoped('pricing.price.changed', 'price', { subgraph: 'pricing', field: 'priceChangedSnapshot' }),
};
