import { randomUUID } from 'node:crypto';
import { inTenantTransaction } from '../../lib/db/data-source.js';
import { openCatalogDatabase } from '../../subgraphs/catalog/src/data/database.js';
import { CatalogService, searchPatterns } from '../../subgraphs/catalog/src/services/catalog.service.js';
import { useServiceSchema } from '../support/service-schema.js';

describe('catalog search', () => {
  const catalog = useServiceSchema('catalog_se', openCatalogDatabase);
  const tenant = randomUUID();
  const ctx = { tenantId: tenant, roles: ['admin' as const], requestId: 'search-test' };
  const service = () => new CatalogService(catalog.dataSource(), async () => undefined);
  const sql = (text: string, values: unknown[] = []) => inTenantTransaction(catalog.dataSource(), tenant, (m) => m.query(text, values));
  const titles = async (query: string) => (await service().products(ctx, { query, first: 50 })).edges.map((e) => e.node.title);
  const coffee = randomUUID();
  const espresso = randomUUID();

  beforeAll(async () => {
    const s = catalog.schema;
    await sql(`INSERT INTO "${s}".category (id, tenant_id, name) VALUES ($1, $2, 'Coffee')`, [coffee, tenant]);
    await sql(`INSERT INTO "${s}".product (id, tenant_id, title, brand, category_id) VALUES ($1, $2, 'Espresso Beans', 'Alpine', $3)`, [espresso, tenant, coffee]);
    await sql(`INSERT INTO "${s}".variant (tenant_id, sku, product_id, title, position) VALUES ($1, 'ESP-1', $2, '250 g', 0), ($1, 'ESP-2', $2, '1 kg', 1)`, [tenant, espresso]);
    await sql(`INSERT INTO "${s}".product (id, tenant_id, title, brand, description) VALUES ($1, $2, 'Filter Roast', 'Cascade', 'bright and fruity')`, [randomUUID(), tenant]);
  });

  it('finds a product by title, brand, description, sku and category name, a word or a prefix of each', async () => {
    expect(await titles('espresso')).toEqual(['Espresso Beans']);
    expect(await titles('ALPINE')).toEqual(['Espresso Beans']);
    expect(await titles('fruity')).toEqual(['Filter Roast']);
    expect(await titles('esp-2')).toEqual(['Espresso Beans']);
    expect(await titles('coffee')).toEqual(['Espresso Beans']);
    expect(await titles('bea espr')).toEqual(['Espresso Beans']);
    expect(await titles('roast alpine')).toEqual([]);
    expect(await titles('100%')).toEqual([]);
  });

  it('keeps the search text current when a variant is added or removed and when a category is renamed', async () => {
    const s = catalog.schema;
    await sql(`INSERT INTO "${s}".variant (tenant_id, sku, product_id, title, position) VALUES ($1, 'RISTRETTO-9', $2, 'tin', 2)`, [tenant, espresso]);
    expect(await titles('ristretto')).toEqual(['Espresso Beans']);
    await sql(`DELETE FROM "${s}".variant WHERE tenant_id = $1 AND sku = 'RISTRETTO-9'`, [tenant]);
    expect(await titles('ristretto')).toEqual([]);
    await sql(`UPDATE "${s}".category SET name = 'Kaffee' WHERE id = $1`, [coffee]);
    expect(await titles('kaffee')).toEqual(['Espresso Beans']);
    expect(await titles('coffee')).toEqual([]);
  });

  it('answers a rare word and a prefix from the trigram index on a catalog where a scan would be slow', async () => {
    const s = catalog.schema;
    // Set-up, not the behaviour under test: 20,000 rows (and their search entries) may take longer
    // than a request's 5 s on a loaded machine, so this one transaction lifts the timeout.
    await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      await m.query(
        `INSERT INTO "${s}".product (id, tenant_id, title, brand, description)
         SELECT gen_random_uuid(), $1, 'Item ' || i || ' tea', 'Brand ' || (i % 50), 'common words for every product ' || i
           FROM generate_series(1, 20000) AS i`,
        [tenant],
      );
    });
    await sql(`INSERT INTO "${s}".product (id, tenant_id, title) VALUES ($1, $2, 'Zanzibar Cloves')`, [randomUUID(), tenant]);
    // As a bulk writer does (PGlite runs no autovacuum): the planner knows the table's size.
    await catalog.dataSource().query(`ANALYZE "${s}".product_search_entry`);
    for (const query of ['zanzibar', 'zanzi']) {
      // The statement search_product_page executes, planned as it is (the owner reads product_search_entry).
      const [{ text }] = await catalog.dataSource().query(`SELECT "${s}".search_product_sql($1, $2, NULL, 21, false) AS text`, [tenant, searchPatterns(query)]);
      const plan = JSON.stringify(await catalog.dataSource().query(`EXPLAIN (FORMAT JSON) ${text}`));
      expect({ query, usesIndex: plan.includes('"Index Name":"product_search_entry_text"') }).toEqual({ query, usesIndex: true });
      expect(await titles(query)).toEqual(['Zanzibar Cloves']);
    }
  });
});
