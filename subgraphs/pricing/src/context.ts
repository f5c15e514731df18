import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { Money } from '../../../lib/money.js';
import type { PricingService } from './services/pricing.service.js';

export interface Context extends SubgraphContext {
  pricing: PricingService;
  loaders: {
    /** Key: `${sku}\n${storeId}`. */
    price: DataLoader<string, Money | null>;
  };
}
