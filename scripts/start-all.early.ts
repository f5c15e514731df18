/**
 * Run by scripts/launch.cjs before `npm start`'s bundle loads (a bundle of its own, a few kB):
 * on a later start with the embedded database, PGlite begins opening its folder on its own
 * thread at once, while the ~15 MB of code loads; scripts/start-all.ts takes it over (issue 13).
 * A first start (no folder yet) and DATABASE_URL start nothing here.
 */
import { existsSync } from 'node:fs';
import { readDatabaseUrl } from '../lib/env.js';
import { startEmbeddedPostgresEarly } from '../lib/db/embedded-postgres.js';

const dataDir = process.env.PGLITE_DATA_DIR || '.data/pglite';
if (!readDatabaseUrl(process.env, 'tenant') && existsSync(dataDir)) startEmbeddedPostgresEarly(dataDir);
