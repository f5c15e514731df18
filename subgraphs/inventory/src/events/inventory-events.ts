import type { IngestedProduct } from '../../../../lib/events/ingested-product.js';
import type { StockChangedPayload } from '../services/stock-level.js';

/** Events the inventory subgraph publishes, by type. */
export interface InventoryEvents {
  /** Also the payload of the `stockChanged` subscription. */
  'inventory.stock-level.changed': StockChangedPayload & { movementId: string; kind: string; quantity: number };
  /** The order saga: every line of the order is reserved ... */
  'inventory.reservation.confirmed': { orderId: string; reservations: { id: string; sku: string; quantity: number }[]; causeEventId: string };
  /** ... or none is, and why. */
  'inventory.reservation.rejected': {
    orderId: string;
    reason: 'INSUFFICIENT_STOCK';
    lines: { sku: string; requested: number; available: number }[];
    causeEventId: string;
  };
  /**
   * A merchant system's product (Shopify products/update) as ingested: the catalog upserts the
   * product and its variants (by `externalRef` and sku), pricing sets the prices in every store.
   */
  'inventory.ingestion.product-received': IngestedProduct;
}

