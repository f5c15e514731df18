import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { Money } from '../../../lib/money.js';
import type { PricingService } from './services/pricing.service.js';
import type { PricingRulesService } from './services/rules.service.js';

export interface Context extends SubgraphContext {
  pricing: PricingService;
  rules: PricingRulesService;
  loaders: {
    /** Key: `${sku}\n${storeId}`. */
    price: DataLoader<string, Money | null>;
  };
}
