import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import { parse } from 'graphql';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../../../lib/events/event-bus.js';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { buildYogaSubgraph } from '../../../lib/graphql/yoga-subgraph.js';
import type { Context } from './context.js';
import { resolvers } from './resolvers/index.js';
import { CatalogService } from './services/catalog.service.js';
import { catalogAppliers } from './events/catalog-consumers.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** Builds the catalog subgraph; nothing listens or consumes until `start`. */
export function buildCatalog(deps: { dataSource: DataSource; bus: EventBus; secret: string }): SubgraphService {
  const lifecycle = subgraphLifecycle({ ...deps, source: 'catalog', appliers: catalogAppliers() });
  const catalog = new CatalogService(deps.dataSource, lifecycle.flush);
  return buildYogaSubgraph<Context>({
    name: 'catalog',
    secret: deps.secret,
    typeDefs,
    resolvers: resolvers as never,
    extendContext: (base) => {
      const ctx: Context = {
        ...base,
        catalog,
        loaders: {
          productById: new DataLoader((ids) => catalog.productsByIds(ctx, ids)),
          variantBySku: new DataLoader((skus) => catalog.variantsBySkus(ctx, skus)),
          variantsByProduct: new DataLoader((ids) => catalog.variantsByProductIds(ctx, ids)),
          categoryById: new DataLoader((ids) => catalog.categoriesByIds(ctx, ids)),
        },
      };
      return ctx;
    },
    onStart: lifecycle.start,
    onStop: lifecycle.stop,
  });
}
