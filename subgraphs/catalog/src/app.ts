import { readFileSync } from 'node:fs';
import { chatCompletionsProvider, type ModelProviderConfig } from './enrichment/model-provider.js';
import { createModelAskWorker } from './enrichment/model-asks.js';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import { parse } from 'graphql';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { combinedReactions } from '../../../lib/events/on.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { buildSystemSubgraph, type SubgraphDeps } from '../../../lib/graphql/yoga-subgraph.js';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';
import { CatalogService } from './services/catalog.service.js';
import { SearchService } from './services/search.service.js';
import { catalogAppliers } from './events/catalog-consumers.js';
import { FeedImportService } from './feed/feed-import.service.js';
import { createFeedWorker, type FeedWorkerOptions } from './feed/feed-worker.js';
import { isAppError } from '../../../lib/errors.js';
import { MenuService } from './menus/menu.service.js';
import { AttributeService } from './services/attributes.service.js';
import { RecommendationService } from './recommendations/recommendation.service.js';
import { catalogReactions } from './events/catalog-reactions.js';
import { ProductVersionService } from './versions/product-versions.service.js';
import { createPublishScheduler, type PublishSchedulerOptions } from './versions/publish-scheduler.js';
import { copiedFlagsOf } from '../../../lib/flags/flag-copy.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** Builds the catalog subgraph; nothing listens or consumes until `start`. */
export function buildCatalog(
  deps: SubgraphDeps,
  options: { feeds?: FeedWorkerOptions; publishing?: PublishSchedulerOptions; /** An external model's proposals for review (off: null). */ enrichmentModel?: ModelProviderConfig | null } = {},
): SubgraphService {
  const askModel = Boolean(options.enrichmentModel);
  const lifecycle = subgraphLifecycle({ ...deps, source: 'catalog', appliers: { ...catalogAppliers(undefined, { askModel }), ...combinedReactions(...catalogReactions) } });
  const flags = copiedFlagsOf(deps, 'catalog');
  const catalog = new CatalogService(deps.dataSource, lifecycle.flush);
  const search = new SearchService(deps.dataSource, lifecycle.flush);
  // Products the model is to be asked about (upsertProduct, feeds, merchant systems, menus), taken after they commit.
  const modelAsks = createModelAskWorker(deps.dataSource, (tenantId, productId) => catalog.proposeByModel(tenantId, productId), {
    log: (message) => (deps.logger ? deps.logger.warn(message) : console.warn(message)),
    retryMs: options.enrichmentModel?.retryMs,
    // A taken ask outlives any request to the model (three timeouts) before another worker may take it.
    leaseMs: Math.max(60_000, 3 * (options.enrichmentModel?.timeoutMs ?? 10_000)),
  });
  if (options.enrichmentModel) catalog.useModel(chatCompletionsProvider(options.enrichmentModel), modelAsks.nudge);
  const worker = createFeedWorker(deps.dataSource, lifecycle.flush, { flags: flags.cache, ...(askModel ? { modelAsked: modelAsks.nudge } : {}), ...options.feeds });
  const feeds = new FeedImportService(deps.dataSource, lifecycle.flush, worker.nudge);
  const versions = new ProductVersionService(deps.dataSource, lifecycle.flush);
  const menus = new MenuService(deps.dataSource, lifecycle.flush);
  const attributes = new AttributeService(deps.dataSource, lifecycle.flush);
  const recommendations = new RecommendationService(deps.dataSource, lifecycle.flush);
  const scheduler = createPublishScheduler(deps.dataSource, lifecycle.flush, options.publishing);
  return buildSystemSubgraph<Context>(deps, {
    name: 'catalog',
    typeDefs,
    resolvers: resolvers as never,
    lifecycle,
    workers: [flags, worker, scheduler, ...(askModel ? [modelAsks] : [])],
    context: (base) => {
      const ctx: Context = {
        ...base,
        flags: flags.client,
        catalog,
        feeds,
        search,
        versions,
        menus,
        attributes,
        recommendations,
        loaders: {
          productById: new DataLoader((ids) => catalog.productsByIds(ctx, ids)),
          variantBySku: new DataLoader((skus) => catalog.variantsBySkus(ctx, skus)),
          variantsByProduct: new DataLoader((ids) => catalog.variantsByProductIds(ctx, ids)),
          categoryById: new DataLoader((ids) => catalog.categoriesByIds(ctx, ids)),
          draftByProduct: new DataLoader((ids) => versions.draftsByProductIds(ctx, ids)),
          knownStore: new DataLoader((ids) => catalog.knownStores(ctx, ids)),
          modifierGroupsByProduct: new DataLoader((ids) => menus.groupsByProductIds(ctx, ids)),
          attributesByProduct: new DataLoader((ids) => attributes.attributesByProductIds(ctx, ids)),
        },
      };
      return ctx;
    },
    routes: {
      // A feed streamed by the gateway's /imports/catalog: stored as it arrives, then queued.
      '/feeds/catalog': async (req, res, caller) => {
        const send = (status: number, body: object) => {
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        };
        if (req.method !== 'POST') return send(405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'POST the CSV file.' } });
        try {
          send(202, await feeds.receive(caller, req));
        } catch (error) {
          if (!isAppError(error)) throw error;
          const code = String(error.extensions.code);
          const status = code === 'FORBIDDEN' ? 403 : code === 'UNAUTHENTICATED' ? 401 : error.message.startsWith('the feed is larger') ? 413 : 400;
          send(status, { error: { code, message: error.message } });
        }
      },
    },
  });
}
