/**
 * `npm start`: the whole supergraph in one process on embedded defaults (PGlite in .data/,
 * in-process events), or on real PostgreSQL/Redis when DATABASE_URL / REDIS_URL are set.
 * Loads the demo data when the database is empty.
 */
import { installTracing } from '../lib/observability/tracing.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedDemo } from './seed-demo.js';
import { DEFAULT_PORTS, startSystem } from './system.js';

async function main(): Promise<void> {
  const started = performance.now();
  const dataDir = process.env.PGLITE_DATA_DIR ?? '.data/pglite';
  installTracing({ serviceName: 'commerce' });
  const system = await startSystem({ dataDir, ports: DEFAULT_PORTS, host: process.env.HOST });
  const ready = performance.now();
  if ((await system.tenants.countTenants()) === 0 || process.argv.includes('--seed')) {
    const seeded = await seedDemo(system);
    console.log(`demo data: ${seeded.products} products, ${seeded.variants} variants, stores ${seeded.stores.map((s) => `${s.code}=${s.id}`).join(' ')}`);
    if (seeded.keys) {
      // Shown once, like every API key; kept beside the data for the developer's convenience.
      writeFileSync(join(dataDir, '..', 'demo-keys.json'), JSON.stringify(seeded.keys, null, 2));
    }
  }
  const keysFile = join(dataDir, '..', 'demo-keys.json');
  if (existsSync(keysFile)) {
    const keys = JSON.parse(readFileSync(keysFile, 'utf8')) as { admin: string; pos: string };
    console.log(`demo admin key: ${keys.admin}\ndemo pos key:   ${keys.pos}   (send as "Authorization: Bearer <key>"; also in ${keysFile})`);
  }
  console.log(`platform key:   ${system.platformApiKey}${process.env.PLATFORM_API_KEY ? '' : ' (generated for this run; set PLATFORM_API_KEY to keep one)'}`);
  console.log(`supergraph ready in ${Math.round(ready - started)} ms (${Math.round(performance.now() - started)} ms with demo data)`);
  console.log(`GraphiQL: ${system.gatewayUrl.replace('127.0.0.1', 'localhost')}  (the host "localhost" is the demo tenant)`);
  for (const [name, url] of Object.entries(system.subgraphUrls)) console.log(`  ${name.padEnd(9)} ${url}`);
  if (process.argv.includes('--exit')) {
    await system.stop();
    return;
  }
  const stop = () => void system.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
