import { cpSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

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
  /** The initialised folder a new data folder starts as a copy of (default: the empty template, `templateDir()`). */
  template?: string;
  /** PostgreSQL's buffer cache (`shared_buffers`); default PGLITE_SHARED_BUFFERS, else 32MB. */
  sharedBuffers?: string;
}

/**
 * PGlite zeroes its whole shared memory at every open, in WebAssembly, on the start's critical
 * path, and keeps it resident: PostgreSQL's default 128MB of buffers cost ~1 s of CPU per start
 * and 128 MB of memory. 32MB (PostgreSQL's own default until 9.3) keeps a demo and a 10k catalog's
 * hot pages; what misses is read from the operating system's file cache (issue 13, decision 0015).
 */
const DEFAULT_SHARED_BUFFERS = '32MB';
/** PostgreSQL's memory sizes: a number with an optional kB, MB or GB. */
const SIZE = /^\d{1,7}(kB|MB|GB)?$/;

export function readSharedBuffers(env: NodeJS.ProcessEnv = process.env): string {
  const value = env.PGLITE_SHARED_BUFFERS?.trim();
  if (!value) return DEFAULT_SHARED_BUFFERS;
  if (!SIZE.test(value)) throw new Error(`PGLITE_SHARED_BUFFERS must be a size such as 32MB or 256MB, not "${value}"`);
  return value;
}

/**
 * `.build/pglite-template-<PGlite version>`: an initialised, empty data folder (lib/db/pglite-template.ts
 * makes it) that a new data folder starts as a copy of, instead of running initdb (~4 s of CPU).
 */
export function templateDir(): string {
  const root = join(__dirname, '..', '..');
  const { version } = JSON.parse(readFileSync(join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as { version: string };
  return join(root, '.build', `pglite-template-${version}`);
}

/** Copies the template to a data folder that does not exist yet; false when there is none, or PGLITE_TEMPLATE=off. */
export function copyTemplate(dataDir: string, env: NodeJS.ProcessEnv = process.env, template = templateDir()): boolean {
  if (env.PGLITE_TEMPLATE === 'off' || !existsSync(join(template, 'PG_VERSION')) || existsSync(dataDir)) return false;
  cpSync(template, dataDir, { recursive: true });
  return true;
}

/**
 * Where an early start is left for the entry that loads after it: `globalThis`, since the early
 * step (scripts/start-all.early.ts) is a bundle of its own with its own copy of this module.
 */
const EARLY = Symbol.for('commerce.embedded-postgres.early');
type EarlyStart = { dataDir: string; started: Promise<EmbeddedPostgres> };

/**
 * Begins opening an existing data folder before the rest of the code has loaded (npm start: PGlite
 * takes ~1 s of its own thread to open a folder, the code ~0.5 s to load); the first
 * `startEmbeddedPostgres` of the same folder in this process takes it over.
 */
export function startEmbeddedPostgresEarly(dataDir: string): void {
  const started = startEmbeddedPostgres({ dataDir });
  started.catch(() => undefined); // reported to whoever takes it over
  (globalThis as Record<symbol, EarlyStart | undefined>)[EARLY] = { dataDir: resolve(dataDir), started };
}

export function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const early = (globalThis as Record<symbol, EarlyStart | undefined>)[EARLY];
  if (early && options.dataDir && resolve(options.dataDir) === early.dataDir && options.port === undefined && options.sharedBuffers === undefined) {
    delete (globalThis as Record<symbol, EarlyStart | undefined>)[EARLY];
    return early.started;
  }
  return startThread(options);
}

async function startThread(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  // A new folder starts as a copy of the initialised template when there is one (no initdb).
  if (options.dataDir && !existsSync(options.dataDir)) copyTemplate(options.dataDir, process.env, options.template);
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const unlock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  // PGlite and its socket server run in a worker thread: its WASM work never holds up this
  // process's event loop (the gateway, subscriptions, webhooks), and uses the second core.
  // Bumped by the thread before it runs any message that may write (embeddedWriteCounter).
  const writes = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(workerFile(), {
    workerData: {
      writes,
      dataDir: options.dataDir ? resolve(options.dataDir) : undefined,
      port: options.port ?? 0,
      host: '127.0.0.1',
      maxConnections: 200,
      // One backend serves every connection (single-user mode): PostgreSQL's per-connection shared
      // memory is sized for one, not its default 100.
      settings: { shared_buffers: options.sharedBuffers ?? readSharedBuffers(), max_connections: '5' },
    },
    // A plain .mjs file: no TypeScript loader needed (and none inherited that could fail).
    execArgv: [],
  });
  const first = <T>(pick: (message: Record<string, unknown>) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (typeof message.failed === 'string') return done(() => reject(new Error(`embedded PostgreSQL failed to start: ${message.failed}`)));
        const value = pick(message);
        if (value !== undefined) done(() => resolve(value));
      };
      const onExit = (code: number) => done(() => reject(new Error(`embedded PostgreSQL thread exited (${code})`)));
      const onError = (error: Error) => done(() => reject(error));
      const done = (settle: () => void) => {
        worker.off('message', onMessage).off('exit', onExit).off('error', onError);
        settle();
      };
      worker.on('message', onMessage).once('exit', onExit).once('error', onError);
    });
  const address = await first((m) => (typeof m.ready === 'string' ? m.ready : undefined)).catch(async (error: unknown) => {
    await worker.terminate();
    unlock();
    throw error;
  });
  const url = `postgres://postgres:postgres@${address}/postgres?sslmode=disable`;
  writeCounters().set(address, writes);
  let stopping: Promise<void> | undefined;
  // Past start, a failure of the thread is no one's promise: say so where the operator looks.
  worker.on('error', (error) => console.error(`embedded PostgreSQL thread failed: ${error.message}`));
  worker.on('exit', (code) => void (stopping ?? console.error(`embedded PostgreSQL thread exited (${code}); the services lose their database`)));
  return {
    url,
    stop() {
      stopping ??= (async () => {
        if (writeCounters().get(address) === writes) writeCounters().delete(address);
        const stopped = first((m) => (m.stopped ? true : undefined)).catch(() => true);
        worker.postMessage('stop');
        await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        await worker.terminate();
        unlock();
      })();
      return stopping;
    },
  };
}

