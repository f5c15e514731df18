import type { Client } from '@openfeature/server-sdk';
import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { PriceEntity } from './data/entities/price.entity.js';
import type { ShownPrice } from './services/price-schedule.js';
import type { PricingService } from './services/pricing.service.js';
import type { PricingRulesService } from './services/rules.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  pricing: PricingService;
  rules: PricingRulesService;
  loaders: {
    /** What a storefront shows, key `skuStoreKey(sku, storeId)`: one rules load per store per request. */
    shownPrice: DataLoader<string, ShownPrice | null>;
    /** The price behind a `Price` id, key `skuStoreKey(sku, storeId)`. */
    priceNode: DataLoader<string, PriceEntity | null>;
  };
}
