/**
 * `npm run replay -- <model>|<service>|all`: wipes read models and rebuilds them from the
 * publishers' outboxes (or, for stock levels and search documents, from their service's own
 * tables), then prints what each held before and after. `npm run replay -- --list` lists them.
 *
 * Databases: `<SERVICE>_DATABASE_URL` or `DATABASE_URL` (schemas `<SERVICE>_DATABASE_SCHEMA`,
 * default the service's name), or the embedded one of `npm start` (`PGLITE_DATA_DIR`, default
 * `.data/pglite`). On PostgreSQL it may run while the system runs; on the embedded database, stop
 * the system first (its data folder belongs to one process). Decision 0034.
 */
import type { DataSource } from 'typeorm';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { readDatabaseUrl } from '../lib/env.js';
import { replayReadModel, selectReadModels } from '../lib/events/replay.js';
import { SUBGRAPHS, type SubgraphName } from '../lib/subgraphs.js';
import { openCatalogDatabase } from '../subgraphs/catalog/src/data/database.js';
import { openInventoryDatabase } from '../subgraphs/inventory/src/data/database.js';
import { openOrdersDatabase } from '../subgraphs/orders/src/data/database.js';
import { openPricingDatabase } from '../subgraphs/pricing/src/data/database.js';
import { openTenantDatabase } from '../subgraphs/tenant/src/data/database.js';
import { READ_MODELS } from './read-models.js';

const OPEN: Record<SubgraphName, (url: string, schema: string) => Promise<DataSource>> = {
  catalog: openCatalogDatabase,
  inventory: openInventoryDatabase,
  pricing: openPricingDatabase,
  orders: openOrdersDatabase,
  tenant: openTenantDatabase,
};

async function main(): Promise<void> {
  const [target] = process.argv.slice(2);
  if (!target || target === '--list') {
    for (const model of READ_MODELS) console.log(`${model.name.padEnd(28)} ${model.tables.join(', ').padEnd(40)} ${model.description}`);
    if (!target) console.log('\nusage: npm run replay -- <model>|<service>|all|--list');
    return;
  }
  let models;
  try {
    models = selectReadModels(READ_MODELS, target);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(2);
  }
  let embedded: EmbeddedPostgres | undefined;
  const opened = new Map<string, DataSource>();
  try {
    // Each model's service and the publishers it reads from.
    for (const { name } of SUBGRAPHS) {
      let url = readDatabaseUrl(process.env, name);
      if (!url) {
        embedded ??= await startEmbeddedPostgres({ dataDir: process.env.PGLITE_DATA_DIR ?? '.data/pglite' });
        url = embedded.url;
      }
      opened.set(name, await OPEN[name](url, process.env[`${name.toUpperCase()}_DATABASE_SCHEMA`] ?? name));
    }
    for (const model of models) {
      const report = await replayReadModel(model, (service) => opened.get(service)!);
      console.log(`${report.model}: ${report.read} read, ${report.before} rows before, ${report.after} after (${report.ms} ms)`);
    }
  } finally {
    for (const dataSource of opened.values()) await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
