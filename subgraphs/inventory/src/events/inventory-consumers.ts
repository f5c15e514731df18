import type { EventApplier } from '../../../../lib/events/consumer.js';
import { rememberStore, rememberVariant } from '../../../../lib/events/read-model.js';

/** What inventory learns from other subgraphs: which stores and skus exist. */
export const inventoryAppliers: Record<string, EventApplier> = {
  'tenant.store.created': rememberStore,
  'catalog.variant.upserted': rememberVariant,
};
