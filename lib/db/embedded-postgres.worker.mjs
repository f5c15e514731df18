// The embedded PostgreSQL's own thread: PGlite (WASM) and its wire-protocol socket server run
// here, so a long query never blocks the event loop of the gateway and the services (decision 0001,
// "since"). Plain JavaScript so that it loads the same under tsx, jest and a bundle.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { dataDir, port, host, maxConnections, settings = {} } = workerData;
let db;
let server;
try {
  // pg_trgm and unaccent: the catalog's search (its migrations create the extensions).
  // Settings as `-c name=value` after PGlite's own start parameters.
  const startParams = [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm, unaccent }, startParams });
  // PGlite is one session: pglite-socket runs one query at a time and keeps a transaction's
  // statements together, so every service statement runs inside an explicit transaction.
  server = new PGLiteSocketServer({ db, host, port, maxConnections });
  await server.start();
  parentPort.postMessage({ ready: server.getServerConn() });
} catch (error) {
  parentPort.postMessage({ failed: error instanceof Error ? error.message : String(error) });
}

parentPort.on('message', async (message) => {
  if (message !== 'stop') return;
  try {
    await server?.stop();
    await db?.close();
  } finally {
    parentPort.postMessage({ stopped: true });
  }
});
