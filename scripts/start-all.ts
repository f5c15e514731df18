/**
 * `npm start`: the whole supergraph in one process on embedded defaults (PGlite in .data/,
 * in-process events), or on real PostgreSQL/Redis when DATABASE_URL / REDIS_URL are set.
 * Loads the demo data when the database is empty. The gateway listens on PORT (4000) at HOST
 * (127.0.0.1); each subgraph on `<SERVICE>_PORT`, else on a free port when PORT is set, else on
 * its usual one (4001-4005).
 */
import { installTracing } from '../lib/observability/tracing.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDatabaseUrl, readInt, readOptional } from '../lib/env.js';
import { startEmbeddedPostgres, templateDir } from '../lib/db/embedded-postgres.js';
import { SUBGRAPHS } from '../lib/subgraphs.js';
import type { SystemOptions } from './system.js';

/** Milliseconds since the process began, the loading of the code included. */
const sinceProcessStart = () => Math.round(performance.now());
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * CPU time so far of this process's main thread and of its other threads (PGlite's, the garbage
 * collector's helpers, libuv's pool), where Linux tells: on a shared machine the wall times move
 * with the load, these much less (issue 13; `npm run bench:start` prints them).
 */
function cpuSplit(): string {
  try {
    // /proc/self/task/<pid>/stat: the main thread; utime and stime are fields 14 and 15, in ticks of 10 ms.
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const mainMs = (Number(fields[11]) + Number(fields[12])) * 10;
    const { user, system } = process.cpuUsage();
    return ` CPU: main thread ${seconds(mainMs)}, other threads ${seconds(Math.max(0, (user + system) / 1000 - mainMs))}`;
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const env = process.env;
  const dataDir = env.PGLITE_DATA_DIR || '.data/pglite';
  const embedded = !readDatabaseUrl(env, 'tenant');
  const firstStart = embedded && !existsSync(dataDir);
  const gatewayPort = readInt(env, 'PORT', 4000);
  const ports = { gateway: gatewayPort } as NonNullable<SystemOptions['ports']>;
  for (const { name, port } of SUBGRAPHS) ports[name] = readInt(env, `${name.toUpperCase()}_PORT`, readOptional(env, 'PORT') ? 0 : port);
  installTracing({ serviceName: 'commerce' });
  const step = (message: string) => console.log(`  ${message} (${seconds(sinceProcessStart())})`);
  if (!embedded) console.log('starting: on DATABASE_URL…');
  else if (!firstStart) console.log(`starting: embedded PostgreSQL in ${dataDir}…`);
  else {
    console.log(`first start: creating the embedded PostgreSQL in ${dataDir}, then the schema and the demo data…`);
    // The data folder starts as a copy of an initialised empty one (lib/db/pglite-template.ts),
    // made by `npm install`'s prepare, else now, once: initdb in place would take as long.
    if (env.PGLITE_TEMPLATE !== 'off' && (await (await import('../lib/db/pglite-template.js')).buildTemplate())) {
      step('made the PGlite template in .build/ (once per PGlite version)');
    }
  }
  // Best of all, a copy of the template with every service's schema migrated (npm install's prepare
  // makes it; scripts/schema-template.ts): the migrations were most of a first start's services time.
  const schemaTemplate = firstStart && env.PGLITE_TEMPLATE !== 'off' ? (await import('./schema-template.js')).schemaTemplateDir() : undefined;
  const template = schemaTemplate && existsSync(join(schemaTemplate, 'PG_VERSION')) ? schemaTemplate : templateDir();
  const fromTemplate = firstStart && env.PGLITE_TEMPLATE !== 'off' && existsSync(join(template, 'PG_VERSION'));
  // PGlite opens its folder on its own thread (~1 s of WebAssembly) while this one loads the
  // services' code: the two took turns before (issue 13).
  const embeddedPostgres = embedded ? startEmbeddedPostgres({ dataDir, template }) : undefined;
  embeddedPostgres?.catch(() => undefined); // the system reports it
  const [{ startSystem }, { seedDemo }, { demoKeysFile, ensureDemoKeys, writeDemoKeys }, { createLogger }] = await Promise.all([
    import('./system.js'),
    import('./seed-demo.js'),
    import('./demo-keys.js'),
    import('../lib/observability/logger.js'),
  ]);
  const loaded = sinceProcessStart();
  const started = performance.now();
  // The gateway's request log stays quiet while the demo data goes in and the demo keys are checked
  // (hundreds of JSON lines otherwise): a start prints its own lines, then the log begins.
  const logger = createLogger('gateway', { level: env.LOG_LEVEL });
  const level = logger.level;
  if (logger.isLevelEnabled('info')) logger.level = 'warn';
  const system = await startSystem({ dataDir, embeddedPostgres, ports, host: readOptional(env, 'HOST'), logger, deferPlanning: true });
  const ready = performance.now();
  if (firstStart) {
    step(`services ready: ${!fromTemplate ? 'database created (initdb), schema migrated' : template === schemaTemplate ? 'database and schema copied from the template in .build/' : 'database copied from the template in .build/, schema migrated'}`);
  }
  const keysFile = demoKeysFile(env);
  let seededMs: number | undefined;
  if ((await system.tenants.countTenants()) === 0 || process.argv.includes('--seed')) {
    const seeded = await seedDemo(system, step);
    seededMs = performance.now() - ready;
    console.log(`demo data: ${seeded.products} products, ${seeded.variants} variants, stores ${seeded.stores.map((s) => `${s.code}=${s.id}`).join(' ')}`);
    // Shown once, like every API key; kept beside the data for the developer's convenience.
    if (seeded.keys) writeDemoKeys(keysFile, seeded.keys);
  }
  const demo = await ensureDemoKeys(system, keysFile);
  logger.level = level;
  if (demo) {
    if (demo.renewed) console.log(`new demo keys: ${keysFile} held none that this database accepts`);
    console.log(`demo admin key: ${demo.keys.admin}\ndemo pos key:   ${demo.keys.pos}   (send as "Authorization: Bearer <key>"; also in ${keysFile})`);
  }
  console.log(`platform key:   ${system.platformApiKey}${env.PLATFORM_API_KEY ? '' : ' (generated for this run; set PLATFORM_API_KEY to keep one)'}`);
  console.log(
    `${firstStart ? 'first start' : 'start'}: ready in ${seconds(sinceProcessStart())} (loading the code ${seconds(loaded)}, services ${seconds(ready - started)}` +
      `${seededMs === undefined ? '' : `, demo data ${seconds(seededMs)}`})${cpuSplit()}`,
  );
  console.log(`GraphiQL: ${system.gatewayUrl.replace('127.0.0.1', 'localhost')}  (the host "localhost" is the demo tenant)`);
  for (const [name, url] of Object.entries(system.subgraphUrls)) console.log(`  ${name.padEnd(9)} ${url}`);
  if (process.argv.includes('--exit')) {
    await system.stop();
    return;
  }
  // Ready first: the subscription planner and the partner contract are built now, not before.
  setImmediate(() => system.gateway.warm());
  const stop = () => void system.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
