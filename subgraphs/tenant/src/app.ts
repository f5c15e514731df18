import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import { parse } from 'graphql';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { buildSystemSubgraph, type SubgraphDeps } from '../../../lib/graphql/yoga-subgraph.js';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';
import { ApiKeyService } from './services/api-key.service.js';
import { PersistedDocumentService } from './services/persisted-document.service.js';
import { CustomerService } from './services/customer.service.js';
import { FeatureFlagService } from './services/feature-flag.service.js';
import { createFlags, type Flags } from '../../../lib/flags/provider.js';
import { TenantService } from './services/tenant.service.js';
import { WebhookSourceService } from './services/webhook-source.service.js';
import type { OutboundWebhookOptions } from './webhooks/config.js';
import { buildOutboundWebhooks } from './webhooks/outbound-webhooks.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

export interface TenantSubgraph extends SubgraphService {
  tenants: TenantService;
  apiKeys: ApiKeyService;
  /** Its flags, read from its own tables. */
  flags: Flags;
}

/** Builds the tenant subgraph; nothing listens or consumes until `start`. */
export function buildTenant(
  deps: SubgraphDeps,
  options: { webhooks?: OutboundWebhookOptions } = {},
): TenantSubgraph {
  const lifecycle = subgraphLifecycle({ ...deps, source: 'tenant' });
  const tenants = new TenantService(deps.dataSource, lifecycle.flush);
  const apiKeys = new ApiKeyService(deps.dataSource, lifecycle.flush);
  const persistedDocuments = new PersistedDocumentService(deps.dataSource, lifecycle.flush);
  const webhookSources = new WebhookSourceService(deps.dataSource, lifecycle.flush);
  const customers = new CustomerService(deps.dataSource, lifecycle.flush, deps.secret, async (ctx) => (await tenants.current(ctx)).slug);
  const featureFlags = new FeatureFlagService(deps.dataSource, lifecycle.flush);
  const flags = createFlags({ name: 'tenant', bus: deps.bus, load: (tenantId) => featureFlags.snapshot(tenantId) });
  featureFlags.flags = flags;
  const outboundWebhooks = buildOutboundWebhooks({
    dataSource: deps.dataSource,
    bus: deps.bus,
    afterCommit: lifecycle.flush,
    options: options.webhooks,
    log: deps.logger ? (message) => deps.logger!.warn(message) : undefined,
  });
  const service = buildSystemSubgraph<Context>(deps, {
    name: 'tenant',
    typeDefs,
    resolvers: resolvers as never,
    lifecycle,
    workers: [flags, outboundWebhooks],
    context: (base) => {
      const ctx: Context = {
        ...base,
        flags: flags.client,
        tenants,
        apiKeys,
        persistedDocuments,
        webhookSources,
        customers,
        featureFlags,
        customerById: new DataLoader((ids) => customers.byIds(ctx, ids)),
        webhookSubscriptions: outboundWebhooks.service,
        storeById: new DataLoader((ids) => tenants.storesByIds(ctx, ids)),
      };
      return ctx;
    },
  });
  return { ...service, tenants, apiKeys, flags };
}
