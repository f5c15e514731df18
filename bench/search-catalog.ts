/**
 * The generated catalog both search benches use (bench/search.ts through the service,
 * bench/search-gateway.ts through the gateway), written in bulk into the catalog's own schema so
 * that its triggers build the search rows: 30 categories (6 departments of 4 aisles; products
 * filed under the aisles), and products with "amber" in 1 %, "velvet" in 10 % and "quokka" in 3
 * of every 10,000 of them, one variant each, priced 1.99 to 600 and two thirds in stock in `storeId`.
 */
import type { EntityManager } from 'typeorm';

export async function insertBenchCategories(m: EntityManager, schema: string, tenantId: string): Promise<void> {
  for (let root = 0; root < 6; root++) {
    const [{ id }] = await m.query(`INSERT INTO "${schema}".category (id, tenant_id, name) VALUES (gen_random_uuid(), $1, $2) RETURNING id`, [tenantId, `Department ${root}`]);
    for (let child = 0; child < 4; child++) {
      await m.query(`INSERT INTO "${schema}".category (id, tenant_id, name, parent_id) VALUES (gen_random_uuid(), $1, $2, $3)`, [tenantId, `Aisle ${root}-${child}`, id]);
    }
  }
}

/**
 * Products `from`..`to` (at most 10,000 at a time: one transaction each), with their variants and offers.
 * Their search rows are built once, after the variants, as the feed worker builds a batch's
 * (`app.search_deferred`, migration feed-search-once): the product insert, the variant insert and
 * its refresh of `product.variants` would each rebuild the same rows (about 70 % of the load's time).
 */
export async function insertBenchProducts(m: EntityManager, schema: string, tenantId: string, storeId: string, from: number, to: number): Promise<void> {
  await m.query(`SELECT set_config('app.search_deferred', 'on', true)`);
  await m.query(
    `INSERT INTO "${schema}".product (id, tenant_id, title, brand, description, external_ref, category_id)
     SELECT gen_random_uuid(), $1,
            'Product ' || i || CASE WHEN i % 100 = 7 THEN ' amber' ELSE '' END || CASE WHEN i % 10 = 3 THEN ' velvet' ELSE '' END
              || CASE WHEN i IN ($4::int, $4::int + 1, $4::int + 2) THEN ' quokka' ELSE '' END,
            'Brand ' || (i % 200), 'generated product number ' || i || ' for the search bench', 'bench:' || i,
            (ARRAY(SELECT id FROM "${schema}".category WHERE tenant_id = $1 AND parent_id IS NOT NULL ORDER BY name))[1 + i % 24]
       FROM generate_series($2::int, $3::int) AS i`,
    [tenantId, from, to, Math.floor((from + to) / 2)],
  );
  await m.query(
    `INSERT INTO "${schema}".variant (tenant_id, sku, product_id, title, position)
     SELECT tenant_id, 'BENCH-' || substr(external_ref, 7), id, 'Default', 0 FROM "${schema}".product
      WHERE tenant_id = $1 AND external_ref = ANY(SELECT 'bench:' || g FROM generate_series($2::int, $3::int) AS g)`,
    [tenantId, from, to],
  );
  await m.query(
    `SELECT "${schema}".refresh_product_search(ARRAY(SELECT id FROM "${schema}".product
      WHERE tenant_id = $1 AND external_ref = ANY(SELECT 'bench:' || g FROM generate_series($2::int, $3::int) AS g))), set_config('app.search_deferred', '', true)`,
    [tenantId, from, to],
  );
  // Straight into the search read model, in one statement.
  await m.query(
    `INSERT INTO "${schema}".search_offer (tenant_id, store_id, product_id, price, in_stock)
     SELECT tenant_id, $2, id, (substr(external_ref, 7)::int % 600) + 1.99, substr(external_ref, 7)::int % 3 <> 0 FROM "${schema}".product
      WHERE tenant_id = $1 AND external_ref = ANY(SELECT 'bench:' || g FROM generate_series($3::int, $4::int) AS g)`,
    [tenantId, storeId, from, to],
  );
}
