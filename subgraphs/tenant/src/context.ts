import type { Client } from '@openfeature/server-sdk';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type DataLoader from 'dataloader';
import type { StoreEntity } from './data/entities/store.entity.js';
import type { ApiKeyService } from './services/api-key.service.js';
import type { FeatureFlagService } from './services/feature-flag.service.js';
import type { CustomerRow, CustomerService } from './services/customer.service.js';
import type { PersistedDocumentService } from './services/persisted-document.service.js';
import type { TenantService } from './services/tenant.service.js';
import type { WebhookSourceService } from './services/webhook-source.service.js';
import type { WebhookSubscriptionService } from './services/webhook-subscription.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  persistedDocuments: PersistedDocumentService;
  webhookSources: WebhookSourceService;
  customers: CustomerService;
  featureFlags: FeatureFlagService;
  customerById: DataLoader<string, CustomerRow | null>;
  webhookSubscriptions: WebhookSubscriptionService;
  /** Batches entity lookups of one request (the gateway asks for many stores at once). */
  storeById: DataLoader<string, StoreEntity | null>;
}
