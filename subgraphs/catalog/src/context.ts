import type { Client } from '@openfeature/server-sdk';
import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { CategoryEntity } from './data/entities/category.entity.js';
import type { ProductEntity } from './data/entities/product.entity.js';
import type { VariantEntity } from './data/entities/variant.entity.js';
import type { CatalogService } from './services/catalog.service.js';
import type { SearchService } from './services/search.service.js';
import type { FeedImportService } from './feed/feed-import.service.js';
import type { MenuService } from './menus/menu.service.js';
import type { AttributeService, ProductAttributeView } from './services/attributes.service.js';
import type { RecommendationService } from './recommendations/recommendation.service.js';
import type { ModifierGroupPayload } from '../../../lib/events/contracts/catalog.js';
import type { DraftRow, ProductVersionService } from './versions/product-versions.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  catalog: CatalogService;
  feeds: FeedImportService;
  search: SearchService;
  versions: ProductVersionService;
  menus: MenuService;
  attributes: AttributeService;
  recommendations: RecommendationService;
  /** Per-request batching of entity and field lookups. */
  loaders: {
    productById: DataLoader<string, ProductEntity | null>;
    variantBySku: DataLoader<string, VariantEntity | null>;
    variantsByProduct: DataLoader<string, VariantEntity[]>;
    categoryById: DataLoader<string, CategoryEntity | null>;
    draftByProduct: DataLoader<string, DraftRow | null>;
    /** Whether the tenant has this store (`node(id:)` telling a store's UUID). */
    knownStore: DataLoader<string, boolean>;
    modifierGroupsByProduct: DataLoader<string, ModifierGroupPayload[]>;
    attributesByProduct: DataLoader<string, ProductAttributeView[]>;
  };
}
