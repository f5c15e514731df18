/**
 * `npm run bench:search [-- --products 10000] [--clients 10] [--seconds 20] [--changes 20] [--warmup 10]`: the
 * storefront's mixed searches through the gateway (after --warmup seconds of sequential calls) and the propagation of price and stock to
 * them (bench/search-gateway.ts).
 *
 * `npm run bench:search -- --direct [--products 10000] [--runs 30]`: catalog search at growing catalog
 * sizes (1k, 10k, up to --products), on the embedded default (PGlite, in this process, as
 * `npm start` runs it) or the PostgreSQL DATABASE_URL names. Products are generated straight into
 * a scratch catalog schema (INSERT … SELECT generate_series, through the same triggers as every
 * writer, the search rows built once per chunk as a feed batch builds them), its statistics brought up to date as the feed worker does, then the service's search
 * runs --runs times per query: a rare word (3 per 10,000), a 1 % word, and a prefix of a 10 % word.
 * Prints p50/p95, the plan's access path, and the event loop's delay p99 while searching.
 *
 * Then the storefront `search` (issue 15) at each size: the same products in a 30-category tree
 * (6 roots) with prices and availability in one store (written into the read model in bulk, as
 * its event appliers would), mixed queries with filters, sorts and facets run by --clients
 * concurrent callers (default 10), p50/p95/max per query and over the mix, the process's memory,
 * and the EXPLAIN ANALYZE of the search statement (which indexes it used, and its time).
 *
 * Every figure is printed with the load average at the time (the machine may be shared), and the
 * storefront rows with the bench process's CPU per call (all of it on the embedded default, the
 * Node side only on PostgreSQL). `--keep` leaves the scratch schema in place (its name printed) to
 * EXPLAIN ANALYZE by hand; drop it with `DROP SCHEMA … CASCADE` afterwards.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { inTenantTransaction } from '../lib/db/data-source.js';
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { analyzeAfterBulkWrite } from '../lib/db/table-statistics.js';
import { openCatalogDatabase } from '../subgraphs/catalog/src/data/database.js';
import { CatalogService, searchPatterns } from '../subgraphs/catalog/src/services/catalog.service.js';
import { SearchService, type SearchArgs } from '../subgraphs/catalog/src/services/search.service.js';
import { gatewayBench } from './search-gateway.js';
import { insertBenchCategories, insertBenchProducts } from './search-catalog.js';
import { benchArgs } from './args.js';

const QUERIES = [
  { name: 'rare word', query: 'quokka' },
  { name: '1% word', query: 'amber' },
  { name: 'prefix (10%)', query: 'velv' },
];

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: {
      products: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '30' },
      clients: { type: 'string', default: '10' },
      keep: { type: 'boolean', default: false },
      direct: { type: 'boolean', default: false },
      seconds: { type: 'string', default: '20' },
      changes: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
    },
  });
  if (!values.direct) {
    await gatewayBench({ products: Number(values.products), clients: Number(values.clients), seconds: Number(values.seconds), changes: Number(values.changes), warmup: Number(values.warmup) });
    return;
  }
  const clients = Number(values.clients);
  const max = Number(values.products);
  const runs = Number(values.runs);
  const sizes = [...new Set([1_000, 10_000, max].filter((n) => n <= max))].sort((a, b) => a - b);
  // Loading 10,000 products per statement (and their search rows) may outlast a request's bound on a busy machine.
  process.env.DB_STATEMENT_TIMEOUT_MS ??= '0';
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const schema = `catalog_bench${process.pid}`;
  const dataSource = await openCatalogDatabase(process.env.DATABASE_URL ?? embedded!.url, schema);
  const tenantId = randomUUID();
  const service = new CatalogService(dataSource, async () => undefined);
  const storefront = new SearchService(dataSource, async () => undefined);
  const storeId = randomUUID();
  const storefrontRows: string[] = [];
  const plans: string[] = [];
  await inTenantTransaction(dataSource, tenantId, (m) => insertBenchCategories(m, schema, tenantId));
  const ctx = { tenantId, roles: ['storefront' as const], requestId: 'bench' };
  console.log(`catalog search on ${embedded ? 'embedded PGlite (in this process)' : 'PostgreSQL'}, ${runs} runs per query`);
  console.log('| products | query | found (page) | p50 ms | p95 ms | plan | event loop p99 ms | load average |');
  console.log('|---|---|---|---|---|---|---|---|');
  try {
    let loaded = 0;
    for (const size of sizes) {
      const started = performance.now();
      for (let from = loaded + 1; from <= size; from += 10_000) {
        const to = Math.min(size, from + 9_999);
        await inTenantTransaction(dataSource, tenantId, (m) => insertBenchProducts(m, schema, tenantId, storeId, from, to));
      }
      await analyzeAfterBulkWrite(dataSource, ['product', 'variant', 'product_search_entry', 'search_offer', 'search_term'], size - loaded);
      const loadSeconds = ((performance.now() - started) / 1000).toFixed(1);
      loaded = size;
      for (const { name, query } of QUERIES) {
        for (let i = 0; i < 3; i++) await service.products(ctx, { query, first: 20 });
        const lag = monitorEventLoopDelay({ resolution: 10 });
        lag.enable();
        const times: number[] = [];
        let found = 0;
        for (let i = 0; i < runs; i++) {
          const t = performance.now();
          found = (await service.products(ctx, { query, first: 20 })).edges.length;
          times.push(performance.now() - t);
          await new Promise((resolve) => setImmediate(resolve));
        }
        lag.disable();
        times.sort((a, b) => a - b);
        const plan = await planOf(dataSource, schema, tenantId, query);
        console.log(
          `| ${size.toLocaleString('en')} | ${name} \`${query}\` | ${found} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${plan} | ${(lag.percentile(99) / 1e6).toFixed(1)} | ${load()} |`,
        );
      }
      console.error(`  (${size.toLocaleString('en')} products loaded in ${loadSeconds} s)`);
      storefrontRows.push(...(await storefrontSearch(dataSource, storefront, { tenantId, storeId, schema, size, runs, clients, plans })));
    }
    console.log(`\nstorefront search(…) on the same catalog, ${clients} concurrent callers, ${runs * clients} calls per query (load average ${load()} on ${cpus().length} cores)`);
    console.log('| products | query | total | p50 ms | p95 ms | max ms | CPU ms per call | rss MB | load average |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const row of storefrontRows) console.log(row);
    console.log(`\nEXPLAIN ANALYZE of the search statement at ${max.toLocaleString('en')} products:`);
    for (const plan of plans) console.log(plan);
  } finally {
    if (values.keep) console.log(`\nkept: schema ${schema}, tenant ${tenantId}, store ${storeId}`);
    else {
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    }
    await dataSource.destroy();
    await embedded?.stop();
  }
}

/** The storefront's mix: text with facets, a typo, a prefix with a brand filter, browsing a department in stock by price, everything newest first. */
const STOREFRONT_QUERIES: { name: string; args: SearchArgs }[] = [
  { name: '1% word, facets', args: { query: 'amber' } },
  { name: 'typo `velvett`', args: { query: 'velvett', first: 20 } },
  { name: 'prefix + brand + PRICE_ASC', args: { query: 'velv', filter: { brands: ['Brand 3', 'Brand 13'] }, sort: 'PRICE_ASC' } },
  { name: 'department, in stock, 10-50, PRICE_ASC', args: { filter: { inStock: true, price: { min: '10', max: '50' } }, sort: 'PRICE_ASC' } },
  { name: 'browse all NEWEST', args: { sort: 'NEWEST' } },
  { name: 'word in every product, RELEVANCE', args: { query: 'generated bench' } },
];

