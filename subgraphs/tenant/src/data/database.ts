import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { FeatureFlagEntity } from './entities/feature-flag.entity.js';
import { ApiKeyEntity } from './entities/api-key.entity.js';
import { StoreEntity } from './entities/store.entity.js';
import { TenantEntity } from './entities/tenant.entity.js';
import { WebhookSourceEntity } from './entities/webhook-source.entity.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';
import { ApiKeyStores1732600000000 } from './migrations/1732600000000-api-key-stores.js';
import { ApiKeys1732400000000 } from './migrations/1732400000000-api-keys.js';
import { WebhookSources1732700000000 } from './migrations/1732700000000-webhook-sources.js';
import { Customers1735000000000 } from './migrations/1735000000000-customers.js';
import { OutboundWebhooks1736000000000 } from './migrations/1736000000000-outbound-webhooks.js';
import { WooSource1738013000000 } from './migrations/1738013000000-woo-source.js';
import { AuditLog1740018000000 } from './migrations/1740018000000-audit-log.js';
import { PersistedDocuments1740019000000 } from './migrations/1740019000000-persisted-documents.js';
import { StoreTimeZone1740025000002 } from './migrations/1740025000002-store-time-zone.js';
import { TenantLocale1740050000000 } from './migrations/1740050000000-tenant-locale.js';
import { FeatureFlags1740018100000 } from './migrations/1740018100000-feature-flags.js';

export function openTenantDatabase(url: string, schema = 'tenant'): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    entities: [TenantEntity, StoreEntity, ApiKeyEntity, WebhookSourceEntity, FeatureFlagEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, ApiKeys1732400000000, RowLevelSecurity1732500000000, ApiKeyStores1732600000000, WebhookSources1732700000000, Customers1735000000000, OutboundWebhooks1736000000000, WooSource1738013000000, AuditLog1740018000000, FeatureFlags1740018100000, PersistedDocuments1740019000000, StoreTimeZone1740025000002, TenantLocale1740050000000],
  });
}
