/**
 * The gateway half of `npm run bench:search` (issue 15): the whole system (`startSystem`, as
 * `npm start` runs it: embedded PGlite by default, or DATABASE_URL / REDIS_URL), one tenant with
 * --products products generated straight into its catalog schema (30 categories, a price and
 * availability in one store, written into the search read model in bulk as its event appliers
 * would), then the storefront's mixed searches (text, typo, prefix + brand, department in stock by
 * price, browse all, a word in every product; each with its facets) sent as an anonymous
 * storefront (x-tenant-id) by --clients concurrent HTTP clients for --seconds. Prints p50/p95/p99
 * per query and over the mix, the process's RSS and the load average.
 *
 * Then the propagation of price and stock (the read model is fed by pricing's and inventory's
 * events): --changes times each, a `setPrice` (admin key) on a sku and polling the storefront's
 * `search` with a price filter matching only the new price until it shows; a `receiveStock` on a
 * sku that had none and polling `inStock: true` until it shows. Prints p50/p95/max.
 *
 * Both caches in the way are on as `npm start` has them: the gateway's storefront cache
 * (STOREFRONT_CACHE=off measures without it) and the catalog's search cache
 * (SEARCH_CACHE_MAX_BYTES=0 measures without it).
 */
import { Agent, request } from 'node:http';
import { loadavg } from 'node:os';
import { FREE_PORTS } from '../lib/subgraphs.js';
import { inTenantTransaction } from '../lib/db/data-source.js';
import { analyzeAfterBulkWrite } from '../lib/db/table-statistics.js';
import { startSystem } from '../scripts/system.js';
import { cleanUpBench } from './clean-up.js';
import { insertBenchCategories, insertBenchProducts } from './search-catalog.js';

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const mb = () => (process.memoryUsage().rss / 2 ** 20).toFixed(0);

const SEARCH = `query ($q: String, $filter: SearchFilter, $sort: SearchSort, $store: ID, $first: Int) {
  search(query: $q, filter: $filter, sort: $sort, storeId: $store, first: $first) {
    totalCount edges { node { id title } } facets { name values { value count } }
  }
}`;

