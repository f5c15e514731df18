/**
 * `npm run bench:subscriptions`: N graphql-ws subscribers on one store (N = 1, 500, 2000 by
 * default), stock writes through the gateway, and for each N: event-to-client latency
 * percentiles (mutation sent → payload received), payloads delivered vs expected, gateway
 * process memory, and subgraph fetches per event (which must not grow with N).
 *
 * The N clients connect at once (a POS fleet reconnecting after a network blip): the time until
 * all are subscribed and the sockets the gateway closed meanwhile, by close code, are printed too.
 *
 * Options: --clients 1,500,2000 --writes 20 --keys 1 (pos keys the clients are spread over: each
 * distinct key is a tenant-directory lookup of its own)
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlOk } from '../scripts/graphql-request.js';
import { benchArgs } from './args.js';

const SUBSCRIPTION = `subscription ($store: ID!) {
  stockChanged(storeId: $store, snapshot: false) {
    sku storeId onHand reserved available orderable version
    variant { title barcode product { title brand } price(storeId: $store) { amount currencyCode } }
  }
}`;
const ADJUST = 'mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { version } }';
const SKU = 'COF-003-L';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values } = benchArgs({ options: { clients: { type: 'string', default: '1,500,2000' }, writes: { type: 'string', default: '20' }, keys: { type: 'string', default: '1' } } });
  const sizes = values.clients.split(',').map(Number);
  const writes = Number(values.writes);

  // BENCH_CPU_PROF=<dir> writes a CPU profile of the system process there.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/system-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const started = await new Promise<{ gatewayUrl: string; stores: { id: string; code: string }[]; keys: { admin: string; pos: string } }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`system exited with ${code}`)));
  });
  const { gatewayUrl } = started;
  const store = started.stores.find((s) => s.code === 'S1')?.id;
  if (!store) throw new Error('the demo store S1 is missing');
  // Terminals subscribe with a pos key; the writes come from the admin key.
  const adminHeaders = { authorization: `Bearer ${started.keys.admin}` };
  const posKeys = [started.keys.pos];
  while (posKeys.length < Number(values.keys)) {
    const created = await graphqlOk<{ createApiKey: { key: string } }>(
      gatewayUrl,
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }',
      { input: { name: `bench till ${posKeys.length}`, role: 'POS' } },
      adminHeaders,
    );
    posKeys.push(created.createApiKey.key);
  }
  type Stats = { groups: number; subscribers: number; events: number; subgraphFetches: number; rssBytes: number };
  const stats = async () => (await (await fetch(gatewayUrl.replace('/graphql', '/debug/subscriptions'))).json()) as Stats;
  console.log(`bench:subscriptions  bus=${process.env.REDIS_URL ? 'redis' : 'in-process'}  db=${process.env.DATABASE_URL ? 'postgresql' : 'pglite'}  writes per N=${writes}  pos keys=${posKeys.length}`);
  console.log('     N  delivered/expected   p50 ms   p95 ms   p99 ms   max ms  fetches/event  system RSS MB');

  try {
    for (const n of sizes) {
      const arrivals = new Map<number, number[]>(); // version → arrival times
      const clients: Client[] = [];
      const closes = new Map<string, number>();
      const connectStart = performance.now();
      for (let i = 0; i < n; i += 1) {
        const client = createClient({
          url: gatewayUrl.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${posKeys[i % posKeys.length]}` },
          retryAttempts: 0,
          on: {
            closed: (event) => {
              const { code, reason } = event as { code: number; reason: string };
              if (code === 1000) return;
              const label = `${code} ${reason}`;
              closes.set(label, (closes.get(label) ?? 0) + 1);
            },
          },
        });
        client.subscribe<{ stockChanged: { sku: string; version: number } }>(
          { query: SUBSCRIPTION, variables: { store } },
          {
            next: (result) => {
              const payload = result.data?.stockChanged;
              if (payload?.sku !== SKU) return;
              const list = arrivals.get(payload.version) ?? [];
              list.push(performance.now());
              arrivals.set(payload.version, list);
            },
            error: () => undefined, // counted by close code
            complete: () => undefined,
          },
        );
        clients.push(client);
      }
      for (let waited = 0; (await stats()).subscribers < n; waited += 100) {
        if (waited > 60_000) throw new Error(`only ${(await stats()).subscribers} of ${n} subscribed; closed: ${JSON.stringify([...closes])}`);
        await sleep(100);
      }
      console.log(
        `        ${n} connected at once: all subscribed after ${((performance.now() - connectStart) / 1000).toFixed(1)} s in ${(await stats()).groups} groups; closed meanwhile: ${closes.size ? JSON.stringify(Object.fromEntries(closes)) : 'none'}`,
      );
      const before = await stats();
      const latencies: number[] = [];
      const firsts: number[] = [];
      let delivered = 0;
      for (let w = 0; w < writes; w += 1) {
        const sent = performance.now();
        const { adjustStock } = await graphqlOk<{ adjustStock: { version: number } }>(gatewayUrl, ADJUST, { input: { sku: SKU, storeId: store, delta: w % 2 === 0 ? 1 : -1 } }, adminHeaders);
        const deadline = performance.now() + 5_000;
        while ((arrivals.get(adjustStock.version)?.length ?? 0) < n && performance.now() < deadline) await sleep(1);
        const times = arrivals.get(adjustStock.version) ?? [];
        delivered += times.length;
        for (const t of times) latencies.push(t - sent);
        if (times.length) firsts.push(Math.min(...times) - sent);
      }
      const after = await stats();
      latencies.sort((a, b) => a - b);
      const events = after.events - before.events;
      const fetchesPerEvent = (after.subgraphFetches - before.subgraphFetches) / Math.max(events, 1);
      console.log(
        `${String(n).padStart(6)}  ${`${delivered}/${n * writes}`.padStart(18)}  ${[50, 95, 99].map((p) => percentile(latencies, p).toFixed(1).padStart(7)).join('  ')}  ${(latencies.at(-1) ?? NaN).toFixed(1).padStart(7)}  ${fetchesPerEvent.toFixed(1).padStart(13)}  ${String(Math.round(after.rssBytes / 2 ** 20)).padStart(14)}`,
      );
      firsts.sort((a, b) => a - b);
      console.log(`        first client to receive: p50 ${percentile(firsts, 50).toFixed(1)} ms, max ${(firsts.at(-1) ?? NaN).toFixed(1)} ms (the rest is fan-out)`);
      await Promise.all(clients.map((c) => c.dispose()));
      for (let waited = 0; (await stats()).subscribers > 0 && waited < 10_000; waited += 100) await sleep(100);
    }
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
