import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { sourceWatermarkMigration } from '../../../../lib/events/source-watermark.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { CategoryEntity } from './entities/category.entity.js';
import { ProductEntity } from './entities/product.entity.js';
import { VariantEntity } from './entities/variant.entity.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';
import { Published1732600000000 } from './migrations/1732600000000-published.js';
import { ExternalRef1732700000000 } from './migrations/1732700000000-external-ref.js';
import { FeedImport1732800000000 } from './migrations/1732800000000-feed-import.js';
import { SearchText1733100000000 } from './migrations/1733100000000-search-text.js';
import { StorefrontSearch1733600000000 } from './migrations/1733600000000-storefront-search.js';
import { ProductHandle1733700000000 } from './migrations/1733700000000-product-handle.js';
import { FeedEffects1733800000000 } from './migrations/1733800000000-feed-effects.js';
import { Enrichment1738013000000 } from './migrations/1738013000000-enrichment.js';
import { EnrichmentModelAsks1740031000000 } from './migrations/1740031000000-enrichment-model-asks.js';
import { EnrichmentModelAskRetries1740039000000 } from './migrations/1740039000000-enrichment-model-ask-retries.js';
import { SearchLanguage1740050000001 } from './migrations/1740050000001-search-language.js';
import { FeedSearchOnce1740047000000 } from './migrations/1740047000000-feed-search-once.js';
import { SearchGeneration1740053000000 } from './migrations/1740053000000-search-generation.js';
import { SearchWordsInline1740067000000 } from './migrations/1740067000000-search-words-inline.js';
import { SearchIndexChanges1740068000000 } from './migrations/1740068000000-search-index-changes.js';
import { SearchIndexWords1740072000000 } from './migrations/1740072000000-search-index-words.js';
import { AuditLog1740018000000 } from './migrations/1740018000000-audit-log.js';
import { ModifierGroups1740019600000 } from './migrations/1740019600000-modifier-groups.js';
import { AvailabilityWindows1740019600001 } from './migrations/1740019600001-availability-windows.js';
import { VariantVersions1740025000000 } from './migrations/1740025000000-variant-versions.js';
import { StoreTimeZones1740025000003 } from './migrations/1740025000003-store-time-zones.js';
import { ProductVersions1738100000000 } from './migrations/1738100000000-product-versions.js';
import { FeatureFlagCopy1740018100000 } from './migrations/1740018100000-feature-flag-copy.js';
import { AttributesOptionsMedia1740027000000 } from './migrations/1740027000000-attributes-options-media.js';
import { Recommendations1740027000001 } from './migrations/1740027000001-recommendations.js';
import { SearchPageArchived1740030000000 } from './migrations/1740030000000-search-page-archived.js';
import { SearchOnePass1740030000001 } from './migrations/1740030000001-search-one-pass.js';
import { SimilarIndexes1740030000002 } from './migrations/1740030000002-similar-indexes.js';

/** The source time of the webhook product last applied, per source and externalRef. */
const SourceWatermark1732906000000 = sourceWatermarkMigration('SourceWatermark1732906000000');

export function openCatalogDatabase(url: string, schema = 'catalog'): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    entities: [CategoryEntity, ProductEntity, VariantEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, RowLevelSecurity1732500000000, Published1732600000000, ExternalRef1732700000000, FeedImport1732800000000, SourceWatermark1732906000000, SearchText1733100000000, StorefrontSearch1733600000000, ProductHandle1733700000000, FeedEffects1733800000000, Enrichment1738013000000, ProductVersions1738100000000, AuditLog1740018000000, FeatureFlagCopy1740018100000, ModifierGroups1740019600000, AvailabilityWindows1740019600001, VariantVersions1740025000000, StoreTimeZones1740025000003, AttributesOptionsMedia1740027000000, Recommendations1740027000001, SearchPageArchived1740030000000, SearchOnePass1740030000001, SimilarIndexes1740030000002, EnrichmentModelAsks1740031000000, EnrichmentModelAskRetries1740039000000, FeedSearchOnce1740047000000, SearchLanguage1740050000001, SearchGeneration1740053000000, SearchWordsInline1740067000000, SearchIndexChanges1740068000000, SearchIndexWords1740072000000],
  });
}
