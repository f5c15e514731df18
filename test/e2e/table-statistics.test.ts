import { Client } from 'pg';
import { createShop, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const IMPORT = 'mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }';
const PROGRESS = 'query ($id: ID!) { feedImport(id: $id) { status imported } }';
const ROWS = 400;

type TableStats = { relname: string; last_analyze: Date | null; n_mod_since_analyze: string; reltuples: number; rows: string };

/**
 * pg_stat_user_tables with what the planner believes (reltuples) and the truth (count), for some
 * tables of a schema. In a transaction (PGlite's one session), counting every tenant's rows as the
 * platform does (the tables are under forced row-level security).
 */
async function statsOf(owner: Client, schema: string, tables: string[]): Promise<TableStats[]> {
  await owner.query('BEGIN');
  await owner.query(`SET LOCAL app.system = 'on'`);
  const out: TableStats[] = [];
  for (const table of tables) {
    const { rows } = await owner.query(
      `SELECT s.relname, s.last_analyze, s.n_mod_since_analyze::text, c.reltuples::float8 AS reltuples, (SELECT count(*) FROM "${schema}"."${table}")::text AS rows
         FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.schemaname = $1 AND s.relname = $2`,
      [schema, table],
    );
    out.push(rows[0]);
  }
  await owner.query('COMMIT');
  return out;
}

describe('planner statistics after a bulk load', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let owner: Client;
  let suffix: string;

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { feeds: { batchSize: 100, pollMs: 50 } } });
    suffix = system.redisStream.replace('test:events', '');
    shop = await createShop(system);
    owner = new Client({ connectionString: process.env.DATABASE_URL });
    await owner.connect();
  }, 180_000);
  afterAll(async () => {
    await owner?.end();
    await system?.stop();
  }, 180_000);

  it('ANALYZEs the catalog tables a feed grew before it says COMPLETED, and pricing and inventory after applying it', async () => {
    const lines = Array.from({ length: ROWS }, (_, i) => `h${i},Bulk Product ${i},BULK-${i},One,Bulkco,${(i % 90) + 1}.50,EUR,S1,${i % 7}`);
    const csv = ['handle,title,sku,variant_title,brand,price,currency,store,stock', ...lines].join('\n');
    // The catalog learns the shop's stores from events; until then S1 is an unknown store.
    const feed = await eventually(async () => {
      const { importCatalogFeed } = await system.ok(IMPORT, { csv }, shop.headers);
      const done = await eventually(async () => {
        const { feedImport } = await system.ok(PROGRESS, { id: importCatalogFeed.id }, shop.headers);
        if (feedImport.status !== 'COMPLETED') throw new Error(`still ${feedImport.status}`);
        return feedImport;
      }, 60_000);
      if (done.imported !== ROWS) throw new Error(`imported ${done.imported}`);
      return done;
    }, 30_000);
    expect(feed).toEqual({ status: 'COMPLETED', imported: ROWS });

    // At COMPLETED, at once: the planner knows the catalog's size.
    for (const t of await statsOf(owner, `catalog${suffix}`, ['product', 'variant', 'product_search_entry'])) {
      expect(Number(t.rows)).toBeGreaterThanOrEqual(ROWS);
      expect({ table: t.relname, analyzed: t.last_analyze !== null, plannerKnowsRows: t.reltuples >= Number(t.rows) * 0.9 }).toEqual({
        table: t.relname,
        analyzed: true,
        plannerKnowsRows: true,
      });
    }
    // The prices and stock arrive as events; their tables are analyzed once they grew (by the
    // services on PGlite, which runs no autovacuum; on PostgreSQL autovacuum may come first).
    for (const [schema, table] of [[`pricing${suffix}`, 'price'], [`inventory${suffix}`, 'stock_level']] as const) {
      await eventually(async () => {
        const [t] = await statsOf(owner, schema, [table]);
        if (Number(t!.rows) < ROWS) throw new Error(`${table}: ${t!.rows} rows so far`);
        if (t!.reltuples < Number(t!.rows) * 0.9) throw new Error(`${table} not analyzed: ${JSON.stringify(t)}`);
      }, 30_000);
    }
  }, 180_000);
});
