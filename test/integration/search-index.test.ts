import { randomUUID } from 'node:crypto';
import { inTenantTransaction } from '../../lib/db/data-source.js';
import { openCatalogDatabase } from '../../subgraphs/catalog/src/data/database.js';
import { SearchService, type SearchArgs, type SearchResult } from '../../subgraphs/catalog/src/services/search.service.js';
import { insertBenchCategories, insertBenchProducts } from '../../bench/search-catalog.js';
import { useServiceSchema } from '../support/service-schema.js';

/**
 * The in-memory search index (decision 0049) answers exactly what the search function answers:
 * the same totals, pages (through their cursors), and facet counts, for searches with words,
 * filters on every facet, attribute filters and every sort; after writes of every kind the index
 * reads incrementally; and one tenant's index never answers for another.
 */
describe('search index', () => {
  const catalog = useServiceSchema('catalog_si', openCatalogDatabase);
  const tenant = randomUUID();
  const other = randomUUID();
  const store = randomUUID();
  const admin = { tenantId: tenant, roles: ['admin' as const], requestId: 'search-index-test' };
  const shopper = { tenantId: tenant, roles: [] as never[], requestId: 'search-index-test' };
  let sqlPath: SearchService;
  let indexed: SearchService;
  let department = '';
  let aisle = '';
  const sql = (tenantId: string, text: string, values: unknown[] = []) => inTenantTransaction(catalog.dataSource(), tenantId, (m) => m.query(text, values));
  const saved = { index: process.env.SEARCH_INDEX_MAX_PRODUCTS, cache: process.env.SEARCH_CACHE_MAX_BYTES };

  beforeAll(async () => {
    const s = catalog.schema;
    process.env.SEARCH_CACHE_MAX_BYTES = '0';
    process.env.SEARCH_INDEX_MAX_PRODUCTS = '0';
    sqlPath = new SearchService(catalog.dataSource(), async () => undefined);
    process.env.SEARCH_INDEX_MAX_PRODUCTS = '100000';
    indexed = new SearchService(catalog.dataSource(), async () => undefined);
    process.env.SEARCH_INDEX_MAX_PRODUCTS = saved.index;
    process.env.SEARCH_CACHE_MAX_BYTES = saved.cache;
    if (saved.index === undefined) delete process.env.SEARCH_INDEX_MAX_PRODUCTS;
    if (saved.cache === undefined) delete process.env.SEARCH_CACHE_MAX_BYTES;
    // The first tenant's words are stemmed in English (its documents carry the stems), and it has synonyms, one a phrase.
    await sql(tenant, `INSERT INTO "${s}".search_language (tenant_id, config) VALUES ($1, 'english')`, [tenant]);
    await sql(
      tenant,
      `INSERT INTO "${s}".search_synonym (tenant_id, term, synonym) VALUES ($1, 'sofa', 'product number'), ($1, 'couch', 'velvet'), ($1, 'velvet', 'couch')`,
      [tenant],
    );
    for (const t of [tenant, other]) {
      await inTenantTransaction(catalog.dataSource(), t, async (m) => {
        await m.query(`SET LOCAL statement_timeout = 0`);
        await insertBenchCategories(m, s, t);
        await insertBenchProducts(m, s, t, store, 1, t === tenant ? 1_000 : 300);
      });
    }
    // Attributes on a share of the products (a number and a text), and drafts and archived ones.
    await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      await m.query(`INSERT INTO "${s}".attribute_definition (tenant_id, name, label, kind) VALUES ($1, 'weight', 'Weight', 'NUMBER'), ($1, 'roast', 'Roast', 'TEXT')`, [tenant]);
      await m.query(
        `INSERT INTO "${s}".product_attribute (tenant_id, product_id, name, value_text, value_number)
         SELECT tenant_id, id, 'weight', ((seq % 7) * 250)::text, (seq % 7) * 250 FROM "${s}".product WHERE tenant_id = $1 AND seq % 3 <> 0
         UNION ALL
         SELECT tenant_id, id, 'roast', (ARRAY['light', 'medium', 'dark'])[1 + seq % 3], NULL FROM "${s}".product WHERE tenant_id = $1 AND seq % 5 <> 0`,
        [tenant],
      );
      await m.query(`UPDATE "${s}".product SET published = false WHERE tenant_id = $1 AND seq % 11 = 0`, [tenant]);
      await m.query(`UPDATE "${s}".product SET archived_at = now() WHERE tenant_id = $1 AND seq % 13 = 0`, [tenant]);
      await m.query(`UPDATE "${s}".product SET brand = NULL WHERE tenant_id = $1 AND seq % 17 = 0`, [tenant]);
      await m.query(`UPDATE "${s}".product SET title = title || ' Café Crème' WHERE tenant_id = $1 AND seq % 37 = 0`, [tenant]);
      await m.query(`SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product WHERE tenant_id = $1))`, [tenant]);
    });
    [{ id: department }] = await sql(tenant, `SELECT id FROM "${s}".category WHERE tenant_id = $1 AND name = 'Department 2'`, [tenant]);
    [{ id: aisle }] = await sql(tenant, `SELECT id FROM "${s}".category WHERE tenant_id = $1 AND name = 'Aisle 3-1'`, [tenant]);
  });

  const searches = (): SearchArgs[] => [
    { sort: 'NEWEST' },
    { sort: 'NEWEST', storeId: store },
    { query: 'amber', storeId: store },
    { query: 'velvett', first: 20, storeId: store },
    { query: 'velv', filter: { brands: ['Brand 3', 'Brand 13', 'no such brand'] }, sort: 'PRICE_ASC', storeId: store },
    { filter: { categoryIds: [department], inStock: true, price: { min: '10', max: '50' } }, sort: 'PRICE_ASC', storeId: store },
    { filter: { categoryIds: [aisle, department] }, sort: 'PRICE_DESC', storeId: store },
    { query: 'generated bench', storeId: store },
    { query: 'generated', sort: 'TITLE', first: 7 },
    { filter: { attributes: [{ name: 'weight', min: 250, max: 1000 }] }, storeId: store, sort: 'PRICE_DESC' },
    { filter: { attributes: [{ name: 'weight', values: ['500', '750.0'] }, { name: 'roast', values: ['dark'] }], brands: ['Brand 7', 'Brand 8'] }, sort: 'TITLE' },
    { query: 'product', filter: { attributes: [{ name: 'roast', values: ['light', 'medium'] }], inStock: false, price: { min: '100' } }, storeId: store },
    { filter: { brands: [] }, sort: 'NEWEST' },
    { query: 'quokka zzzzqqq' },
    // Sorted by relevance, the rank computed in memory (decision 0053): one word and several, a prefix,
    // a typo, stems, synonyms (one a phrase), accents, a word matching nothing, a prefix of many lexemes.
    { query: 'amber' },
    { query: 'velvet', first: 30 },
    { query: 'amber generated product', storeId: store },
    { query: 'velv', first: 40 },
    { query: 'velvett bench' },
    { query: 'generating products', first: 50 },
    { query: 'sofa', first: 60 },
    { query: 'couch bench' },
    { query: 'cafe creme' },
    { query: 'crème', storeId: store },
    { query: 'zzzzqqq' },
    { query: 'p', first: 25 },
    { query: '1', first: 25 },
  ];

  /** Every page of a search (through its cursors, at most 5), from one service. */
  async function pages(service: SearchService, ctx: typeof admin | typeof shopper, args: SearchArgs): Promise<SearchResult[]> {
    const out: SearchResult[] = [];
    let after: string | null = null;
    for (let n = 0; n < 5; n++) {
      const r: SearchResult = await service.search(ctx, { ...args, after });
      out.push(r);
      if (!r.pageInfo.hasNextPage) break;
      after = r.pageInfo.endCursor;
    }
    return out;
  }
  const shape = (results: SearchResult[]) =>
    results.map((r) => ({
      total: r.totalCount,
      ids: r.edges.map((e) => e.node.id),
      cursors: r.edges.map((e) => e.cursor),
      next: r.pageInfo.hasNextPage,
      facets: r.facets.map((f) => ({ name: f.name, values: f.values.map((v) => `${v.value}=${v.count}`) })),
    }));

  async function expectSameAnswers(label: string) {
    for (const ctx of [admin, shopper]) {
      expect(await indexed.index.ready(tenant, store)).toBe(true);
      for (const args of searches()) {
        const before = indexed.index.stats.fallbacks;
        const wordsBefore = indexed.index.stats.wordFallbacks;
        const fromIndex = shape(await pages(indexed, ctx, args));
        expect({ label, args, fallbacks: indexed.index.stats.fallbacks - before, wordFallbacks: indexed.index.stats.wordFallbacks - wordsBefore }).toEqual({ label, args, fallbacks: 0, wordFallbacks: 0 });
        expect({ label, args, answer: fromIndex }).toEqual({ label, args, answer: shape(await pages(sqlPath, ctx, args)) });
        // The searches with words find something (but the one for a word nowhere), so the ranks compared are real ones.
        if (args.query && !args.filter && !args.query.includes('zzzz')) expect({ args, found: fromIndex[0]!.total > 0 }).toEqual({ args, found: true });
      }
    }
  }

  it('answers every search, page and facet as the search function does', async () => {
    // The shapes the relevance searches rely on: a word as a prefix and its stem with the same text, a multi-word synonym as a phrase.
    const [{ q }] = await sql(tenant, `SELECT "${catalog.schema}".storefront_search_tsquery('velvet sofa') AS q`);
    expect(q).toContain(`'velvet':* | 'velvet'`);
    expect(q).toContain(`'product' <-> 'number'`);
    await expectSameAnswers('built');
    expect(indexed.index.stats.builds).toBe(1);
  }, 300_000);

  it('reads only what changed, and shows every kind of write in the next search', async () => {
    const s = catalog.schema;
    const { builds, rowsApplied } = indexed.index.stats;
    await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      // Prices and stock as the offers' appliers write them; a product archived, one restored, one published; a brand and a category changed; attributes rewritten; a new product.
      await m.query(`UPDATE "${s}".search_offer SET price = 42.5, in_stock = NOT in_stock WHERE tenant_id = $1 AND product_id IN (SELECT id FROM "${s}".product WHERE tenant_id = $1 AND seq % 50 = 1)`, [tenant]);
      await m.query(`UPDATE "${s}".product SET archived_at = now() WHERE tenant_id = $1 AND seq % 97 = 5`, [tenant]);
      await m.query(`UPDATE "${s}".product SET archived_at = NULL, published = true, brand = 'Brand 3', category_id = $2, title = 'Velvet amber sofa ' || seq WHERE tenant_id = $1 AND seq % 89 = 0`, [tenant, aisle]);
      await m.query(`DELETE FROM "${s}".product_attribute WHERE tenant_id = $1 AND product_id IN (SELECT id FROM "${s}".product WHERE tenant_id = $1 AND seq % 31 = 2)`, [tenant]);
      await m.query(
        `INSERT INTO "${s}".product_attribute (tenant_id, product_id, name, value_text) SELECT tenant_id, id, 'roast', 'dark' FROM "${s}".product WHERE tenant_id = $1 AND seq % 31 = 2`,
        [tenant],
      );
      await m.query(
        `SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product WHERE tenant_id = $1 AND (seq % 97 = 5 OR seq % 89 = 0 OR seq % 31 = 2)))`,
        [tenant],
      );
    });
    await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      await insertBenchProducts(m, s, tenant, store, 1_001, 1_020);
    });
    await expectSameAnswers('after writes');
    expect(indexed.index.stats.builds).toBe(builds);
    // Caught up from the rows written since (how many depends on the transactions running elsewhere on the database), not rebuilt.
    expect(indexed.index.stats.rowsApplied - rowsApplied).toBeGreaterThan(0);
  }, 300_000);

  it('keeps the offers of products it has not read yet when it builds a store', async () => {
    // A store's offers built while the tenant's rows lag (products imported since the last search):
    // the offers of products the index does not know yet must not be lost when their rows arrive.
    const s = catalog.schema;
    const second = randomUUID();
    await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      await m.query(`INSERT INTO "${s}".search_offer (tenant_id, store_id, product_id, price, in_stock) SELECT tenant_id, $2, product_id, price, in_stock FROM "${s}".search_offer WHERE tenant_id = $1 AND store_id = $3`, [tenant, second, store]);
      await insertBenchProducts(m, s, tenant, second, 1_021, 1_060);
    });
    expect(await indexed.index.ready(tenant, second)).toBe(true);
    for (const args of [{ filter: { inStock: true }, storeId: second }, { filter: { price: { min: '0' } }, sort: 'PRICE_DESC' as const, storeId: second }, { query: 'generated', filter: { inStock: false }, storeId: second }]) {
      expect({ args, answer: shape(await pages(indexed, admin, args)) }).toEqual({ args, answer: shape(await pages(sqlPath, admin, args)) });
    }
  }, 300_000);

  it('keeps tenants apart: another tenant searches its own catalog only', async () => {
    const otherCtx = { ...admin, tenantId: other };
    expect(await indexed.index.ready(other, store)).toBe(true);
    const r = await indexed.search(otherCtx, { sort: 'NEWEST', first: 100 });
    expect(r.totalCount).toBe(300);
    const ours = new Set((await sql(tenant, `SELECT id FROM "${catalog.schema}".product WHERE tenant_id = $1`, [tenant])).map((p: { id: string }) => p.id));
    expect(r.edges.filter((e) => ours.has(e.node.id))).toEqual([]);
    expect(shape(await pages(indexed, otherCtx, { query: 'amber', storeId: store }))).toEqual(shape(await pages(sqlPath, otherCtx, { query: 'amber', storeId: store })));
  });

  it('falls back to the search function for a tenant over the bound', async () => {
    process.env.SEARCH_INDEX_MAX_PRODUCTS = '100';
    const small = new SearchService(catalog.dataSource(), async () => undefined);
    if (saved.index === undefined) delete process.env.SEARCH_INDEX_MAX_PRODUCTS;
    else process.env.SEARCH_INDEX_MAX_PRODUCTS = saved.index;
    expect(await small.index.ready(tenant)).toBe(false);
    expect(small.index.products).toBe(0);
    expect(shape(await pages(small, admin, { query: 'amber', storeId: store }))).toEqual(shape(await pages(sqlPath, admin, { query: 'amber', storeId: store })));
  });
});
