// The embedded PostgreSQL's own thread: PGlite (WASM) and its wire-protocol socket server run
// here, so a long query never blocks the event loop of the gateway and the services (decision 0001,
// "since"). Plain JavaScript so that it loads the same under tsx, jest and a bundle.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const { dataDir, port, host, maxConnections, settings = {}, writes } = workerData;

// What `readInOneRoundTrip` sends on PGlite (lib/db/data-source.ts): one simple query, a READ
// ONLY transaction that sets the tenant's settings and EXECUTEs a prepared statement with
// literal arguments, then COMMITs. Only standard '...' literals ('' for a quote; a text with a
// backslash, which the driver would send as E'...', is never matched), only these settings, and
// nothing else: such a transaction cannot write (PostgreSQL refuses any write in it but to a
// temporary table, which no service reads). Anything else counts as a possible write.
const LITERAL = "'(?:[^']|'')*'";
const SETTING = `set_config\\('(?:role|app\\.[a-z_]+|statement_timeout)', ${LITERAL}, (?:true|false)\\)`;
const ARGUMENT = `(?:${LITERAL}|NULL)`;
const READ_ONLY_READ = new RegExp(`^START TRANSACTION READ ONLY; SELECT ${SETTING}(?:, ${SETTING})*; EXECUTE [a-z0-9_]+\\(${ARGUMENT}(?:, ${ARGUMENT})*\\); COMMIT$`);
const decoder = new TextDecoder();

/** True only for one whole simple-query message ('Q', its length, the text, NUL) of that shape. */
function isReadOnlyRead(message) {
  if (!(message instanceof Uint8Array) || message.length < 6 || message[0] !== 0x51 || message[message.length - 1] !== 0) return false;
  const length = ((message[1] << 24) | (message[2] << 16) | (message[3] << 8) | message[4]) >>> 0;
  if (length + 1 !== message.length) return false;
  const text = decoder.decode(message.subarray(5, message.length - 1));
  return !text.includes('\\') && READ_ONLY_READ.test(text);
}
let db;
let server;
try {
  // pg_trgm and unaccent: the catalog's search (its migrations create the extensions).
  // Settings as `-c name=value` after PGlite's own start parameters.
  const startParams = [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  db = await PGlite.create({ ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm, unaccent }, startParams });
  // Every client's message reaches PGlite here, one at a time: count each that may write before
  // it runs (embeddedWriteCounter in embedded-postgres.ts).
  if (writes) {
    const run = db.execProtocolRawStream.bind(db);
    db.execProtocolRawStream = (message, options) => {
      if (!isReadOnlyRead(message)) Atomics.add(writes, 0, 1);
      return run(message, options);
    };
  }
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
