/**
 * An initialised, empty PGlite data folder kept in `.build/` (made by `npm install`'s `prepare`,
 * or by the first `npm start` that lacked it): a new embedded data folder is a copy of it instead
 * of PostgreSQL's initdb run in WebAssembly, ~4 s of CPU on a 2-core machine. It holds no data, no
 * schema and no secret: exactly what initdb makes, for this PGlite version. PGLITE_TEMPLATE=off
 * leaves it unused.
 *
 * `node scripts/launch.cjs lib/db/pglite-template.ts` (or `tsx`) builds it when missing.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { templateDir } from './embedded-postgres.js';

/** Makes the template unless it exists; written beside and renamed, so no one copies half of it. */
export async function buildTemplate(): Promise<boolean> {
  const template = templateDir();
  if (existsSync(join(template, 'PG_VERSION'))) return false;
  const building = `${template}.${process.pid}.tmp`;
  mkdirSync(building, { recursive: true });
  try {
    const db = await PGlite.create({ dataDir: building, extensions: { pg_trgm, unaccent } });
    await db.close();
    if (existsSync(template)) return false; // another process was quicker
    renameSync(building, template);
    return true;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

if (require.main === module || process.argv[1]?.endsWith('pglite-template.ts')) {
  const started = performance.now();
  buildTemplate()
    .then((built) => console.log(built ? `PGlite template: ${templateDir()} (${((performance.now() - started) / 1000).toFixed(1)} s)` : `PGlite template: ${templateDir()} exists`))
    .catch((error: unknown) => {
      console.error(`PGlite template not built: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
