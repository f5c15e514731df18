import type { FeedBatchImported, VariantsUpserted } from '../catalog-feed.js';

/** One modifier group of a menu item, as the catalog stores and announces it. */
export interface ModifierGroupPayload {
  name: string;
  minSelections: number;
  maxSelections: number;
  modifiers: { sku: string; name: string }[];
}

/** Events the catalog subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface CatalogEvents {
  /** `categoryId`: what pricing's promotions and tax rates match on. */
  'catalog.product.upserted': { id: string; title: string; brand: string | null; categoryId: string | null; skus: string[] };
  /** Inventory, pricing and orders keep their read models of variants from it. */
  'catalog.variant.upserted': { sku: string; productId: string; title: string; productTitle: string; barcode: string | null };
  /** A feed import's batch of variants (one event per batch, not per row). */
  'catalog.variants.upserted': VariantsUpserted;
  /** The tenant's search synonyms changed (what a search finds may have). */
  'catalog.search.synonyms-set': { groups: string[][] };
  /**
   * The catalog applied another service's event to its search read model (`cause`: its type, e.g.
   * `pricing.price.changed`), committed with that change: what a search answers may differ from now
   * on. The gateway's storefront cache forgets the tenant's answers on it, since one computed after
   * the cause reached the gateway but before the catalog applied it holds the old price or stock.
   */
  'catalog.search.changed': { cause: string; causeEventId: string };
  /** A product's modifier groups were replaced (`skus`: its variants); orders check order lines against them. */
  'catalog.modifier-groups.set': { productId: string; skus: string[]; groups: ModifierGroupPayload[] };
  /** A product's availability windows in one store were replaced (`windows` empty: always orderable there). */
  'catalog.availability-windows.set': {
    productId: string;
    storeId: string;
    skus: string[];
    timeZone: string;
    windows: { from: string; to: string }[];
    /** Set without a zone: evaluate in the store's zone as it is then (`tenant.store.time-zone-set`); `timeZone` was the store's when set. */
    fromStore?: boolean;
  };
  /** A feed import's batch of price and stock columns. */
  'catalog.feed.batch-imported': FeedBatchImported;
}
