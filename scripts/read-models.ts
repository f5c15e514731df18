import type { ReadModel } from '../lib/events/replay.js';
import { catalogReadModels } from '../subgraphs/catalog/src/events/read-models.js';
import { inventoryReadModels } from '../subgraphs/inventory/src/events/read-models.js';
import { ordersReadModels } from '../subgraphs/orders/src/events/read-models.js';
import { pricingReadModels } from '../subgraphs/pricing/src/events/read-models.js';

/**
 * Every read model of every service, each declared beside its consumer (`src/events/read-models.ts`).
 * The tenant subgraph keeps none (its webhook deliveries are work to do, not a copy), nor does the
 * gateway (its caches live in memory and refill themselves).
 */
export const READ_MODELS: readonly ReadModel[] = [...catalogReadModels, ...inventoryReadModels, ...pricingReadModels, ...ordersReadModels];
