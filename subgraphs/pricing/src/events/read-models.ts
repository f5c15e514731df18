import { knownStoresReadModel, knownVariantsReadModel } from '../../../../lib/events/read-model.js';
import type { ReadModel } from '../../../../lib/events/replay.js';
import { featureFlagCopyReadModel } from '../../../../lib/flags/flag-copy.js';
import { itemFacts } from './pricing-consumers.js';

/** What pricing keeps only from others' events (`npm run replay -- pricing`). */
export const pricingReadModels: ReadModel[] = [
  knownStoresReadModel('pricing'),
  knownVariantsReadModel('pricing'),
  { name: 'pricing.item-facts', service: 'pricing', tables: ['item_facts'], description: "each sku's brand and category, what promotions and tax rates match on", reactions: [itemFacts] },
  featureFlagCopyReadModel('pricing'),
];
