import type { StockChangedPayload } from '../services/stock-level.js';

/** Events the inventory subgraph publishes, by type. */
export interface InventoryEvents {
  /** Also the payload of the `stockChanged` subscription. */
  'inventory.stock-level.changed': StockChangedPayload & { movementId: string; kind: string; quantity: number };
}
