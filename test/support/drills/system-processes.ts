import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createClient } from 'redis';
import { SUBGRAPHS, type SubgraphName } from '../../../schema/compose-supergraph.js';

const ROOT = join(__dirname, '..', '..', '..');

/** A port nobody listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const until = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** A redis-server of our own (no persistence, like CI's), which a drill may kill -9 and start again empty. */
export interface RedisProcess {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisProcess(): Promise<RedisProcess> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const started = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = started;
    children.add(started);
    started.once('exit', () => children.delete(started));
    await until(`redis-server on ${port}`, async () => {
      const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
      client.on('error', () => undefined);
      await client.connect();
      await client.ping();
      await client.quit();
      // Ours, not another one that took the port first.
      if (started.exitCode !== null) throw new Error(`redis-server could not listen on ${port}`);
      return true;
    }, 10_000);
  };
  const kill = async () => {
    const dying = child;
    child = undefined;
    if (!dying || dying.exitCode !== null) return;
    const exited = new Promise((resolve) => dying.once('exit', resolve));
    dying.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, kill, start, stop: kill };
}

/** Every process the drills started: none outlives the process that started it. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** One service as its own OS process (`node --import tsx <main>`), its output in a log file. */
interface ServiceProcess {
  child?: ChildProcess;
  log: WriteStream;
}

export interface SystemProcesses {
  gatewayUrl: string;
  /** Every gateway's URL (`gatewayUrl` first); more than one with `gateways`. */
  gatewayUrls: string[];
  platformApiKey: string;
  /** The PostgreSQL schema of each subgraph. */
  schemas: Record<SubgraphName, string>;
  /** Where each process writes its output (kept when a drill fails). */
  logDir: string;
  kill(name: SubgraphName): Promise<void>;
  /** Starts a killed subgraph again; `instanceId` changes its consumer name (a replacement instance). */
  start(name: SubgraphName, instanceId?: string): Promise<void>;
  stop(keepLogs?: boolean): Promise<void>;
}

/**
 * The system as production runs it: five subgraph processes and a gateway process, against the
 * given PostgreSQL (schemas of their own) and Redis. `env` adds settings (e.g. EVENT_CLAIM_IDLE_MS).
 */
