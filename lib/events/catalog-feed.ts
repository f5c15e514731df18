/**
 * Events of a bulk catalog feed import, one pair per batch of rows (so 100,000 rows are a few
 * hundred events, not 100,000). The catalog publishes them; inventory, pricing and orders keep
 * their read models with `catalog.variants.upserted`, and pricing and inventory apply the
 * price and stock columns of `catalog.feed.batch-imported`.
 */
export interface VariantsUpserted {
  variants: { sku: string; productId: string; title: string; productTitle: string; barcode: string | null }[];
}

export interface FeedBatchImported {
  importId: string;
  /** `storeId` null: the price of every store. */
  prices: { sku: string; storeId: string | null; amount: string; currencyCode: string }[];
  /** The stock level to set (units on hand). */
  stock: { sku: string; storeId: string; level: number }[];
}

export const VARIANTS_UPSERTED = 'catalog.variants.upserted';
export const FEED_BATCH_IMPORTED = 'catalog.feed.batch-imported';

/**
 * What pricing or inventory applied of one `catalog.feed.batch-imported` (one event per batch):
 * the catalog counts them into the import's `effects`, and the import is COMPLETED when every
 * price and stock row is applied.
 */
export interface FeedBatchApplied {
  importId: string;
  /** Rows of the batch's column this service applied (prices: feed rows, not stores). */
  applied: number;
  /** Stock rows left unchanged because the level was below what is reserved (inventory). */
  refused: number;
}
