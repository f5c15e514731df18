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
