import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** One embedded PostgreSQL (PGlite) served on loopback over the wire protocol, for the `pg` driver. */
export interface EmbeddedPostgres {
  /** `postgres://` URL that the services connect to. */
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Data folder; in memory when omitted (tests). */
  dataDir?: string;
  /** Loopback port; 0 picks a free one. Default 0. */
  port?: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const unlock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  // pg_trgm and unaccent: the catalog's search (its migrations create the extensions).
  const db = await PGlite.create({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), extensions: { pg_trgm, unaccent } }).catch((error: unknown) => {
    unlock();
    throw error;
  });
  // PGlite is one session: pglite-socket runs one query at a time and keeps a transaction's
  // statements together, so every service statement runs inside an explicit transaction.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: options.port ?? 0, maxConnections: 200 });
  await server.start();
  const address = server.getServerConn();
  const url = `postgres://postgres:postgres@${address}/postgres?sslmode=disable`;
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      unlock();
    },
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder (`npm run seed`
 * while `npm start` runs) would corrupt it. `<dataDir>.lock` holds the owner's pid; a lock whose
 * process is gone is taken over. Returns the release.
 */
function lockDataDir(dataDir: string): () => void {
  const file = `${resolve(dataDir)}.lock`;
  for (;;) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `the embedded database in ${dataDir} is in use by process ${owner} (npm start?); stop that process first (two processes writing one PGlite folder would corrupt it)`,
        );
      }
      unlinkSync(file);
    }
  }
  const release = () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  process.once('exit', release);
  return release;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