async function storefrontSearch(
  dataSource: Awaited<ReturnType<typeof openCatalogDatabase>>,
  search: SearchService,
  o: { tenantId: string; storeId: string; schema: string; size: number; runs: number; clients: number; plans: string[] },
): Promise<string[]> {
  const ctx = { tenantId: o.tenantId, roles: ['storefront' as const], requestId: 'bench' };
  const [{ id: department }] = await inTenantTransaction(dataSource, o.tenantId, (m) =>
    m.query(`SELECT id FROM "${o.schema}".category WHERE tenant_id = $1 AND name = 'Department 2'`, [o.tenantId]),
  );
  const rows: string[] = [];
  const all: number[] = [];
  const mix = STOREFRONT_QUERIES.map(({ name, args }) => ({
    name,
    args: { ...args, storeId: o.storeId, filter: name.startsWith('department') ? { ...args.filter, categoryIds: [department] } : args.filter } as SearchArgs,
  }));
  for (const { name, args: full } of mix) {
    for (let i = 0; i < 3; i++) await search.search(ctx, full);
    const times: number[] = [];
    let total = 0;
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: o.clients }, async () => {
        for (let i = 0; i < o.runs; i++) {
          const t = performance.now();
          total = (await search.search(ctx, full)).totalCount;
          times.push(performance.now() - t);
        }
      }),
    );
    const used = process.cpuUsage(cpu);
    const cpuPerCall = ((used.user + used.system) / 1000 / times.length).toFixed(1);
    times.sort((a, b) => a - b);
    all.push(...times);
    const rss = (process.memoryUsage().rss / 2 ** 20).toFixed(0);
    rows.push(
      `| ${o.size.toLocaleString('en')} | ${name} | ${total} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${times.at(-1)!.toFixed(1)} | ${cpuPerCall} | ${rss} | ${load()} |`,
    );
  }
  all.sort((a, b) => a - b);
  rows.push(`| ${o.size.toLocaleString('en')} | **mix** | | ${percentile(all, 50).toFixed(1)} | **${percentile(all, 95).toFixed(1)}** | ${all.at(-1)!.toFixed(1)} | | | ${load()} |`);
  // The plans of the largest catalog are the ones printed.
  o.plans.length = 0;
  for (const { name, args } of mix) o.plans.push(`- ${name}: ${await explainSearch(dataSource, o, args)}`);
  return rows;
}

