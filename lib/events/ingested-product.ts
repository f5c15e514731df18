/**
 * The contract of `inventory.ingestion.product-received`: a merchant system's product as the
 * ingestion worker adapted it. Inventory publishes it; the catalog upserts the product and its
 * variants (by `externalRef` and sku); pricing sets each variant's price in every store.
 */
export interface IngestedProduct {
  ingestionEventId: string;
  source: string;
  /** e.g. `shopify:632910392`. */
  externalRef: string;
  title: string;
  description: string | null;
  brand: string | null;
  published: boolean;
  /** Of the prices; null: the source sent none. */
  currencyCode: string | null;
  /**
   * When the source changed it (ISO 8601): the catalog and pricing apply it only when no later
   * one from the same source was applied. Null in events published before it was sent.
   */
  sourceTime?: string | null;
  variants: { sku: string; title: string; barcode: string | null; price: string | null }[];
}

export const INGESTED_PRODUCT = 'inventory.ingestion.product-received';
