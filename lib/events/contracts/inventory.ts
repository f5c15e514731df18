import type { IngestedProduct } from '../ingested-product.js';
import type { IngestedMenu } from '../ingested-menu.js';
import type { FeedBatchApplied } from '../catalog-feed.js';

/** What clients and events see of a stock level. */
export interface StockLevelView {
  sku: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
  orderable: number;
  /** Units shipped to this store and not yet received. */
  inTransit: number;
  version: number;
  updatedAt: string | null;
}

/**
 * `stockChanged`'s value as events carry it: the stock level with its store and variant as
 * entity references, so the gateway can resolve any selection of the field from the event alone.
 */
export type StockChangedPayload = StockLevelView & {
  __typename: 'StockLevel';
  /** Its `Node` id (decision 0026; absent in events written before it was added). */
  id?: string;
  store: { __typename: 'Store'; id: string };
  variant: { __typename: 'Variant'; sku: string };
};

/** One level's change: the level after it and the batch's last movement of it. */
export type StockLevelChange = StockChangedPayload & {
  movementId: string;
  kind: string;
  quantity: number;
  /** `available` before this change (absent in events written before it was added). */
  previousAvailable?: number;
};

/** Events the inventory subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface InventoryEvents {
  /** Also the payload of the `stockChanged` subscription. */
  'inventory.stock-level.changed': StockLevelChange;
  /**
   * Every level one bulk write changed (a feed batch's stock column), each as
   * `inventory.stock-level.changed` would carry it: one event per applied batch (decision 0042).
   * The gateway fans it out per sku to `stockChanged` subscribers.
   */
  'inventory.stock-levels.changed': { changes: StockLevelChange[] };
  /**
   * `available` of a sku in a store fell from above `threshold` to at or below it (published by the
   * low-stock-alert plug-in, `plugins/low-stock-alert.ts`, once per crossing).
   */
  'inventory.stock-level.low': { sku: string; storeId: string; available: number; previousAvailable: number; threshold: number; causeEventId: string };
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
  /** A POS's `menu.updated` (decision 0036): the catalog replaces the store's menu, pricing its prices. */
  'inventory.ingestion.menu-received': IngestedMenu;
  /** What inventory applied (and refused) of one `catalog.feed.batch-imported`: the catalog counts it into the import. */
  'inventory.feed-batch.applied': FeedBatchApplied;
}
