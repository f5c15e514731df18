import { on } from '../../../../lib/events/on.js';
import { rememberStore, rememberVariant, rememberVariants } from '../../../../lib/events/read-model.js';
import type { ReadModel } from '../../../../lib/events/replay.js';
import { featureFlagCopyReadModel } from '../../../../lib/flags/flag-copy.js';
import { itemFacts } from './pricing-consumers.js';

/** What pricing keeps only from others' events (`npm run replay -- pricing`). */
export const pricingReadModels: ReadModel[] = [
  { name: 'pricing.known-stores', service: 'pricing', tables: ['known_store'], description: "the tenant's stores (tenant.store.created)", reactions: [on('tenant.store.created', rememberStore)] },
  {
    name: 'pricing.known-variants',
    service: 'pricing',
    tables: ['known_variant'],
    description: "the catalog's skus (catalog.variant(s).upserted)",
    reactions: [on('catalog.variant.upserted', rememberVariant), on('catalog.variants.upserted', rememberVariants)],
  },
  { name: 'pricing.item-facts', service: 'pricing', tables: ['item_facts'], description: "each sku's brand and category, what promotions and tax rates match on", reactions: [itemFacts] },
  featureFlagCopyReadModel('pricing'),
];
