import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
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
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
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
    },
  };
}
