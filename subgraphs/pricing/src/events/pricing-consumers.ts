import type { EventApplier } from '../../../../lib/events/consumer.js';
import { rememberStore, rememberVariant } from '../../../../lib/events/read-model.js';

/** What pricing learns from other subgraphs: which stores and skus exist. */
export const pricingAppliers: Record<string, EventApplier> = {
  'tenant.store.created': rememberStore,
  'catalog.variant.upserted': rememberVariant,
};
