/**
 * `npm run bench:search [-- --products 10000] [--runs 30]`: catalog search at growing catalog
 * sizes (1k, 10k, up to --products), on the embedded default (PGlite, in this process, as
 * `npm start` runs it) or the PostgreSQL DATABASE_URL names. Products are generated straight into
 * a scratch catalog schema (INSERT … SELECT generate_series, through the same triggers as every
 * writer), its statistics brought up to date as the feed worker does, then the service's search
 * runs --runs times per query: a rare word (3 per 10,000), a 1 % word, and a prefix of a 10 % word.
 * Prints p50/p95, the plan's access path, and the event loop's delay p99 while searching.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { inTenantTransaction } from '../lib/db/data-source.js';
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { analyzeAfterBulkWrite } from '../lib/db/table-statistics.js';
import { openCatalogDatabase } from '../subgraphs/catalog/src/data/database.js';
import { CatalogService, searchPatterns } from '../subgraphs/catalog/src/services/catalog.service.js';

const QUERIES = [
  { name: 'rare word', query: 'quokka' },
  { name: '1% word', query: 'amber' },
  { name: 'prefix (10%)', query: 'velv' },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { products: { type: 'string', default: '10000' }, runs: { type: 'string', default: '30' } } });
  const max = Number(values.products);
  const runs = Number(values.runs);
  const sizes = [...new Set([1_000, 10_000, max].filter((n) => n <= max))].sort((a, b) => a - b);
  const embedded = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres();
  const schema = `catalog_bench${process.pid}`;
  const dataSource = await openCatalogDatabase(process.env.DATABASE_URL ?? embedded!.url, schema);
  const tenantId = randomUUID();
  const service = new CatalogService(dataSource, async () => undefined);
  const ctx = { tenantId, roles: ['storefront' as const], requestId: 'bench' };
  console.log(`catalog search on ${embedded ? 'embedded PGlite (in this process)' : 'PostgreSQL'}, ${runs} runs per query`);
  console.log('| products | query | found (page) | p50 ms | p95 ms | plan | event loop p99 ms |');
  console.log('|---|---|---|---|---|---|---|');
  try {
    let loaded = 0;
    for (const size of sizes) {
      const started = performance.now();
      for (let from = loaded + 1; from <= size; from += 10_000) {
        const to = Math.min(size, from + 9_999);
        await inTenantTransaction(dataSource, tenantId, async (m) => {
          // Words: "amber" in 1 %, "velvet" in 10 %, "quokka" in 3 products of every 10,000.
          await m.query(
            `INSERT INTO "${schema}".product (id, tenant_id, title, brand, description, external_ref)
             SELECT gen_random_uuid(), $1,
                    'Product ' || i || CASE WHEN i % 100 = 7 THEN ' amber' ELSE '' END || CASE WHEN i % 10 = 3 THEN ' velvet' ELSE '' END
                      || CASE WHEN i IN ($4::int, $4::int + 1, $4::int + 2) THEN ' quokka' ELSE '' END,
                    'Brand ' || (i % 200), 'generated product number ' || i || ' for the search bench', 'bench:' || i
               FROM generate_series($2::int, $3::int) AS i`,
            [tenantId, from, to, Math.floor((from + to) / 2)],
          );
          await m.query(
            `INSERT INTO "${schema}".variant (tenant_id, sku, product_id, title, position)
             SELECT tenant_id, 'BENCH-' || substr(external_ref, 7), id, 'Default', 0 FROM "${schema}".product
              WHERE tenant_id = $1 AND external_ref = ANY(SELECT 'bench:' || g FROM generate_series($2::int, $3::int) AS g)`,
            [tenantId, from, to],
          );
        });
      }
      await analyzeAfterBulkWrite(dataSource, ['product', 'variant', 'product_search_entry'], size - loaded);
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
          `| ${size.toLocaleString('en')} | ${name} \`${query}\` | ${found} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${plan} | ${(lag.percentile(99) / 1e6).toFixed(1)} |`,
        );
      }
      console.error(`  (${size.toLocaleString('en')} products loaded in ${loadSeconds} s)`);
    }
  } finally {
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    await dataSource.destroy();
    await embedded?.stop();
  }
}

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