export async function gatewayBench(o: { products: number; clients: number; seconds: number; changes: number; warmup: number }): Promise<void> {
  process.env.DB_STATEMENT_TIMEOUT_MS ??= '0';
  const started = performance.now();
  const system = await startSystem({ ports: FREE_PORTS, schemaSuffix: `_bench${process.pid}`, rateLimitPerMinute: { authenticated: 1e9, anonymous: 1e9 }, log: () => {} });
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients + 2 });
  const url = new URL(system.gatewayUrl);
  const post = (body: string, headers: Record<string, string>) =>
    new Promise<{ data?: any; errors?: { message: string }[] }>((resolve, reject) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const gql = async (query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
    const r = await post(JSON.stringify({ query, variables }), headers);
    if (r.errors?.length || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  try {
    const platform = { authorization: `Bearer ${system.platformApiKey}` };
    const slug = `bench-${process.pid}`;
    const { createTenant } = await gql('mutation ($i: CreateTenantInput!) { createTenant(input: $i) { id } }', { i: { slug, name: 'Search bench' } }, platform);
    const tenantId: string = createTenant.id;
    const { createStore } = await gql('mutation ($i: CreateStoreInput!) { createStore(input: $i) { id } }', { i: { tenantId, code: 'S1', name: 'Main', kind: 'STORE' } }, platform);
    const storeId: string = createStore.id;
    const { createApiKey } = await gql('mutation ($i: CreateApiKeyInput!) { createApiKey(input: $i) { key } }', { i: { name: 'bench admin', role: 'ADMIN', tenantId } }, platform);
    const admin = { authorization: `Bearer ${createApiKey.key}` };
    const shopper = { 'x-tenant-id': slug };

    // The catalog: generated into the catalog's own schema in bulk, through its triggers.
    const catalog = system.dataSources.catalog;
    const s = catalog.driver.schema!;
    const loadStarted = performance.now();
    await inTenantTransaction(catalog, tenantId, (m) => insertBenchCategories(m, s, tenantId));
    for (let from = 1; from <= o.products; from += 10_000) {
      const to = Math.min(o.products, from + 9_999);
      await inTenantTransaction(catalog, tenantId, (m) => insertBenchProducts(m, s, tenantId, storeId, from, to));
    }
    await analyzeAfterBulkWrite(catalog, ['product', 'variant', 'product_search_entry', 'search_offer', 'search_term'], o.products);
    const [{ id: department }] = await inTenantTransaction(catalog, tenantId, (m) => m.query(`SELECT id FROM "${s}".category WHERE tenant_id = $1 AND name = 'Department 2'`, [tenantId]));
    console.log(
      `search through the gateway on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}: ${o.products.toLocaleString('en')} products (loaded in ${((performance.now() - loadStarted) / 1000).toFixed(0)} s, system up in ${((loadStarted - started) / 1000).toFixed(0)} s), ` +
        `${o.clients} clients for ${o.seconds} s, gateway storefront cache ${process.env.STOREFRONT_CACHE ?? 'on'}, catalog search cache ${process.env.SEARCH_CACHE_MAX_BYTES === '0' ? 'off' : 'on'}`,
    );

    const mix: { name: string; variables: Record<string, unknown> }[] = [
      { name: '1% word, facets', variables: { q: 'amber', store: storeId } },
      { name: 'typo `velvett`', variables: { q: 'velvett', first: 20, store: storeId } },
      { name: 'prefix + brand + PRICE_ASC', variables: { q: 'velv', filter: { brands: ['Brand 3', 'Brand 13'] }, sort: 'PRICE_ASC', store: storeId } },
      { name: 'department, in stock, 10-50, PRICE_ASC', variables: { filter: { categoryIds: [department], inStock: true, price: { min: '10', max: '50' } }, sort: 'PRICE_ASC', store: storeId } },
      { name: 'browse all NEWEST', variables: { sort: 'NEWEST', store: storeId } },
      { name: 'word in every product, RELEVANCE', variables: { q: 'generated bench', store: storeId } },
    ];
    const bodies = mix.map((q) => JSON.stringify({ query: SEARCH, variables: q.variables }));
    const totals = new Map<number, number>();
    for (const [i, body] of bodies.entries()) {
      const r = await post(body, shopper);
      if (r.errors?.length) throw new Error(`${mix[i]!.name}: ${JSON.stringify(r.errors)}`);
      totals.set(i, r.data.search.totalCount);
    }
    // Warm-up: the catalog builds its search index for the tenant on the first search (decision
    // 0049; the searches fall back to the search function meanwhile), as a process's first minutes do.
    const warmupUntil = performance.now() + o.warmup * 1000;
    let warmupCalls = 0;
    while (performance.now() < warmupUntil) await post(bodies[warmupCalls++ % bodies.length]!, shopper);
    if (o.warmup > 0) console.log(`warm-up: ${warmupCalls} sequential calls in ${o.warmup} s`);
    const times = mix.map(() => [] as number[]);
    let wrong = 0;
    const until = performance.now() + o.seconds * 1000;
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: o.clients }, async (_, client) => {
        for (let n = client; performance.now() < until; n++) {
          const i = n % mix.length;
          const t = performance.now();
          const r = await post(bodies[i]!, shopper);
          times[i]!.push(performance.now() - t);
          if (r.errors?.length || r.data?.search?.totalCount !== totals.get(i)) wrong++;
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    const all = times.flat().sort((a, b) => a - b);
    console.log('| query | total | calls | p50 ms | p95 ms | p99 ms |');
    console.log('|---|---|---|---|---|---|');
    for (const [i, q] of mix.entries()) {
      const t = times[i]!.sort((a, b) => a - b);
      console.log(`| ${q.name} | ${totals.get(i)} | ${t.length} | ${percentile(t, 50).toFixed(1)} | ${percentile(t, 95).toFixed(1)} | ${percentile(t, 99).toFixed(1)} |`);
    }
    console.log(
      `| **mix** | | ${all.length} (${(all.length / o.seconds).toFixed(0)}/s) | ${percentile(all, 50).toFixed(1)} | **${percentile(all, 95).toFixed(1)}** | ${percentile(all, 99).toFixed(1)} |`,
    );
    console.log(`wrong answers ${wrong}; rss ${mb()} MB; CPU of the process per call ${((used.user + used.system) / 1000 / all.length).toFixed(1)} ms; load average ${load()}`);
    const debug = (await (await fetch(`${url.origin}/debug/subscriptions`)).json().catch(() => ({}))) as { storefrontCache?: { hits: number; misses: number } };
    if (debug.storefrontCache) console.log(`gateway storefront cache: ${debug.storefrontCache.hits} hits, ${debug.storefrontCache.misses} misses`);

    // Propagation: a price or stock change on a sku, until the storefront's search shows it.
    if (o.changes > 0) {
      const skus: string[] = [];
      for (let i = 0; i < o.changes; i++) {
        const sku = `PROP-${i}`;
        await gql('mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }', { i: { title: `Propagation ${i} zebrafinch`, variants: [{ sku, title: sku }] } }, admin);
        skus.push(sku);
      }
      const known = async (query: string, variables: Record<string, unknown>) => {
        for (let attempt = 0; ; attempt++) {
          const r = await post(JSON.stringify({ query, variables }), admin);
          if (!r.errors?.length) return;
          if (attempt > 200) throw new Error(JSON.stringify(r.errors));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      const poll = async (variables: Record<string, unknown>, done: (total: number) => boolean) => {
        const body = JSON.stringify({ query: SEARCH, variables });
        for (;;) {
          const r = await post(body, shopper);
          if (r.errors?.length) throw new Error(JSON.stringify(r.errors));
          if (done(r.data.search.totalCount)) return;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      const SET_PRICE = 'mutation ($i: SetPriceInput!) { setPrice(input: $i) { version } }';
      const RECEIVE = 'mutation ($i: ReceiveStockInput!) { receiveStock(input: $i) { available } }';
      // Each sku gets a first price (the sku must be known to pricing: its events arrive first).
      for (const sku of skus) await known(SET_PRICE, { i: { sku, storeId, amount: '900.00', currencyCode: 'EUR' } });
      const price: number[] = [];
      const stock: number[] = [];
      // When the mutation's answer came back: the rest of a change's time is the search that shows it.
      const priceAnswered: number[] = [];
      const stockAnswered: number[] = [];
      for (const [i, sku] of skus.entries()) {
        const amount = (901 + i).toFixed(2);
        const filter = { price: { min: amount, max: amount } };
        await poll({ q: 'zebrafinch', store: storeId, filter }, (n) => n === 0);
        const t = performance.now();
        await gql(SET_PRICE, { i: { sku, storeId, amount, currencyCode: 'EUR' } }, admin);
        priceAnswered.push(performance.now() - t);
        await poll({ q: 'zebrafinch', store: storeId, filter }, (n) => n === 1);
        price.push(performance.now() - t);
      }
      for (const [i, sku] of skus.entries()) {
        const filter = { inStock: true };
        const t = performance.now();
        await known(RECEIVE, { i: { sku, storeId, quantity: 1 } });
        stockAnswered.push(performance.now() - t);
        await poll({ q: 'zebrafinch', store: storeId, filter }, (n) => n === i + 1);
        stock.push(performance.now() - t);
      }
      console.log(`\npropagation through the gateway (mutation sent → storefront search shows it), ${o.changes} changes each, load average ${load()}`);
      console.log('| change | p50 ms | p95 ms | max ms | mutation answered p50 / p95 ms |');
      console.log('|---|---|---|---|---|');
      for (const [name, t, answered] of [['setPrice → price filter', price, priceAnswered], ['receiveStock → inStock', stock, stockAnswered]] as const) {
        t.sort((a, b) => a - b);
        answered.sort((a, b) => a - b);
        console.log(`| ${name} | ${percentile(t, 50).toFixed(0)} | ${percentile(t, 95).toFixed(0)} | ${t.at(-1)!.toFixed(0)} | ${percentile(answered, 50).toFixed(0)} / ${percentile(answered, 95).toFixed(0)} |`);
      }
    }
  } finally {
    agent.destroy();
    await system.stop();
    await cleanUpBench(`_bench${process.pid}`);
  }
}
