import { knownStoresReadModel, knownVariantsReadModel } from '../../../../lib/events/read-model.js';
import type { ReadModel } from '../../../../lib/events/replay.js';
import { featureFlagCopyReadModel } from '../../../../lib/flags/flag-copy.js';
import { rebuildStockLevelsIn } from '../services/projection-rebuild.js';

/** Inventory's read models: what it keeps from others' events, and its stock levels, a projection of its ledger (`npm run replay -- inventory`). */
export const inventoryReadModels: ReadModel[] = [
  knownStoresReadModel('inventory'),
  knownVariantsReadModel('inventory'),
  {
    name: 'inventory.stock-levels',
    service: 'inventory',
    tables: ['stock_level'],
    description: 'on hand, reserved and in transit per sku and store, folded from the movement ledger (not from events)',
    rebuild: async (m) => (await rebuildStockLevelsIn(m)).movements,
  },
  featureFlagCopyReadModel('inventory'),
];
