/**
 * `npm run bench:subscriptions`: N graphql-ws subscribers on one store (N = 1, 500, 2000 by
 * default), stock writes through the gateway, and for each N: event-to-client latency
 * percentiles (mutation sent → payload received), payloads delivered vs expected, gateway
 * process memory, and subgraph fetches per event (which must not grow with N).
 *
 * Options: --clients 1,500,2000 --writes 20
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { graphqlOk } from '../scripts/graphql-request.js';

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
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '1,500,2000' }, writes: { type: 'string', default: '20' } } });
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
  const headers = { authorization: `Bearer ${started.keys.pos}` };
  const adminHeaders = { authorization: `Bearer ${started.keys.admin}` };
  type Stats = { subscribers: number; events: number; subgraphFetches: number; rssBytes: number };
  const stats = async () => (await (await fetch(gatewayUrl.replace('/graphql', '/debug/subscriptions'))).json()) as Stats;
  console.log(`bench:subscriptions  bus=${process.env.REDIS_URL ? 'redis' : 'in-process'}  db=${process.env.DATABASE_URL ? 'postgresql' : 'pglite'}  writes per N=${writes}`);
  console.log('     N  delivered/expected   p50 ms   p95 ms   p99 ms   max ms  fetches/event  system RSS MB');

  try {
    for (const n of sizes) {
      const arrivals = new Map<number, number[]>(); // version → arrival times
      const clients: Client[] = [];
      for (let i = 0; i < n; i += 1) {
        const client = createClient({ url: gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: headers, retryAttempts: 0 });
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
            error: (error) => console.error('subscription error', error),
            complete: () => undefined,
          },
        );
        clients.push(client);
      }
      for (let waited = 0; (await stats()).subscribers < n; waited += 100) {
        if (waited > 60_000) throw new Error(`only ${(await stats()).subscribers} of ${n} subscribed`);
        await sleep(100);
      }
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
