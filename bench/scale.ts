/**
 * `npm run bench:scale [-- --products 100000] [--runs 30]`: the whole system (in this process, as
 * `npm start` runs it: embedded PGlite and the in-process bus, or the servers DATABASE_URL /
 * REDIS_URL name) with a generated catalog imported through `/imports/catalog` at 1k and 10k
 * products (and --products when larger). Per size it prints the import's time until fully visible
 * (`feedImport` COMPLETED: catalog, search, every price and stock level), the event loop's delay
 * p99 during the import and during the reads, and p50/p95 of: the storefront's first page (price
 * and stock of each variant), a search for a 1 % word, a page 90 % deep, `variant(sku)` with price
 * and stock, `product(id)`, an order history and `movements`; then each read's growth factor from
 * the smallest size to the largest. Targets (issue 23): every read within 1.5x, event loop p99 < 100 ms.
 */
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { graphqlOk } from '../scripts/graphql-request.js';
import { seedDemo } from '../scripts/seed-demo.js';
import { quoted } from '../test/support/fixtures.js';
import { startSystem } from '../scripts/system.js';
import { cleanUpBench } from './clean-up.js';
import { benchArgs } from './args.js';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Products of the generated feed, numbered from `from` to `to`: 1 % carry the word "amber"; each has one sku with a price and stock in S1. */
function feedOf(from: number, to: number): string {
  const lines = ['handle,title,sku,brand,price,currency,store,stock'];
  for (let i = from; i <= to; i++) {
    lines.push(`scale-${i},Scale product ${i}${i % 100 === 7 ? ' amber' : ''},SCALE-${i},Brand ${i % 200},${(5 + (i % 50)).toFixed(2)},EUR,S1,${10 + (i % 7)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const { values } = benchArgs({ options: { products: { type: 'string', default: '10000' }, runs: { type: 'string', default: '30' } } });
  const max = Number(values.products);
  const runs = Number(values.runs);
  const sizes = [...new Set([1_000, 10_000, max].filter((n) => n <= max))].sort((a, b) => a - b);
  const system = await startSystem({
    ports: { gateway: 0, catalog: 0, inventory: 0, pricing: 0, orders: 0, tenant: 0 },
    schemaSuffix: `_scale${process.pid}`,
    redisStream: `bench:scale:${process.pid}`,
    rateLimitPerMinute: { authenticated: 1e9, anonymous: 1e9 },
    log: () => {},
  });
  const db = process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite';
  const bus = process.env.REDIS_URL ? 'Redis' : 'in-process bus';
  try {
    const seeded = await seedDemo(system);
    const admin = { authorization: `Bearer ${seeded.keys!.admin}` };
    const storefront = { 'x-tenant-id': 'demo' };
    const store = seeded.stores.find((s) => s.code === 'S1')!.id;
    const origin = new URL(system.gatewayUrl).origin;
    const ask = <T>(query: string, variables: Record<string, unknown>, headers: Record<string, string>) => graphqlOk<T>(system.gatewayUrl, query, variables, headers);
    // An order history to read: a few orders of a demo variant.
    const demo = await ask<{ products: { edges: { node: { variants: { sku: string }[] } }[] } }>('{ products(first: 1) { edges { node { variants { sku } } } } }', {}, admin);
    const demoSku = demo.products.edges[0]!.node.variants[0]!.sku;
    for (let i = 0; i < 10; i++) {
      await ask('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', { input: await quoted(system.gatewayUrl, { storeId: store, lines: [{ sku: demoSku, quantity: 1 }] }, admin) }, admin);
    }

    console.log(`bench:scale on ${db} + ${bus}, everything in this process; ${runs} runs per read`);
    const results = new Map<number, Map<string, { p50: number; p95: number }>>();
    const header = ['products', 'import to visible s', 'rows/s', 'search offers visible s', 'loop p99 import ms', 'loop p99 reads ms', 'load avg 1m at import end'];
    const table: string[][] = [];
    let loaded = 0;
    for (const size of sizes) {
      // 1. Import what takes the catalog to `size` products, and wait until every effect is visible.
      const importLag = monitorEventLoopDelay({ resolution: 10 });
      importLag.enable();
      const started = performance.now();
      const response = await fetch(`${origin}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...admin }, body: feedOf(loaded + 1, size) });
      if (response.status !== 202) throw new Error(`import answered ${response.status}: ${await response.text()}`);
      const { id } = (await response.json()) as { id: string };
      let catalogSeconds: number | undefined;
      for (;;) {
        const { feedImport } = await ask<{ feedImport: { status: string; imported: number; failed: number; error: string | null } }>(
          'query ($id: ID!) { feedImport(id: $id) { status imported failed error } }',
          { id },
          admin,
        );
        if (feedImport.status === 'FAILED' || feedImport.failed > 0) throw new Error(`import failed: ${JSON.stringify(feedImport)}`);
        if (feedImport.status === 'COMPLETED') break;
        if (feedImport.status === 'PROPAGATING' && catalogSeconds === undefined) catalogSeconds = (performance.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const importSeconds = (performance.now() - started) / 1000;
      importLag.disable();
      // Visible means visible: the last row's price and stock answer now.
      const { variant } = await ask<{ variant: { price: { amount: string } | null; stock: { onHand: number } | null } | null }>(
        'query ($sku: ID!, $store: ID!) { variant(sku: $sku) { price(storeId: $store) { amount } stock(storeId: $store) { onHand } } }',
        { sku: `SCALE-${size}`, store },
        admin,
      );
      if (!variant?.price || !variant.stock) throw new Error(`SCALE-${size} is not visible after COMPLETED: ${JSON.stringify(variant)}`);
      // Visible downstream too: the catalog's search offers (price and availability per store) of every row.
      for (;;) {
        const { search } = await ask<{ search: { totalCount: number } }>(
          'query ($store: ID!) { search(query: "scale", filter: { inStock: true, price: { min: "0" } }, storeId: $store, first: 1) { totalCount } }',
          { store },
          admin,
        );
        if (search.totalCount >= size) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const searchSeconds = (performance.now() - started) / 1000;
      const importLoad = loadavg().map((n) => n.toFixed(1)).join(' ');
      const rows = size - loaded;
      loaded = size;

      // 2. Reads at this size.
      const first = await ask<{ products: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string } } }>(
        '{ products(first: 20) { edges { node { id } } pageInfo { endCursor } } }',
        {},
        storefront,
      );
      const firstSeq = Number(Buffer.from(first.products.pageInfo.endCursor, 'base64url').toString('utf8').slice(2));
      const deepCursor = Buffer.from(`c:${firstSeq + Math.floor(size * 0.9)}`, 'utf8').toString('base64url');
      const middleSku = `SCALE-${Math.ceil(size / 2)}`;
      const { variant: middle } = await ask<{ variant: { product: { id: string } } }>('query ($sku: ID!) { variant(sku: $sku) { product { id } } }', { sku: middleSku }, storefront);
      const reads: { name: string; query: string; variables: Record<string, unknown>; headers: Record<string, string> }[] = [
        {
          name: 'storefront first page',
          query: `query ($store: ID!) { products(first: 20) { edges { node { id title variants { sku price(storeId: $store) { amount } stock(storeId: $store) { available } } } } } }`,
          variables: { store },
          headers: storefront,
        },
        { name: 'search 1% word', query: '{ products(query: "amber", first: 20) { edges { node { id title } } } }', variables: {}, headers: storefront },
        { name: 'page 90% deep', query: 'query ($after: String) { products(first: 20, after: $after) { edges { node { id title } } } }', variables: { after: deepCursor }, headers: storefront },
        {
          name: 'variant(sku)',
          query: 'query ($sku: ID!, $store: ID!) { variant(sku: $sku) { title price(storeId: $store) { amount } stock(storeId: $store) { available } } }',
          variables: { sku: middleSku, store },
          headers: storefront,
        },
        { name: 'product(id)', query: 'query ($id: ID!) { product(id: $id) { title variants { sku } } }', variables: { id: middle.product.id }, headers: storefront },
        { name: 'order history', query: '{ orders(first: 20) { edges { node { id status } } } }', variables: {}, headers: admin },
        {
          name: 'movements',
          query: 'query ($sku: ID!, $store: ID!) { movements(sku: $sku, storeId: $store, first: 20) { edges { node { kind quantity } } } }',
          variables: { sku: middleSku, store },
          headers: admin,
        },
      ];
      const readLag = monitorEventLoopDelay({ resolution: 10 });
      readLag.enable();
      const perRead = new Map<string, { p50: number; p95: number }>();
      for (const read of reads) {
        for (let i = 0; i < 3; i++) await ask(read.query, read.variables, read.headers);
        const times: number[] = [];
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          await ask(read.query, read.variables, read.headers);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        perRead.set(read.name, { p50: percentile(times, 50), p95: percentile(times, 95) });
      }
      readLag.disable();
      results.set(size, perRead);
      table.push([
        size.toLocaleString('en'),
        importSeconds.toFixed(1),
        (rows / importSeconds).toFixed(0),
        searchSeconds.toFixed(1),
        (importLag.percentile(99) / 1e6).toFixed(0),
        (readLag.percentile(99) / 1e6).toFixed(0),
        importLoad,
      ]);
      console.error(`  ${size.toLocaleString('en')} products: imported ${rows} rows in ${importSeconds.toFixed(1)} s (catalog part ${catalogSeconds?.toFixed(1) ?? '-'} s, search offers ${searchSeconds.toFixed(1)} s; load ${importLoad})`);
    }

    console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
    for (const row of table) console.log(`| ${row.join(' | ')} |`);
    const names = [...results.values().next().value!.keys()];
    const smallest = sizes[0]!;
    const largest = sizes.at(-1)!;
    const readHeader = ['read (p50 / p95 ms)', ...sizes.map((s) => s.toLocaleString('en')), `growth p50 ${smallest.toLocaleString('en')}→${largest.toLocaleString('en')}`];
    console.log(`\n| ${readHeader.join(' | ')} |\n|${readHeader.map(() => '---').join('|')}|`);
    for (const name of names) {
      const cells = sizes.map((s) => {
        const r = results.get(s)!.get(name)!;
        return `${r.p50.toFixed(1)} / ${r.p95.toFixed(1)}`;
      });
      const growth = results.get(largest)!.get(name)!.p50 / results.get(smallest)!.get(name)!.p50;
      console.log(`| ${name} | ${cells.join(' | ')} | ${growth.toFixed(2)}x${growth > 1.5 ? ' (over 1.5x)' : ''} |`);
    }
  } finally {
    await system.stop();
    await cleanUpBench(`_scale${process.pid}`, `bench:scale:${process.pid}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
