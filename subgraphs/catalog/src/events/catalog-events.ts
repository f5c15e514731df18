/** Events the catalog subgraph publishes, by type. */
export interface CatalogEvents {
  'catalog.product.upserted': { id: string; title: string; brand: string | null; skus: string[] };
  /** The tenant's search synonyms changed (what a search finds may have). */
  'catalog.search.synonyms-set': { groups: string[][] };
  'catalog.variant.upserted': { sku: string; productId: string; title: string; productTitle: string; barcode: string | null };
}