/** EXPLAIN ANALYZE of the statement storefront_search runs (as its owner): the indexes it used and its execution time. */
async function explainSearch(
  dataSource: Awaited<ReturnType<typeof openCatalogDatabase>>,
  o: { tenantId: string; storeId: string; schema: string },
  args: SearchArgs,
): Promise<string> {
  return inTenantTransaction(dataSource, o.tenantId, async (m) => {
    await m.query('RESET ROLE');
    const sort = args.sort ?? (args.query ? 'RELEVANCE' : 'NEWEST');
    const [{ sql }] = await m.query(`SELECT "${o.schema}".storefront_search_sql($1) AS sql`, [sort]);
    const [{ tsq }] = await m.query(`SELECT "${o.schema}".storefront_search_query($1)::text AS tsq`, [args.query ?? null]);
    const f = args.filter ?? {};
    const rows: { 'QUERY PLAN': string }[] = await m.query(
      // $11 (the sort) is passed to the statement but not read by it: a type for it all the same.
      `EXPLAIN (ANALYZE, COSTS OFF) SELECT * FROM (${sql.replace(/\$(\d+)/g, (_: string, n: string) => `$${n}::${PARAM_TYPES[Number(n) - 1]}`)}) AS q WHERE $11::text IS NOT NULL`,
      [o.tenantId, tsq, o.storeId, f.brands ?? null, f.categoryIds ?? null, f.price?.min ?? null, f.price?.max ?? null, f.inStock ?? null, null, null, sort, 21, false, null, false],
    );
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    const indexes = [...new Set([...text.matchAll(/(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:Backward )?(?:using |on )(\w+)/g)].map((x) => x[1]))];
    const seq = /Seq Scan on product_search_entry/.test(text) ? ', Seq Scan on product_search_entry' : '';
    return `indexes ${indexes.join(', ') || 'none'}${seq}; ${text.match(/Execution Time: [\d.]+ ms/)?.[0] ?? ''}`;
  });
}

const PARAM_TYPES = ['uuid', 'tsquery', 'uuid', 'text[]', 'uuid[]', 'numeric', 'numeric', 'boolean', 'text', 'bigint', 'text', 'int', 'boolean', 'jsonb', 'boolean'];

/** The access path of the statement search_product_page runs for `query` (the owner's view, as the function runs). */
async function planOf(dataSource: Awaited<ReturnType<typeof openCatalogDatabase>>, schema: string, tenantId: string, query: string): Promise<string> {
  return inTenantTransaction(dataSource, tenantId, async (m) => {
    await m.query('RESET ROLE');
    const [{ text }] = await m.query(`SELECT "${schema}".search_product_sql($1, $2, NULL, 21, false) AS text`, [tenantId, searchPatterns(query)]);
    const rows: { 'QUERY PLAN': string }[] = await m.query(`EXPLAIN ${text}`);
    const nodes = rows.map((r) => r['QUERY PLAN']).join('\n');
    const index = nodes.match(/(Bitmap Index Scan|Index Scan|Index Only Scan) (?:Backward )?(?:using |on )(\w+)/);
    return index ? `${index[1]} ${index[2]}` : nodes.includes('Seq Scan') ? 'Seq Scan' : nodes.split('\n')[0]!.trim();
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
