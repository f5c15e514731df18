/**
 * `.build/pglite-schema-<PGlite version>-<migrations>`: the empty PGlite template
 * (lib/db/pglite-template.ts) with every service's schema migrated and its audit capture attached,
 * and nothing else (no tenant, no key, no secret). A first `npm start` copies it instead of running
 * every service's migrations one statement at a time on PGlite's one session, the larger part of a
 * first start's services time (issue 13). Made by `npm install`'s `prepare`
 * (`node scripts/launch.cjs scripts/schema-template.ts`); without it a first start migrates as before.
 *
 * Its name carries a hash of the migration files' names and sizes: a new or changed migration names
 * another folder, and a first start falls back to the empty template until the next prepare. Should
 * anything else the mark covers differ (the audit statement), each service sees its schema's mark
 * differ and migrates and attaches as on any start (lib/db/data-source.ts).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { startEmbeddedPostgres, templateDir } from '../lib/db/embedded-postgres.js';
import { buildTemplate } from '../lib/db/pglite-template.js';
import { SUBGRAPHS } from '../lib/subgraphs.js';

const root = join(__dirname, '..');

/** The migration sources the services run: each subgraph's migrations folder and lib's `*.migration.ts`. */
function migrationFiles(): string[] {
  const files: string[] = [];
  for (const { name } of SUBGRAPHS) {
    const folder = join(root, 'subgraphs', name, 'src', 'data', 'migrations');
    if (existsSync(folder)) files.push(...readdirSync(folder).map((file) => join(folder, file)));
  }
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(folder, entry.name));
      else if (entry.name.endsWith('.migration.ts')) files.push(join(folder, entry.name));
    }
  };
  walk(join(root, 'lib'));
  return files.sort();
}

/** Where the schema template of the current migrations is (or would be). */
export function schemaTemplateDir(): string {
  const hash = createHash('sha256');
  for (const file of migrationFiles()) hash.update(`${file.slice(root.length)}:${statSync(file).size}\n`);
  return `${templateDir().replace('pglite-template-', 'pglite-schema-')}-${hash.digest('hex').slice(0, 12)}`;
}

/** Makes the schema template unless it exists (and the empty one first); written beside and renamed. */
export async function buildSchemaTemplate(): Promise<boolean> {
  const target = schemaTemplateDir();
  if (existsSync(join(target, 'PG_VERSION'))) return false;
  await buildTemplate();
  const building = `${target}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  cpSync(templateDir(), building, { recursive: true });
  try {
    const db = await startEmbeddedPostgres({ dataDir: building });
    try {
      // Loaded only here: a start that copies the template needs none of it before its own load.
      const { SERVICE_DATABASES } = await import('./system.js');
      for (const { name } of SUBGRAPHS) await (await SERVICE_DATABASES[name](db.url, name)).destroy();
    } finally {
      await db.stop();
    }
    if (existsSync(target)) return false; // another process was quicker
    // Templates of earlier migrations are of no further use.
    const prefix = `${basename(templateDir()).replace('pglite-template-', 'pglite-schema-')}-`;
    for (const old of readdirSync(dirname(target))) if (old.startsWith(prefix) && !old.endsWith('.tmp')) rmSync(join(dirname(target), old), { recursive: true, force: true });
    renameSync(building, target);
    return true;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

if (require.main === module || process.argv[1]?.endsWith('schema-template.ts')) {
  const started = performance.now();
  buildSchemaTemplate()
    .then((built) => console.log(built ? `PGlite schema template: ${schemaTemplateDir()} (${((performance.now() - started) / 1000).toFixed(1)} s)` : `PGlite schema template: ${schemaTemplateDir()} exists`))
    .catch((error: unknown) => {
      console.error(`PGlite schema template not built: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
