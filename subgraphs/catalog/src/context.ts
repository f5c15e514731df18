import type { Client } from '@openfeature/server-sdk';
import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { CategoryEntity } from './data/entities/category.entity.js';
import type { ProductEntity } from './data/entities/product.entity.js';
import type { VariantEntity } from './data/entities/variant.entity.js';
import type { CatalogService } from './services/catalog.service.js';
import type { SearchService } from './services/search.service.js';
import type { FeedImportService } from './feed/feed-import.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  catalog: CatalogService;
  feeds: FeedImportService;
  search: SearchService;
  /** Per-request batching of entity and field lookups. */
  loaders: {
    productById: DataLoader<string, ProductEntity | null>;
    variantBySku: DataLoader<string, VariantEntity | null>;
    variantsByProduct: DataLoader<string, VariantEntity[]>;
    categoryById: DataLoader<string, CategoryEntity | null>;
  };
}
