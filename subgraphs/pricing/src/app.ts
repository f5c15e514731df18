import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import { parse } from 'graphql';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { buildSystemSubgraph, type SubgraphDeps } from '../../../lib/graphql/yoga-subgraph.js';
import type { Context } from './context.js';
import { pricingAppliers } from './events/pricing-consumers.js';
import { resolvers } from './resolvers/index.js';
import { PricingService } from './services/pricing.service.js';
import { PricingRulesService } from './services/rules.service.js';
import { priceScheduler } from './services/price-schedule.js';
import { quoteExpiryWorker } from './services/quote-expiry.js';
import { StoreRulesCache } from './services/store-rules.js';
import { QuoteRulesCache } from './services/quote-rules.js';
import { copiedFlagsOf } from '../../../lib/flags/flag-copy.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** Builds the pricing subgraph; nothing listens or consumes until `start`. */
export function buildPricing(
  deps: SubgraphDeps,
  options: { /** How long a quote may be charged (default 15 min); tests make it short. */ quoteTtlMs?: number } = {},
): SubgraphService {
  const lifecycle = subgraphLifecycle({ ...deps, source: 'pricing', appliers: pricingAppliers() });
  const flags = copiedFlagsOf(deps, 'pricing');
  const storeRules = new StoreRulesCache();
  const pricing = new PricingService(deps.dataSource, lifecycle.flush, storeRules.load);
  const rules = new PricingRulesService(deps.dataSource, lifecycle.flush, deps.secret, undefined, options.quoteTtlMs, storeRules, new QuoteRulesCache());
  const scheduler = priceScheduler(deps.dataSource, lifecycle.flush);
  const expiry = quoteExpiryWorker(deps.dataSource);
  return buildSystemSubgraph<Context>(deps, {
    name: 'pricing',
    typeDefs,
    resolvers: resolvers as never,
    // A quote's answer is ~600 fields for 20 lines: compiled, not interpreted (decision 0050).
    compiledQueries: ['quote'],
    lifecycle,
    workers: [flags, scheduler, expiry],
    context: (base) => {
      const ctx: Context = {
        ...base,
        flags: flags.client,
        pricing,
        rules,
        loaders: {
          shownPrice: new DataLoader((keys) => pricing.shownPricesFor(ctx, keys)),
          priceNode: new DataLoader((keys) => pricing.pricesByKeys(ctx, keys)),
        },
      };
      return ctx;
    },
  });
}
