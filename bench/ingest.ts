/**
 * `npm run bench:ingest [-- --acks 300 --events 100 --burst 2000 --concurrency 20 --feed-rows 10000 --enrichment-rows 2000 --enrichment-rounds 3]`
 *
 * Webhook ingestion and feed import, against the whole system in its own process (embedded
 * defaults, or DATABASE_URL / REDIS_URL when set), demo data loaded. Prints:
 *  - ack latency: signed POS webhook → 202, one at a time (target p99 < 50 ms);
 *  - propagation: webhook sent → the POS subscriber's stockChanged payload (target p95 < 200 ms);
 *  - throughput: a burst of deliveries from concurrent senders, acknowledged per second and
 *    applied per second (until the stock shows every delivery), with the stock checked;
 *  - a catalog feed of N rows (price and stock columns) through /imports/catalog: rows per second
 *    and the system's RSS before and after;
 *  - enrichment: the same shape of dirty feed (titles only) without and with the tenant's
 *    enrichment rules, catalog rows per second each (`--enrichment-rows`, 0 skips it), alternated
 *    `--enrichment-rounds` times (off, on, off, on, …: the machine's drift hits both alike), with
 *    each pair's cost and the ranges. Off is every rule switched off (nothing runs or is recorded).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signJson } from '../lib/webhooks/signatures.js';
import { graphqlOk } from '../scripts/graphql-request.js';
import { benchArgs } from './args.js';

const SECRET = 'bench-pos-secret-0123456789';
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)}  p95 ${percentile(sorted, 95).toFixed(1)}  p99 ${percentile(sorted, 99).toFixed(1)}  max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: {
      acks: { type: 'string', default: '300' },
      events: { type: 'string', default: '100' },
      burst: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '20' },
      'feed-rows': { type: 'string', default: '10000' },
      'enrichment-rows': { type: 'string', default: '2000' },
      'enrichment-rounds': { type: 'string', default: '3' },
    },
  });
  // BENCH_CPU_PROF=<dir>: the system process writes a V8 CPU profile there when it stops (`node --cpu-prof`).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'bench/system-process.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  /** CPU seconds (user + system) the system process has used so far: its process.cpuUsage, read from /proc (Linux), which the machine's load does not inflate. */
  const cpuSeconds = () => {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return NaN;
    }
  };
  const load = () => loadavg()[0]!.toFixed(1);
  const started = await new Promise<{ gatewayUrl: string; stores: { id: string; code: string }[]; keys: { admin: string; pos: string } }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
    child.once('exit', (code) => reject(new Error(`system exited with ${code}`)));
  });
  const { gatewayUrl } = started;
  const origin = new URL(gatewayUrl).origin;
  const admin = { authorization: `Bearer ${started.keys.admin}` };
  const store = started.stores.find((s) => s.code === 'S1')!.id;
  const rss = async () => ((await (await fetch(`${origin}/debug/subscriptions`)).json()) as { rssBytes: number }).rssBytes / 2 ** 20;

  try {
    await graphqlOk(gatewayUrl, 'mutation { configureWebhookSource(input: { source: POS, secret: "' + SECRET + '" }) { path } }', {}, admin);
    const { products } = await graphqlOk<{ products: { edges: { node: { variants: { sku: string }[] } }[] } }>(
      gatewayUrl,
      '{ products(first: 20) { edges { node { variants { sku } } } } }',
      {},
      admin,
    );
    const skus = products.edges.flatMap((e) => e.node.variants.map((v) => v.sku));
    const webhook = async (sku: string, delta: number) => {
      const body = JSON.stringify({ event_id: randomUUID(), type: 'stock.delta', occurred_at: new Date().toISOString(), items: [{ sku, location: 'S1', delta }] });
      const response = await fetch(`${origin}/webhooks/pos/demo`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, SECRET) }, body });
      if (response.status !== 202) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    };
    console.log(`bench:ingest  bus=${process.env.REDIS_URL ? 'redis' : 'in-process'}  db=${process.env.DATABASE_URL ? 'postgresql' : 'pglite'}`);

    // Warm-up: connections, caches, prepared plans.
    for (let i = 0; i < 20; i++) await webhook(skus[i % skus.length]!, 1);

    // 1. Ack latency, one delivery at a time.
    const acks: number[] = [];
    for (let i = 0; i < Number(values.acks); i++) {
      const t0 = performance.now();
      await webhook(skus[i % skus.length]!, 1);
      acks.push(performance.now() - t0);
    }
    console.log(`ack (202) latency, ${acks.length} sequential deliveries:    ${summary(acks)}   (target p99 < 50 ms)`);

    // 2. Propagation to a POS terminal's subscription.
    const sku = skus[0]!;
    const client = createClient({ url: gatewayUrl.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${started.keys.pos}` }, retryAttempts: 0 });
    let waiting: (() => void) | undefined;
    let seen = 0;
    const payloads = new Map<string, number>();
    client.subscribe<{ stockChanged: { sku: string; version: number } }>(
      { query: 'subscription ($store: ID!) { stockChanged(storeId: $store, snapshot: false) { sku version onHand variant { title } } }', variables: { store } },
      {
        next: (result) => {
          const change = result.data?.stockChanged;
          if (!change) return;
          seen++;
          payloads.set(change.sku, (payloads.get(change.sku) ?? 0) + 1);
          if (change.sku === sku) waiting?.();
        },
        error: (error) => console.error('subscription error', error),
        complete: () => undefined,
      },
    );
    await sleep(500);
    const propagation: number[] = [];
    for (let i = 0; i < Number(values.events); i++) {
      const arrived = new Promise<void>((resolve) => (waiting = resolve));
      const t0 = performance.now();
      await webhook(sku, i % 2 ? -1 : 1);
      await arrived;
      propagation.push(performance.now() - t0);
      await sleep(20);
    }
    console.log(`webhook → POS subscriber payload, ${propagation.length} deliveries: ${summary(propagation)}   (target p95 < 200 ms)`);

    // 3. Throughput: a burst from concurrent senders; applied when the stock shows all of it.
    const burst = Number(values.burst);
    const burstSkus = skus.slice(1);
    const stockOf = async () =>
      (
        await graphqlOk<{ store: { inventory: { edges: { node: { sku: string; onHand: number } }[] } } }>(
          gatewayUrl,
          'query ($store: ID!) { store(id: $store) { inventory(first: 100) { edges { node { sku onHand } } } } }',
          { store },
          admin,
        )
      ).store.inventory.edges.reduce((sum, e) => (burstSkus.includes(e.node.sku) ? sum + e.node.onHand : sum), 0);
    const before = await stockOf();
    const seenBefore = seen;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Number(values.concurrency) }, async () => {
        while (next < burst) {
          const i = next++;
          await webhook(burstSkus[i % burstSkus.length]!, 1);
        }
      }),
    );
    const acked = performance.now() - t0;
    let after = await stockOf();
    while (after - before < burst && performance.now() - t0 < 300_000) {
      await sleep(50);
      after = await stockOf();
    }
    const applied = performance.now() - t0;
    await sleep(200);
    console.log(
      `burst of ${burst} deliveries from ${values.concurrency} senders: ${Math.round((burst / acked) * 1000)} acks/s, ` +
        `${Math.round((burst / applied) * 1000)} applied/s; stock +${after - before} (expected +${burst}); ` +
        `the subscriber got ${seen - seenBefore} payloads (a terminal that falls behind gets a sku's newest state in place of older ones)`,
    );
    await client.dispose();

    // 4. A catalog feed through /imports/catalog.
    const rows = Number(values['feed-rows']);
    if (rows > 0) {
      const lines = ['handle,title,sku,variant_title,price,currency,store,stock'];
      for (let i = 0; i < rows; i++) lines.push(`bench-${i >> 1},Bench product ${i >> 1},BENCH-${i},Variant ${i},${(1 + (i % 97)).toFixed(2)},EUR,S1,${i % 50}`);
      const csv = `${lines.join('\n')}\n`;
      const rssBefore = await rss();
      const f0 = performance.now();
      const response = await fetch(`${origin}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...admin }, body: csv });
      const { id } = (await response.json()) as { id: string };
      let peak = rssBefore;
      for (;;) {
        const { feedImport } = await graphqlOk<{ feedImport: { status: string; processed: number; failed: number } }>(
          gatewayUrl,
          'query ($id: ID!) { feedImport(id: $id) { status processed failed } }',
          { id },
          admin,
        );
        peak = Math.max(peak, await rss());
        if (feedImport.status === 'COMPLETED' || feedImport.status === 'FAILED') {
          const catalogDone = performance.now() - f0;
          // Prices and stock follow by event: wait for the last row's stock.
          const last = `BENCH-${rows - 1}`;
          for (;;) {
            const { variant } = await graphqlOk<{ variant: { stock: { onHand: number }; price: { amount: string } | null } | null }>(
              gatewayUrl,
              `query ($store: ID!) { variant(sku: "${last}") { stock(storeId: $store) { onHand } price(storeId: $store) { amount } } }`,
              { store },
              admin,
            );
            peak = Math.max(peak, await rss());
            if (variant?.price && variant.stock.onHand === (rows - 1) % 50) break;
            await sleep(100);
          }
          const done = performance.now() - f0;
          console.log(
            `feed of ${rows} rows (${(csv.length / 2 ** 20).toFixed(1)} MiB): ${feedImport.status}, ${feedImport.processed - feedImport.failed} imported, ${feedImport.failed} to review; ` +
              `catalog ${Math.round(rows / (catalogDone / 1000))} rows/s, with prices and stock ${Math.round(rows / (done / 1000))} rows/s; ` +
              `system RSS ${Math.round(rssBefore)} → peak ${Math.round(peak)} MB`,
          );
          break;
        }
        await sleep(250);
      }
    }

    // 5. Enrichment's cost on a feed: the same dirty rows without rules, then with them.
    const enrichmentRows = Number(values['enrichment-rows']);
    if (enrichmentRows > 0) {
      const dirty = ['NESCAFE GOLD INSTANT COFFEE 200GM', 'coca-cola   6x330ml', 'barilla spaghetti n.5 1kg', 'Oat milk OATLY 1L', 'Dettol handwash 250 ml - - '];
      /** One feed: rows per second, the system's CPU seconds per 1,000 rows, the load average when it ended. */
      const feedRate = async (prefix: string): Promise<{ rate: number; cpu: number; load: string }> => {
        const lines = ['handle,title,sku'];
        for (let i = 0; i < enrichmentRows; i++) lines.push(`${prefix}-${i},"${dirty[i % dirty.length]} ${i}",${prefix.toUpperCase()}-${i}`);
        const c0 = cpuSeconds();
        const f0 = performance.now();
        const response = await fetch(`${origin}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...admin }, body: `${lines.join('\n')}\n` });
        const { id } = (await response.json()) as { id: string };
        for (;;) {
          const { feedImport } = await graphqlOk<{ feedImport: { status: string } }>(gatewayUrl, 'query ($id: ID!) { feedImport(id: $id) { status } }', { id }, admin);
          if (feedImport.status === 'COMPLETED' || feedImport.status === 'FAILED') {
            const rate = Math.round(enrichmentRows / ((performance.now() - f0) / 1000));
            return { rate, cpu: Math.round(((cpuSeconds() - c0) / enrichmentRows) * 1000 * 100) / 100, load: load() };
          }
          await sleep(50);
        }
      };
      const rules = (on: boolean) =>
        graphqlOk(
          gatewayUrl,
          'mutation ($input: EnrichmentRulesInput!) { setEnrichmentRules(input: $input) { brands } }',
          {
            input: {
              brands: ['Nescafé', 'Coca-Cola', 'Barilla', 'Oatly', 'Dettol'],
              categoryKeywords: [{ category: 'Coffee', keywords: ['coffee', 'instant coffee'] }, { category: 'Pasta', keywords: ['spaghetti'] }],
              disabled: on ? [] : ['whitespace', 'size', 'casing', 'brand', 'category', 'synonyms'],
            },
          },
          admin,
        );
      // A first feed each way warms caches and plans: not counted.
      await rules(true);
      await feedRate('warm-on');
      await rules(false);
      await feedRate('warm-off');
      const pairs: { without: Awaited<ReturnType<typeof feedRate>>; withRules: Awaited<ReturnType<typeof feedRate>> }[] = [];
      for (let round = 0; round < Number(values['enrichment-rounds']); round++) {
        await rules(false);
        const without = await feedRate(`plain${round}`);
        await rules(true);
        const withRules = await feedRate(`rich${round}`);
        pairs.push({ without, withRules });
        console.log(
          `feed of ${enrichmentRows} dirty rows, round ${round + 1}: without enrichment ${without.rate} rows/s, ${without.cpu} CPU s/1000 rows (load ${without.load}); ` +
            `with it ${withRules.rate} rows/s, ${withRules.cpu} CPU s/1000 rows (load ${withRules.load}): cost ${Math.round((1 - withRules.rate / without.rate) * 100)}% rows/s, ${Math.round((withRules.cpu / without.cpu - 1) * 100)}% CPU`,
        );
      }
      const range = (xs: number[]) => `${Math.min(...xs)}–${Math.max(...xs)}`;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const costs = pairs.map((p) => Math.round((1 - p.withRules.rate / p.without.rate) * 100));
      const cpuCosts = pairs.map((p) => Math.round((p.withRules.cpu / p.without.cpu - 1) * 100));
      console.log(
        `enrichment over ${pairs.length} rounds: without ${range(pairs.map((p) => p.without.rate))} rows/s, with ${range(pairs.map((p) => p.withRules.rate))} rows/s, cost ${range(costs)}% (median ${median(costs)}%); ` +
          `CPU per 1000 rows without ${range(pairs.map((p) => p.without.cpu))} s, with ${range(pairs.map((p) => p.withRules.cpu))} s, cost ${range(cpuCosts)}% (median ${median(cpuCosts)}%); budget 30%; load ${range(pairs.flatMap((p) => [Number(p.without.load), Number(p.withRules.load)]))}`,
      );
    }
  } finally {
    child.kill('SIGTERM');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
