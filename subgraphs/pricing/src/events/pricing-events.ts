import type { Money } from '../../../../lib/money.js';

/** Events the pricing subgraph publishes, by type. */
export interface PricingEvents {
  'pricing.price.changed': { sku: string; storeId: string; price: Money; previous: Money | null; version: number; updatedAt: string };
}
