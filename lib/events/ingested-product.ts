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
  /**
   * The product's options and pictures as the source has them (replacing what the catalog has);
   * absent in events of sources that send none and in events published before they were carried.
   */
  options?: { name: string; values: string[] }[];
  media?: { url: string; alt: string | null }[];
  variants: {
    sku: string;
    title: string;
    barcode: string | null;
    price: string | null;
    /** As the product's: absent, unchanged. */
    options?: { name: string; value: string }[];
    media?: { url: string; alt: string | null }[];
  }[];
}

export const INGESTED_PRODUCT = 'inventory.ingestion.product-received';
