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

/** Events the pricing subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface PricingEvents {
  /** Also the payload of the `priceChanged` subscription. */
  'pricing.price.changed': PriceChangedPayload;
  /** What pricing applied of one `catalog.feed.batch-imported`: the catalog counts it into the import. */
  'pricing.feed-batch.applied': FeedBatchApplied;
}
