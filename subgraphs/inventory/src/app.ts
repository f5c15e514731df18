import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import { parse } from 'graphql';
import type { SubgraphService } from '../../../lib/graphql/service.js';
import { subgraphLifecycle } from '../../../lib/graphql/subgraph-lifecycle.js';
import { buildSystemSubgraph, type SubgraphDeps } from '../../../lib/graphql/yoga-subgraph.js';
import type { Context } from './context.js';
import { inventoryAppliers } from './events/inventory-consumers.js';
import { resolvers } from './resolvers/index.js';
import { InventoryService } from './services/inventory.service.js';
import { rebuildStockLevels } from './services/projection-rebuild.js';
import { reservationExpiryWorker } from './services/reservation-expiry.js';
import { ReservationService } from './services/reservation.service.js';
import { TransferService } from './services/transfer.service.js';
import { createIngestionWorker, type IngestionWorkerOptions } from './ingestion/ingestion-worker.js';
import { setUpPlugins, withPluginReactions, type PluginEntry } from '../../../lib/plugins/load-plugins.js';
import { IngestionService } from './ingestion/ingestion.service.js';
import { copiedFlagsOf } from '../../../lib/flags/flag-copy.js';

export const typeDefs = parse(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

/** Builds the inventory subgraph; nothing listens or consumes until `start`. */
export function buildInventory(
  deps: SubgraphDeps,
  options?: {
    expiryIntervalMs?: number;
    ingestion?: IngestionWorkerOptions & { /** Oldest source time accepted (default 24 h; 0: no window). */ maxAgeMs?: number };
    /** In-process plug-ins (docs/hooks.md); those that run in inventory react to its consumer's events. */
    plugins?: readonly PluginEntry[];
  },
): SubgraphService {
  // The relay's flush is bound late: the services and the appliers need each other.
  let flush = () => Promise.resolve();
  const reservations = new ReservationService(deps.dataSource, () => flush());
  const plugins = setUpPlugins('inventory', options?.plugins);
  const appliers = withPluginReactions(inventoryAppliers(reservations), plugins.reactions);
  const lifecycle = subgraphLifecycle({ ...deps, source: 'inventory', appliers });
  const flags = copiedFlagsOf(deps, 'inventory');
  flush = lifecycle.flush;
  const inventory = new InventoryService(deps.dataSource, lifecycle.flush);
  const transfers = new TransferService(deps.dataSource, lifecycle.flush);
  const rebuild = () => rebuildStockLevels(deps.dataSource);
  const worker = createIngestionWorker(deps.dataSource, lifecycle.flush, options?.ingestion);
  const ingestion = new IngestionService(deps.dataSource, lifecycle.flush, worker.nudge, options?.ingestion?.maxAgeMs);
  // Expired reservations go back to stock through the ledger.
  const expiry = reservationExpiryWorker(deps.dataSource, lifecycle.flush, { pollMs: options?.expiryIntervalMs });
  return buildSystemSubgraph<Context>(deps, {
    name: 'inventory',
    typeDefs,
    resolvers: resolvers as never,
    lifecycle,
    workers: [flags, expiry, worker],
    context: (base) => {
      const ctx: Context = {
        ...base,
        flags: flags.client,
        inventory,
        reservations,
        transfers,
        ingestion,
        rebuild,
        loaders: {
          stock: new DataLoader((keys) => inventory.stockFor(ctx, keys)),
          stockLevelsBySku: new DataLoader((skus) => inventory.stockLevelsBySkus(ctx, skus)),
          stockLevelNode: new DataLoader((keys) => inventory.stockLevelsOf(ctx, keys)),
        },
      };
      return ctx;
    },
  });
}
