import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { sourceWatermarkMigration } from '../../../../lib/events/source-watermark.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { PriceEntity } from './entities/price.entity.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';
import { PricingEngine1733600000000 } from './migrations/1733600000000-pricing-engine.js';
import { QuoteExpiry1733700000000 } from './migrations/1733700000000-quote-expiry.js';
import { AuditLog1740018000000 } from './migrations/1740018000000-audit-log.js';
import { FeatureFlagCopy1740018100000 } from './migrations/1740018100000-feature-flag-copy.js';
import { PromotionBoundary1740026000000 } from './migrations/1740026000000-promotion-boundary.js';
import { RulesGeneration1740065000000 } from './migrations/1740065000000-rules-generation.js';

/** The source time of the webhook price last applied, per source and sku. */
const SourceWatermark1732906000000 = sourceWatermarkMigration('SourceWatermark1732906000000');

export function openPricingDatabase(url: string, schema = 'pricing'): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    entities: [PriceEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, RowLevelSecurity1732500000000, SourceWatermark1732906000000, PricingEngine1733600000000, QuoteExpiry1733700000000, AuditLog1740018000000, FeatureFlagCopy1740018100000, PromotionBoundary1740026000000, RulesGeneration1740065000000],
  });
}
