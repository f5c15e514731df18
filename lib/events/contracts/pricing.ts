import type { Money } from '../../money.js';
import type { FeedBatchApplied } from '../catalog-feed.js';

/** `priceChanged`'s value as events carry it, the variant as an entity reference. */
export interface PriceChangedPayload {
  __typename: 'PriceChange';
  sku: string;
  storeId: string;
  price: Money;
  previous: Money | null;
  version: number;
  updatedAt: string;
  variant: { __typename: 'Variant'; sku: string };
}

/**
 * A pricing rule was created or changed (a price list or its prices, a promotion, a tax rate, a
 * store's pricing settings): prices shown may have changed, so a tenant's cached storefront
 * answers are stale. `storeIds` empty: any store of the tenant.
 */
export interface PricingRulesChanged {
  kind: 'PRICE_LIST' | 'PROMOTION' | 'TAX_RATE' | 'STORE_PRICING';
  id: string;
  storeIds: string[];
}

/** Events the pricing subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface PricingEvents {
  /** Also the payload of the `priceChanged` subscription. */
  'pricing.price.changed': PriceChangedPayload;
  /**
   * Every price one bulk write changed (a feed batch, a merchant system's product or menu), each
   * as `pricing.price.changed` would carry it: one event per applied batch (decision 0042). The
   * gateway fans it out per sku to `priceChanged` subscribers. A write of one price sends that.
   */
  'pricing.prices.changed': { changes: PriceChangedPayload[] };
  /** What pricing applied of one `catalog.feed.batch-imported`: the catalog counts it into the import. */
  'pricing.feed-batch.applied': FeedBatchApplied;
  /** Only invalidates (the gateway's storefront cache); `priceChanged` is not told. */
  'pricing.rules.changed': PricingRulesChanged;
}