export async function startSystemProcesses(options: {
  databaseUrl: string;
  redisUrl: string;
  env?: Record<string, string>;
  /** More instances of a subgraph (consumers in its group, relays of its outbox): `{ inventory: 2 }` runs `inventory-2` beside `inventory-1`. */
  replicas?: Partial<Record<SubgraphName, number>>;
  /**
   * Gateway processes (default 1). Gateway n talks to instance n of each subgraph that has that
   * many replicas (else to the first), so requests through the second gateway reach `orders-2`.
   */
  gateways?: number;
}): Promise<SystemProcesses> {
  const suffix = `_d${randomBytes(4).toString('hex')}`;
  const logDir = mkdtempSync(join(tmpdir(), 'drill-'));
  const platformApiKey = `pk_${randomBytes(18).toString('base64url')}`;
  const base: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redisUrl,
    SUBGRAPH_SECRET: randomBytes(24).toString('base64url'),
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  // Each process listens on port 0 first and says where (`… ready at <url>`); a restart takes the
  // same port again. (Picking free ports beforehand races with every other test on the machine.)
  const ports = {} as Record<SubgraphName, number>;
  const schemas = {} as Record<SubgraphName, string>;
  for (const { name } of SUBGRAPHS) schemas[name] = `${name}${suffix}`;
  const gatewayPorts: number[] = [];
  /** Ports of the replicas beyond the first instance: `replicaPorts.orders[0]` is `orders-2`'s. */
  const replicaPorts = {} as Record<SubgraphName, number[]>;
  const processes = new Map<string, ServiceProcess>();

  const spawnService = async (key: string, main: string, env: Record<string, string>, ready: (port: number) => Promise<boolean>): Promise<number> => {
    const entry = processes.get(key) ?? { log: createWriteStream(join(logDir, `${key}.log`), { flags: 'a' }) };
    processes.set(key, entry);
    const child = spawn(process.execPath, ['--import', 'tsx', main], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(entry.log, { end: false });
    child.stderr!.pipe(entry.log, { end: false });
    entry.child = child;
    children.add(child);
    child.once('exit', () => children.delete(child));
    let exited = false;
    child.once('exit', () => (exited = true));
    let port: number | undefined;
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /ready at (http:\/\/\S+)/.exec(output)?.[1];
      if (url && port === undefined) port = Number(new URL(url).port);
    });
    await until(`${key} to be ready (see ${logDir}/${key}.log)`, async () => {
      if (exited) throw new Error(`${key} exited; see ${logDir}/${key}.log`);
      return port !== undefined && ready(port);
    }, 180_000);
    return port!;
  };
  const answers = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2_000) })).status < 500;

  const startSubgraph = async (name: SubgraphName, instanceId = `${name}-1`) => {
    ports[name] = await spawnService(name, `subgraphs/${name}/src/main.ts`, {
      [`${name.toUpperCase()}_PORT`]: String(ports[name] ?? 0),
      [`${name.toUpperCase()}_DATABASE_SCHEMA`]: schemas[name],
      INSTANCE_ID: instanceId,
    }, (port) => answers(`http://127.0.0.1:${port}/readyz`)());
  };

  const kill = async (key: string) => {
    const child = processes.get(key)?.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };

  const stop = async () => {
    for (const key of processes.keys()) await kill(key);
    for (const entry of processes.values()) entry.log.end();
    const client = new Client({ connectionString: options.databaseUrl });
    await client.connect();
    for (const schema of Object.values(schemas)) {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    }
    await client.end();
  };

  try {
    // Migrations of five schemas at once are fine; five tsx start-ups at once on two cores are slow but fine.
    await Promise.all(SUBGRAPHS.map(({ name }) => startSubgraph(name)));
    // Replicas: same schema, their own port and consumer name; the gateway talks to the first.
    const extra = Object.entries(options.replicas ?? {}).flatMap(([name, count]) =>
      Array.from({ length: Math.max(0, (count ?? 1) - 1) }, (_, i) => ({ name: name as SubgraphName, instance: `${name}-${i + 2}` })),
    );
    await Promise.all(
      extra.map(async ({ name, instance }, i) => {
        const port = await spawnService(instance, `subgraphs/${name}/src/main.ts`, {
          [`${name.toUpperCase()}_PORT`]: '0',
          [`${name.toUpperCase()}_DATABASE_SCHEMA`]: schemas[name],
          INSTANCE_ID: instance,
        }, (p) => answers(`http://127.0.0.1:${p}/readyz`)());
        // In the order of `extra` (inventory-2 before inventory-3), whatever order they got ready in.
        const index = extra.filter((e, j) => j < i && e.name === name).length;
        (replicaPorts[name] ??= [])[index] = port;
      }),
    );
    for (let n = 0; n < Math.max(1, options.gateways ?? 1); n++) {
      const portOf = (name: SubgraphName) => (n === 0 ? ports[name] : (replicaPorts[name]?.[n - 1] ?? ports[name]));
      gatewayPorts.push(
        await spawnService(n === 0 ? 'gateway' : `gateway-${n + 1}`, 'gateway/src/main.ts', {
          PORT: '0',
          PLATFORM_API_KEY: platformApiKey,
          RATE_LIMIT_PER_MINUTE: '1000000',
          ...Object.fromEntries(SUBGRAPHS.map(({ name }) => [`${name.toUpperCase()}_URL`, `http://127.0.0.1:${portOf(name)}/graphql`])),
        }, (port) => answers(`http://127.0.0.1:${port}/healthz`)()),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPorts[0]}/graphql`,
    gatewayUrls: gatewayPorts.map((port) => `http://127.0.0.1:${port}/graphql`),
    platformApiKey,
    schemas,
    logDir,
    kill,
    start: startSubgraph,
    /** Stops everything and drops the schemas; the logs stay when `keepLogs` (a failed drill). */
    async stop(keepLogs = false) {
      await stop();
      if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
    },
  };
}