/**
 * The embedded databases this process runs, by `host:port`, with the count of messages their
 * thread has begun that may write: on `globalThis`, as a bundle may hold another copy of this
 * module (see EARLY).
 */
const WRITES = Symbol.for('commerce.embedded-postgres.writes');
const writeCounters = (): Map<string, Int32Array> =>
  ((globalThis as Record<symbol, Map<string, Int32Array> | undefined>)[WRITES] ??= new Map());

/**
 * For a `postgres://` URL of an embedded PGlite this process runs: a shared counter its thread
 * bumps (Atomics) BEFORE it runs each protocol message, except a whole READ ONLY transaction of
 * the one shape `readInOneRoundTrip` sends (embedded-postgres.worker.mjs, `isReadOnlyRead`).
 * PGlite is one session that runs one message at a time, and every client reaches it through
 * that thread, so when the counter reads the same before a read is sent and later, nothing that
 * could change what the read saw has begun in between (decision 0050). Undefined for anything
 * else (PostgreSQL, another process's PGlite).
 */
export function embeddedWriteCounter(url: string): Int32Array | undefined {
  try {
    return writeCounters().get(new URL(url).host);
  } catch {
    return undefined;
  }
}

/** The worker's file beside this one (sources), or beside a bundle that copied it. */
function workerFile(): string {
  const here = dirname(__filename);
  for (const dir of [here, join(here, '..', '..', 'lib', 'db'), join(here, '..', 'lib', 'db')]) {
    const file = join(dir, 'embedded-postgres.worker.mjs');
    if (existsSync(file)) return file;
  }
  throw new Error(`embedded-postgres.worker.mjs not found beside ${here}`);
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
          { cause: error },
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
