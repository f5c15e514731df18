import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPHS } from '../../lib/subgraphs.js';
import { graphqlRequest } from '../../scripts/graphql-request.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';

const root = join(__dirname, '..', '..');

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Running { child: ChildProcess; output: () => string; exited: Promise<number | null> }
/** `npm run <script>` as a user runs it, on the embedded defaults (no DATABASE_URL or REDIS_URL). */
/** Services run on their own need the secret they share (there is no fixed fallback). */
const TEST_SECRET = randomBytes(32).toString('base64url');

function npmRun(args: string[], env: Record<string, string>): Running {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'PLATFORM_API_KEY', 'SUBGRAPH_SECRET', 'TEST_EMBEDDED_POSTGRES']) delete base[name];
  const child = spawn('npm', ['run', '--silent', ...args], { cwd: root, env: { ...base, LOG_LEVEL: 'warn', SUBGRAPH_SECRET: TEST_SECRET, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
async function waitFor(running: Running, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(running.output());
    if (match) return match;
    if (running.child.exitCode !== null || running.child.signalCode !== null) throw new Error(`exited ${running.child.exitCode} before ${pattern}:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
/** Stops the whole process group (npm, tsx, node) and waits for it. */
async function stop(running: Running): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) process.kill(-running.child.pid!, 'SIGTERM');
  await running.exited;
}

/**
 * A loopback address other than the default 127.0.0.1: an entry point that ignored HOST would
 * not be reached there.
 */
const HOST = '127.0.0.2';
const at = (port: number) => `http://${HOST.replace(/\./g, '\\.')}:${port}`;

/** The storefront cache's counters, or undefined when the gateway runs without the cache. */
async function storefrontCache(origin: string): Promise<unknown> {
  const response = await fetch(`${origin}/debug/subscriptions`);
  expect(response.status).toBe(200);
  return ((await response.json()) as { storefrontCache?: unknown }).storefrontCache;
}

/**
 * Which entry points honour which variable: what docs/configuration.md says (its "read by"
 * column) must be what the tests below check, entry point by entry point.
 */
const CHECKED: Record<string, string[]> = {
  PORT: ['npm start', 'npm run start:gateway', 'npm run gateway', 'npm run start:<service>'],
  '<SERVICE>_PORT': ['npm start', 'npm run start:<service>'],
  HOST: ['npm start', 'npm run start:gateway', 'npm run gateway', 'npm run start:<service>'],
  STOREFRONT_CACHE: ['npm start', 'npm run start:gateway'],
};

describe('docs/configuration.md names the entry points these tests check', () => {
  const table = readFileSync(join(root, 'docs', 'configuration.md'), 'utf8');
  it.each(Object.keys(CHECKED))('%s', (variable) => {
    const row = table.split('\n').find((line) => line.startsWith(`| \`${variable}\` |`));
    expect(row).toBeDefined();
    const readBy = row!.split(' | ')[1]!;
    const named = [...readBy.matchAll(/`(npm (?:start|run [\w:<>-]+))`/g)].map((m) => m[1]!);
    expect([...new Set(named)].sort()).toEqual([...CHECKED[variable]!].sort());
  });
});

describe('entry points honour PORT, HOST, <SERVICE>_PORT and STOREFRONT_CACHE', () => {
  let dir: string;
  const started: Running[] = [];
  const start = (args: string[], env: Record<string, string>) => {
    const running = npmRun(args, env);
    started.push(running);
    return running;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'commerce-start-'));
  });
  afterAll(async () => {
    for (const running of started) await stop(running);
    rmSync(dir, { recursive: true, force: true });
  });

  it('npm start: the gateway on PORT at HOST, a subgraph on its own port, the others on free ports; keys that work; seed refused meanwhile; STOREFRONT_CACHE', async () => {
    const [port, catalogPort] = [await freePort(), await freePort()];
    const env = { PGLITE_DATA_DIR: join(dir, 'pglite'), PORT: String(port), CATALOG_PORT: String(catalogPort), HOST };
    const system = start(['start'], env);
    await waitFor(system, new RegExp(`${SUBGRAPHS.at(-1)!.name}\\s+http\\S+`));
    const out = system.output();
    expect(out).toContain(`GraphiQL: http://${HOST}:${port}/graphql`);
    expect(out).toMatch(new RegExp(`catalog\\s+${at(catalogPort)}/graphql`));
    const subgraphPorts = [...out.matchAll(/^\s+(\w+)\s+http:\/\/127\.0\.0\.2:(\d+)\//gm)].map((m) => [m[1], Number(m[2])]);
    expect(subgraphPorts.map(([name]) => name)).toEqual(SUBGRAPHS.map((s) => s.name));
    for (const [name, p] of subgraphPorts.slice(1)) expect({ name, default: SUBGRAPHS.some((s) => s.port === p) }).toEqual({ name, default: false });
    expect(out).toMatch(/first start: ready in \d+\.\d s \(loading the code \d+\.\d s, services \d+\.\d s, demo data \d+\.\d s\)/);

    const admin = /demo admin key: (\S+)/.exec(out)![1]!;
    const pos = /demo pos key:\s+(\S+)/.exec(out)![1]!;
    const gateway = `http://${HOST}:${port}/graphql`;
    expect(await storefrontCache(`http://${HOST}:${port}`)).toEqual(expect.objectContaining({ hits: expect.any(Number) }));
    const keys = await graphqlRequest(gateway, '{ apiKeys { name role } }', {}, { authorization: `Bearer ${admin}` });
    expect(keys.data?.apiKeys).toEqual(expect.arrayContaining([{ name: 'demo pos', role: 'POS' }]));
    expect((await graphqlRequest(gateway, '{ tenant { slug } }', {}, { authorization: `Bearer ${pos}` })).data).toEqual({ tenant: { slug: 'demo' } });
    expect(JSON.parse(readFileSync(join(dir, 'demo-keys.json'), 'utf8'))).toEqual({ admin, pos });

    // A second process on the same PGlite folder would corrupt it: seed says so and stops.
    const seed = start(['seed'], env);
    expect(await seed.exited).toBe(1);
    expect(seed.output()).toContain(`seed failed: the embedded database in ${env.PGLITE_DATA_DIR} is in use by process `);
    await stop(system);

    // Another database's keys in the file (a run with DATABASE_URL used to leave them): new ones that work.
    writeFileSync(join(dir, 'demo-keys.json'), JSON.stringify({ admin: 'ck_from_another_database', pos: 'ck_from_another_database' }));
    const again = start(['start'], { ...env, PORT: '0', CATALOG_PORT: '0', STOREFRONT_CACHE: 'off' });
    const [, url] = await waitFor(again, /GraphiQL: (\S+)/);
    expect(await storefrontCache(new URL(url!).origin)).toBeUndefined();
    const later = again.output();
    expect(later).toContain('new demo keys:');
    expect(later).toMatch(/\nstart: ready in \d+\.\d s/);
    const renewed = JSON.parse(readFileSync(join(dir, 'demo-keys.json'), 'utf8')) as { admin: string };
    expect(later).toContain(`demo admin key: ${renewed.admin}`);
    const check = await graphqlRequest(url!, '{ apiKeys { name } }', {}, { authorization: `Bearer ${renewed.admin}` });
    expect(check.errors).toBeUndefined();
    await stop(again);
  }, 300_000);

  it('npm run start:catalog listens on CATALOG_PORT at HOST, and on PORT without it', async () => {
    const [own, other] = [await freePort(), await freePort()];
    const catalog = start(['start:catalog'], { PGLITE_DATA_DIR: join(dir, 'catalog'), CATALOG_PORT: String(own), PORT: String(other), HOST });
    await waitFor(catalog, new RegExp(`catalog subgraph ready at ${at(own)}/`));
    await stop(catalog);
    // Picked now: a port free a minute ago may since be taken by one of the processes above.
    const shared = await freePort();
    const tenant = start(['start:tenant'], { PGLITE_DATA_DIR: join(dir, 'tenant'), PORT: String(shared) });
    await waitFor(tenant, new RegExp(`tenant subgraph ready at http://127\\.0\\.0\\.1:${shared}/`));
    await stop(tenant);
  }, 180_000);

  it('npm run start:gateway and npm run gateway listen on PORT at HOST; start:gateway keeps the storefront cache unless STOREFRONT_CACHE=off', async () => {
    // The cache lives on the event bus: a gateway process of its own has one only with REDIS_URL.
    const redis: RedisProcess = await startRedisProcess();
    try {
      for (const cache of ['on', 'off'] as const) {
        const port = await freePort();
        const gateway = start(['start:gateway'], { PORT: String(port), HOST, REDIS_URL: redis.url, ...(cache === 'off' ? { STOREFRONT_CACHE: 'off' } : {}) });
        await waitFor(gateway, new RegExp(`gateway ready at ${at(port)}/graphql`));
        expect((await fetch(`http://${HOST}:${port}/healthz`)).status).toBe(200);
        const stats = await storefrontCache(`http://${HOST}:${port}`);
        if (cache === 'on') expect(stats).toEqual(expect.objectContaining({ hits: 0 }));
        else expect(stats).toBeUndefined();
        await stop(gateway);
      }
    } finally {
      await redis.stop();
    }
    const other = await freePort();
    const cli = start(['gateway', '--', '--supergraph', 'schema/supergraph.graphql'], { PORT: String(other), HOST });
    await waitFor(cli, new RegExp(`gateway ready at ${at(other)}/graphql`));
    expect((await fetch(`http://${HOST}:${other}/healthz`)).status).toBe(200);
    await stop(cli);
  }, 180_000);
});
