import type { StockLevelView } from '../services/stock-level.js';

/** Events the inventory subgraph publishes, by type. */
export interface InventoryEvents {
  'inventory.stock-level.changed': StockLevelView & { movementId: string; kind: string; quantity: number };
}
