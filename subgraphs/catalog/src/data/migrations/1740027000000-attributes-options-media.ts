import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * The catalog a storefront needs (issue 15): typed attributes, options and media.
 *
 * - `attribute_definition`: the tenant's attributes (`defineAttribute`): name, label, kind (text,
 *   number, boolean), unit, and whether search offers it as a filter and facet.
 * - `product_attribute`: one value per product and attribute, as text (what facets show and
 *   `values` filters compare) and, for a number, as a number (what `min`/`max` compare).
 * - `product.options`, `product.media`, `variant.options`, `variant.media`: JSON lists, written
 *   whole by `upsertProduct`.
 * - A trigger on the search row adds the product's attribute values and option values to its
 *   document (weight C) whenever the row is written, so it composes with whichever version of
 *   `refresh_product_search` writes the row (this migration does not replace it).
 *
 * Both new tables are under the tenant policy, not forced: the application role writes them
 * under it, the search function reads them as the owner (decision 0018's reason: a policy per row
 * is a tenfold slowdown of a facet count).
 */
export class AttributesOptionsMedia1740027000000 implements MigrationInterface {
  name = 'AttributesOptionsMedia1740027000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    // unaccent was made available by the storefront-search migration.
    const extension = (await queryRunner.query(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'`,
    )) as { schema: string }[];
    const ext = extension[0]!.schema;
    const fold = (expr: string) => `lower("${ext}".unaccent('"${ext}".unaccent'::regdictionary, coalesce(${expr}, '')))`;

    await queryRunner.query(`
      CREATE TABLE "${s}"."attribute_definition" (
        tenant_id uuid NOT NULL, name text NOT NULL, label text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('TEXT', 'NUMBER', 'BOOLEAN')), unit text, filterable boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, name))`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."product_attribute" (
        tenant_id uuid NOT NULL, product_id uuid NOT NULL REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        name text NOT NULL, value_text text NOT NULL, value_number numeric, position int NOT NULL DEFAULT 0,
        PRIMARY KEY (tenant_id, product_id, name))`);
    await queryRunner.query(`CREATE INDEX product_attribute_value ON "${s}"."product_attribute" (tenant_id, name, value_text)`);
    await queryRunner.query(`CREATE INDEX product_attribute_number ON "${s}"."product_attribute" (tenant_id, name, value_number)`);
    await enableTenantIsolation(queryRunner, [{ table: 'attribute_definition' }, { table: 'product_attribute' }]);
    for (const table of ['attribute_definition', 'product_attribute']) await queryRunner.query(`ALTER TABLE "${s}"."${table}" NO FORCE ROW LEVEL SECURITY`);

    for (const table of ['product', 'variant']) {
      await queryRunner.query(`ALTER TABLE "${s}"."${table}" ADD COLUMN options jsonb NOT NULL DEFAULT '[]', ADD COLUMN media jsonb NOT NULL DEFAULT '[]'`);
    }

    // Attribute and option values are words of the document (a shopper types "arabica" or "large").
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_search_entry_attributes() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        words text;
      BEGIN
        SELECT concat_ws(' ',
                 (SELECT string_agg(a.value_text, ' ') FROM "${s}".product_attribute a WHERE a.tenant_id = NEW.tenant_id AND a.product_id = NEW.product_id),
                 (SELECT string_agg(v.value, ' ') FROM "${s}".product p, jsonb_array_elements(p.options) o, jsonb_array_elements_text(o->'values') v(value)
                   WHERE p.id = NEW.product_id))
          INTO words;
        IF words <> '' THEN
          NEW.document := NEW.document || setweight(to_tsvector('simple', ${fold('words')}), 'C');
        END IF;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER product_search_entry_attributes BEFORE INSERT OR UPDATE ON "${s}"."product_search_entry"
        FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_entry_attributes()`);

