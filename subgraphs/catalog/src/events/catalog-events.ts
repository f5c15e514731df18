/** Events the catalog subgraph publishes, by type. */
export interface CatalogEvents {
  /** `categoryId`: what pricing's promotions and tax rates match on (issue 16). */
  'catalog.product.upserted': { id: string; title: string; brand: string | null; categoryId: string | null; skus: string[] };
  'catalog.variant.upserted': { sku: string; productId: string; title: string; productTitle: string; barcode: string | null };
}
