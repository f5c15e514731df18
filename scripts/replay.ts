/**
 * `npm run replay -- inventory`: rebuilds the inventory's stock levels from its movement ledger
 * (the database DATABASE_URL / INVENTORY_DATABASE_URL names, or the embedded one of `npm start`)
 * and prints what it found. Run it while the system is stopped when on the embedded database.
 */
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { readDatabaseUrl } from '../lib/env.js';
import { openInventoryDatabase } from '../subgraphs/inventory/src/data/database.js';
import { rebuildStockLevels } from '../subgraphs/inventory/src/services/projection-rebuild.js';

async function main(): Promise<void> {
  const [target = 'inventory'] = process.argv.slice(2);
  if (target !== 'inventory') {
    console.error(`replay knows one projection: inventory (stock levels from the ledger); got "${target}"`);
    process.exit(2);
  }
  const url = readDatabaseUrl(process.env, 'inventory');
  const embedded = url ? undefined : await startEmbeddedPostgres({ dataDir: process.env.PGLITE_DATA_DIR ?? '.data/pglite' });
  const dataSource = await openInventoryDatabase(url ?? embedded!.url, process.env.INVENTORY_DATABASE_SCHEMA ?? 'inventory');
  try {
    const report = await rebuildStockLevels(dataSource);
    console.log(`replayed ${report.movements} movements into ${report.levels} stock levels; ${report.corrected} corrected`);
  } finally {
    await dataSource.destroy();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
