/** `npm run seed`: starts the system once, loads the demo data (idempotent) and exits. */
import { FREE_PORTS } from '../lib/subgraphs.js';
import { demoKeysFile, writeDemoKeys } from './demo-keys.js';
import { seedDemo } from './seed-demo.js';
import { startSystem } from './system.js';

async function main(): Promise<void> {
  const system = await startSystem({ dataDir: process.env.PGLITE_DATA_DIR ?? '.data/pglite', ports: FREE_PORTS });
  try {
    const seeded = await seedDemo(system);
    console.log(`demo tenant ${seeded.tenantId}: ${seeded.products} products added, stores ${seeded.stores.map((s) => s.code).join(', ')}`);
    if (seeded.keys) {
      writeDemoKeys(demoKeysFile(), seeded.keys);
      console.log(`demo admin key: ${seeded.keys.admin}\ndemo pos key:   ${seeded.keys.pos}   (also in ${demoKeysFile()})`);
    }
  } finally {
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`seed failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