    // The search with attribute filters ($14: [{ name, values, min, max }]) and attribute facets
    // ($15: whether the tenant has a filterable attribute). Each attribute filter a product fails
    // is named in `fails`: the other facets count products failing none, an attribute's own facet
    // products failing none but its own (a facet ignores its own filter).
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".storefront_search_sql(sort text) RETURNS text LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        key_expr text;
        dir text;
      BEGIN
        CASE sort
          WHEN 'RELEVANCE' THEN key_expr := 'ts_rank(e.document, $2)::float8'; dir := 'DESC';
          WHEN 'PRICE_ASC' THEN key_expr := 'coalesce(o.price, ''Infinity'')::float8'; dir := 'ASC';
          WHEN 'PRICE_DESC' THEN key_expr := 'coalesce(o.price, ''-Infinity'')::float8'; dir := 'DESC';
          WHEN 'TITLE' THEN key_expr := 'lower(e.title) COLLATE "C"'; dir := 'ASC';
          ELSE key_expr := 'e.seq::float8'; dir := 'DESC';
        END CASE;
        RETURN format($q$
          WITH f0 AS MATERIALIZED (
            SELECT e.product_id, e.seq, e.brand, e.category_id, o.in_stock, %1$s AS k,
                   ($4 IS NULL OR e.brand = ANY($4)) AS fb, ($5 IS NULL OR e.category_path && $5) AS fc,
                   (($6 IS NULL OR o.price >= $6) AND ($7 IS NULL OR o.price <= $7)) AS fp, ($8 IS NULL OR coalesce(o.in_stock, false) = $8) AS fs,
                   width_bucket(o.price, '{10,25,50,100,250,500}'::numeric[]) AS bucket,
                   CASE WHEN $14 IS NULL THEN '{}'::text[] ELSE ARRAY(
                     SELECT q->>'name' FROM jsonb_array_elements($14) q
                      WHERE NOT EXISTS (
                        SELECT 1 FROM "${s}".product_attribute pa
                         WHERE pa.tenant_id = $1 AND pa.product_id = e.product_id AND pa.name = q->>'name'
                           AND (q->'values' IS NULL OR pa.value_text = ANY(ARRAY(SELECT jsonb_array_elements_text(q->'values'))))
                           AND (q->'min' IS NULL OR pa.value_number >= (q->>'min')::numeric)
                           AND (q->'max' IS NULL OR pa.value_number <= (q->>'max')::numeric))) END AS fails
              FROM "${s}".product_search_entry e
              LEFT JOIN "${s}".search_offer o ON o.tenant_id = $1 AND o.store_id = $3 AND o.product_id = e.product_id
             WHERE e.tenant_id = $1 AND NOT e.archived AND ($13 OR e.published) AND ($2 IS NULL OR e.document @@ $2)
          ), f AS MATERIALIZED (
            SELECT f0.*, cardinality(fails) = 0 AS fa FROM f0
          ), g AS (
            SELECT brand, category_id, bucket, coalesce(in_stock, false) AS in_stock, GROUPING(brand, category_id, bucket, coalesce(in_stock, false)) AS gs,
                   count(*) FILTER (WHERE fc AND fp AND fs AND fa) AS n_brand, count(*) FILTER (WHERE fb AND fp AND fs AND fa) AS n_category,
                   count(*) FILTER (WHERE fb AND fc AND fs AND fa) AS n_price, count(*) FILTER (WHERE fb AND fc AND fp AND fa) AS n_stock,
                   count(*) FILTER (WHERE fb AND fc AND fp AND fs AND fa) AS n_all
              FROM f GROUP BY GROUPING SETS ((brand), (category_id), (bucket), (coalesce(in_stock, false)), ())
          ), a AS (
            SELECT pa.name, pa.value_text, count(*) AS n, row_number() OVER (PARTITION BY pa.name ORDER BY count(*) DESC, pa.value_text) AS r
              FROM f JOIN "${s}".product_attribute pa ON pa.tenant_id = $1 AND pa.product_id = f.product_id
              JOIN "${s}".attribute_definition d ON d.tenant_id = $1 AND d.name = pa.name AND d.filterable
             WHERE $15 AND fb AND fc AND fp AND fs AND f.fails <@ ARRAY[pa.name]
             GROUP BY pa.name, pa.value_text
          ), page AS (
            SELECT product_id, seq, k FROM f
             WHERE fb AND fc AND fp AND fs AND fa AND ($9 IS NULL OR k %2$s $9::%3$s OR (k = $9::%3$s AND seq > $10))
             ORDER BY k %4$s, seq LIMIT $12
          )
          SELECT jsonb_build_object(
            'total', (SELECT n_all FROM g WHERE gs = 15),
            'page', (SELECT coalesce(jsonb_agg(jsonb_build_array(product_id, seq, k::text) ORDER BY k %4$s, seq), '[]') FROM page),
            'brands', (SELECT coalesce(jsonb_agg(jsonb_build_array(brand, n_brand) ORDER BY n_brand DESC, brand), '[]')
                         FROM (SELECT brand, n_brand FROM g WHERE gs = 7 AND brand IS NOT NULL AND n_brand > 0 ORDER BY n_brand DESC, brand LIMIT 50) b),
            'categories', (SELECT coalesce(jsonb_agg(jsonb_build_array(category_id, n_category)), '[]') FROM g WHERE gs = 11 AND category_id IS NOT NULL AND n_category > 0),
            'prices', (SELECT coalesce(jsonb_agg(jsonb_build_array(bucket, n_price) ORDER BY bucket), '[]') FROM g WHERE gs = 13 AND bucket IS NOT NULL AND n_price > 0),
            'stock', (SELECT coalesce(jsonb_agg(jsonb_build_array(in_stock, n_stock) ORDER BY in_stock DESC), '[]') FROM g WHERE gs = 14 AND n_stock > 0),
            'attributes', (SELECT coalesce(jsonb_agg(jsonb_build_array(name, value_text, n) ORDER BY name, n DESC, value_text), '[]') FROM a WHERE r <= 50))
        $q$, key_expr, CASE dir WHEN 'DESC' THEN '<' ELSE '>' END, CASE WHEN sort = 'TITLE' THEN 'text' ELSE 'float8' END, dir);
      END $$`);
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search(text, boolean, uuid, text[], uuid[], numeric, numeric, boolean, text, text, bigint, int)`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search(
        query text, drafts boolean, store uuid, brands text[], category_ids uuid[], price_min numeric, price_max numeric, in_stock boolean,
        sort text, after_key text, after_seq bigint, page int, attrs jsonb, attr_facets boolean)
        RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
        tsq tsquery;
        result jsonb;
      BEGIN
        IF tenant IS NULL THEN RETURN NULL; END IF;
        tsq := "${s}".storefront_search_query(query);
        IF query IS NOT NULL AND tsq IS NULL THEN
          RETURN jsonb_build_object('total', 0, 'page', '[]'::jsonb, 'brands', '[]'::jsonb, 'categories', '[]'::jsonb, 'prices', '[]'::jsonb, 'stock', '[]'::jsonb, 'attributes', '[]'::jsonb);
        END IF;
        EXECUTE "${s}".storefront_search_sql(sort) INTO result
          USING tenant, tsq, store, brands, category_ids, price_min, price_max, in_stock, after_key, after_seq, sort, page, drafts, attrs, attr_facets;
        RETURN result;
      END $$`);
    const signature = `"${s}".storefront_search(text, boolean, uuid, text[], uuid[], numeric, numeric, boolean, text, text, bigint, int, jsonb, boolean)`;
    await queryRunner.query(`REVOKE ALL ON FUNCTION ${signature} FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION ${signature} TO "${s}_app"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP TRIGGER product_search_entry_attributes ON "${s}"."product_search_entry"`);
    await queryRunner.query(`DROP FUNCTION "${s}".product_search_entry_attributes()`);
    for (const table of ['product', 'variant']) await queryRunner.query(`ALTER TABLE "${s}"."${table}" DROP COLUMN options, DROP COLUMN media`);
    await queryRunner.query(`DROP TABLE "${s}"."product_attribute"`);
    await queryRunner.query(`DROP TABLE "${s}"."attribute_definition"`);
    // The search function keeps its new signature: an older release passes 12 arguments, so this
    // down step is only for a schema being dropped with its data.
  }
}
