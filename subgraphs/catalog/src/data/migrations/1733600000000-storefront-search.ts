import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * The storefront's search read model (issue 15, decision 0018), beside the search row of 0014.
 *
 * - `product_search_entry` gains what facets, filters and sorts read (brand, category and its
 *   ancestors, title, creation time) and `document`: a weighted tsvector of the accent-folded text
 *   (title A; brand and category names B; description, skus and barcodes C) with a GIN index.
 * - `search_term`: every word of the tenant's documents, so a query word that matches none can be
 *   widened to the words it is a typo of (pg_trgm similarity over a trigram index).
 * - `search_synonym`: per-tenant synonym groups, stored as word → word pairs both ways.
 * - `search_offer`: price and availability per (product, store), fed by pricing's and
 *   inventory's events through `search_variant_offer` (per sku), never by reading their tables.
 * - `category.parent_id` and `category.path_ids` (root → itself, kept by a trigger): the tree, so
 *   a category filter matches its descendants through a GIN index on the entry's path.
 * - `product.archived_at`: archived products leave search.
 *
 * Everything is refreshed set-based: `refresh_product_search(ids)` is one INSERT … SELECT per
 * statement (the statement-level triggers of 0014 call it for every writer, the feed included).
 */
export class StorefrontSearch1733600000000 implements MigrationInterface {
  name = 'StorefrontSearch1733600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    const ext = await ensureExtension(queryRunner, 'unaccent');
    const trgm = await ensureExtension(queryRunner, 'pg_trgm');
    const fold = (expr: string) => `lower("${ext}".unaccent('"${ext}".unaccent'::regdictionary, coalesce(${expr}, '')))`;

    await queryRunner.query(`ALTER TABLE "${s}"."category" ADD COLUMN parent_id uuid, ADD COLUMN path_ids uuid[], ADD COLUMN archived_at timestamptz`);
    await queryRunner.query(`UPDATE "${s}"."category" SET path_ids = ARRAY[id]`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".category_path() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.path_ids := coalesce((SELECT c.path_ids FROM "${s}".category c WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.parent_id), '{}') || NEW.id;
        RETURN NEW;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER category_path BEFORE INSERT ON "${s}"."category" FOR EACH ROW EXECUTE FUNCTION "${s}".category_path()`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" ADD COLUMN archived_at timestamptz`);

    await queryRunner.query(`
      ALTER TABLE "${s}"."product_search_entry"
        ADD COLUMN brand text, ADD COLUMN category_id uuid, ADD COLUMN category_path uuid[] NOT NULL DEFAULT '{}',
        ADD COLUMN title text NOT NULL DEFAULT '', ADD COLUMN created_at timestamptz NOT NULL DEFAULT now(),
        ADD COLUMN archived boolean NOT NULL DEFAULT false, ADD COLUMN document tsvector NOT NULL DEFAULT ''::tsvector`);
    await queryRunner.query(`CREATE INDEX product_search_entry_document ON "${s}"."product_search_entry" USING gin (document) WITH (gin_pending_list_limit = 256)`);
    await queryRunner.query(`CREATE INDEX product_search_entry_category ON "${s}"."product_search_entry" USING gin (category_path) WITH (gin_pending_list_limit = 256)`);

    await queryRunner.query(`CREATE TABLE "${s}"."search_term" (tenant_id uuid NOT NULL, term text COLLATE "C" NOT NULL, PRIMARY KEY (tenant_id, term))`);
    await queryRunner.query(`CREATE INDEX search_term_trgm ON "${s}"."search_term" USING gin (term "${trgm}".gin_trgm_ops)`);
    await queryRunner.query(`CREATE TABLE "${s}"."search_synonym" (tenant_id uuid NOT NULL, term text NOT NULL, synonym text NOT NULL, PRIMARY KEY (tenant_id, term, synonym))`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."search_variant_offer" (
        tenant_id uuid NOT NULL, sku text NOT NULL, store_id uuid NOT NULL, price numeric(19,4), available int,
        PRIMARY KEY (tenant_id, sku, store_id))`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."search_offer" (
        tenant_id uuid NOT NULL, store_id uuid NOT NULL, product_id uuid NOT NULL, price numeric(19,4), in_stock boolean NOT NULL,
        PRIMARY KEY (tenant_id, store_id, product_id))`);
    await enableTenantIsolation(queryRunner, [{ table: 'search_synonym' }, { table: 'search_variant_offer' }, { table: 'search_offer' }]);
    // The application role writes them under the policy; search reads them as the owner, which a
    // policy evaluated on every row (current_setting per row) would slow tenfold: not forced.
    for (const table of ['search_synonym', 'search_variant_offer', 'search_offer']) await queryRunner.query(`ALTER TABLE "${s}"."${table}" NO FORCE ROW LEVEL SECURITY`);
    // The words are the owner's, like the search rows (written by the refresh, read by search).
    await queryRunner.query(`ALTER TABLE "${s}"."search_term" ENABLE ROW LEVEL SECURITY`);

    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO "${s}".product_search_entry AS e (product_id, tenant_id, seq, published, search_text, brand, category_id, category_path, title, created_at, archived, document)
        SELECT p.id, p.tenant_id, p.seq, p.published, concat_ws(' ', p.title, p.brand, p.description, c.name, v.skus),
               p.brand, p.category_id, coalesce(c.path_ids, '{}'), p.title, p.created_at, p.archived_at IS NOT NULL,
               setweight(to_tsvector('simple', ${fold('p.title')}), 'A')
                 || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.brand, c.names)`)}), 'B')
                 || setweight(to_tsvector('simple', ${fold(`concat_ws(' ', p.description, v.skus, v.barcodes)`)}), 'C')
          FROM "${s}".product p
          LEFT JOIN LATERAL (
            SELECT c.name, c.path_ids, (SELECT string_agg(a.name, ' ') FROM "${s}".category a WHERE a.tenant_id = c.tenant_id AND a.id = ANY(c.path_ids)) AS names
              FROM "${s}".category c WHERE c.tenant_id = p.tenant_id AND c.id = p.category_id) c ON true
          LEFT JOIN LATERAL (
            SELECT string_agg(v.sku, ' ' ORDER BY v.position) AS skus, string_agg(v.barcode, ' ') AS barcodes
              FROM "${s}".variant v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id) v ON true
         WHERE p.id = ANY(ids)
        ON CONFLICT (product_id) DO UPDATE SET published = EXCLUDED.published, search_text = EXCLUDED.search_text, brand = EXCLUDED.brand,
          category_id = EXCLUDED.category_id, category_path = EXCLUDED.category_path, title = EXCLUDED.title, archived = EXCLUDED.archived, document = EXCLUDED.document;
        INSERT INTO "${s}".search_term (tenant_id, term)
        SELECT DISTINCT e.tenant_id, w.term FROM "${s}".product_search_entry e, unnest(tsvector_to_array(e.document)) AS w(term)
         WHERE e.product_id = ANY(ids) AND length(w.term) BETWEEN 3 AND 40
        ON CONFLICT DO NOTHING;
      $$`);
    // A category's (re)name changes its products' documents and those of its descendants.
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".product_search_from_category() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM "${s}".refresh_product_search(ARRAY(
          SELECT p.id FROM "${s}".product p JOIN "${s}".category c ON c.tenant_id = p.tenant_id AND c.id = p.category_id
           WHERE p.tenant_id = NEW.tenant_id AND NEW.id = ANY(c.path_ids)));
        RETURN NULL;
      END $$`);

    // Offers: one product's price (lowest of its variants) and availability in one store.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".refresh_search_offer(tenant uuid, skus text[], stores uuid[]) RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO "${s}".search_offer AS o (tenant_id, store_id, product_id, price, in_stock)
        SELECT tenant, x.store_id, v.product_id, min(x.price), coalesce(bool_or(x.available > 0), false)
          FROM "${s}".variant v JOIN "${s}".search_variant_offer x ON x.tenant_id = v.tenant_id AND x.sku = v.sku
         WHERE v.tenant_id = tenant AND x.store_id = ANY(stores)
           AND v.product_id IN (SELECT product_id FROM "${s}".variant WHERE tenant_id = tenant AND sku = ANY(skus))
         GROUP BY x.store_id, v.product_id
        ON CONFLICT (tenant_id, store_id, product_id) DO UPDATE SET price = EXCLUDED.price, in_stock = EXCLUDED.in_stock;
      $$`);

    // The storefront search, as the owner for the caller's tenant only (see 0014): the query's
    // words become a tsquery (each word: itself as a prefix, the tenant's words it is a likely typo
    // of, its synonyms), then one statement, planned with its values (EXECUTE … USING), returns the
    // total, one page by the sort's key (keyset after the cursor) and the facets, each counted over
    // the matched set with every other filter applied, in one pass (GROUPING SETS).
    // A query's words as a tsquery: each word as a prefix, or a word of the tenant's documents it
    // is a likely typo of (trigram similarity, words of 4 letters and more), or one of its synonyms.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_query(query text) RETURNS tsquery
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
        tsq tsquery;
        alt tsquery;
        w text;
        t text;
      BEGIN
        FOR w IN SELECT DISTINCT x FROM unnest(tsvector_to_array(to_tsvector('simple', ${fold('query')}))) AS x LIMIT 8 LOOP
          alt := to_tsquery('simple', quote_literal(w) || ':*');
          IF length(w) >= 4 THEN
            FOR t IN SELECT st.term FROM "${s}".search_term st
                      WHERE st.tenant_id = tenant AND st.term OPERATOR("${trgm}".%) w AND "${trgm}".similarity(st.term, w) >= 0.45 AND st.term <> w
                      ORDER BY "${trgm}".similarity(st.term, w) DESC LIMIT 3 LOOP
              alt := alt || to_tsquery('simple', quote_literal(t));
            END LOOP;
          END IF;
          FOR t IN SELECT sy.synonym FROM "${s}".search_synonym sy WHERE sy.tenant_id = tenant AND sy.term = w LOOP
            alt := alt || phraseto_tsquery('simple', t);
          END LOOP;
          tsq := CASE WHEN tsq IS NULL THEN alt ELSE tsq && alt END;
        END LOOP;
        RETURN tsq;
      END $$`);
    // The statement of a search for one sort, with its values as parameters ($1 tenant, $2 the
    // tsquery, $3 store, $4 brands, $5 category ids, $6/$7 price range, $8 in stock, $9/$10 the
    // cursor's key and seq, $12 the page size, $13 drafts): the total, the page by the sort's key
    // after the cursor, and the facets, each counted over the matched set with every other filter
    // applied, in one pass (GROUPING SETS). bench:search EXPLAINs it.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_sql(sort text) RETURNS text LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
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
          WITH f AS MATERIALIZED (
            SELECT e.product_id, e.seq, e.brand, e.category_id, o.in_stock, %1$s AS k,
                   ($4 IS NULL OR e.brand = ANY($4)) AS fb, ($5 IS NULL OR e.category_path && $5) AS fc,
                   (($6 IS NULL OR o.price >= $6) AND ($7 IS NULL OR o.price <= $7)) AS fp, ($8 IS NULL OR coalesce(o.in_stock, false) = $8) AS fs,
                   width_bucket(o.price, '{10,25,50,100,250,500}'::numeric[]) AS bucket
              FROM "${s}".product_search_entry e
              LEFT JOIN "${s}".search_offer o ON o.tenant_id = $1 AND o.store_id = $3 AND o.product_id = e.product_id
             WHERE e.tenant_id = $1 AND NOT e.archived AND ($13 OR e.published) AND ($2 IS NULL OR e.document @@ $2)
          ), g AS (
            SELECT brand, category_id, bucket, coalesce(in_stock, false) AS in_stock, GROUPING(brand, category_id, bucket, coalesce(in_stock, false)) AS gs,
                   count(*) FILTER (WHERE fc AND fp AND fs) AS n_brand, count(*) FILTER (WHERE fb AND fp AND fs) AS n_category,
                   count(*) FILTER (WHERE fb AND fc AND fs) AS n_price, count(*) FILTER (WHERE fb AND fc AND fp) AS n_stock,
                   count(*) FILTER (WHERE fb AND fc AND fp AND fs) AS n_all
              FROM f GROUP BY GROUPING SETS ((brand), (category_id), (bucket), (coalesce(in_stock, false)), ())
          ), page AS (
            SELECT product_id, seq, k FROM f
             WHERE fb AND fc AND fp AND fs AND ($9 IS NULL OR k %2$s $9::%3$s OR (k = $9::%3$s AND seq > $10))
             ORDER BY k %4$s, seq LIMIT $12
          )
          SELECT jsonb_build_object(
            'total', (SELECT n_all FROM g WHERE gs = 15),
            'page', (SELECT coalesce(jsonb_agg(jsonb_build_array(product_id, seq, k::text) ORDER BY k %4$s, seq), '[]') FROM page),
            'brands', (SELECT coalesce(jsonb_agg(jsonb_build_array(brand, n_brand) ORDER BY n_brand DESC, brand), '[]')
                         FROM (SELECT brand, n_brand FROM g WHERE gs = 7 AND brand IS NOT NULL AND n_brand > 0 ORDER BY n_brand DESC, brand LIMIT 50) b),
            'categories', (SELECT coalesce(jsonb_agg(jsonb_build_array(category_id, n_category)), '[]') FROM g WHERE gs = 11 AND category_id IS NOT NULL AND n_category > 0),
            'prices', (SELECT coalesce(jsonb_agg(jsonb_build_array(bucket, n_price) ORDER BY bucket), '[]') FROM g WHERE gs = 13 AND bucket IS NOT NULL AND n_price > 0),
            'stock', (SELECT coalesce(jsonb_agg(jsonb_build_array(in_stock, n_stock) ORDER BY in_stock DESC), '[]') FROM g WHERE gs = 14 AND n_stock > 0))
        $q$, key_expr, CASE dir WHEN 'DESC' THEN '<' ELSE '>' END, CASE WHEN sort = 'TITLE' THEN 'text' ELSE 'float8' END, dir);
      END $$`);
    // The search, as the owner for the caller's tenant only (see 0014), planned with its values
    // (EXECUTE … USING plans each call with them).
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search(
        query text, drafts boolean, store uuid, brands text[], category_ids uuid[], price_min numeric, price_max numeric, in_stock boolean,
        sort text, after_key text, after_seq bigint, page int)
        RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
        tsq tsquery;
        result jsonb;
      BEGIN
        IF tenant IS NULL THEN RETURN NULL; END IF;
        tsq := "${s}".storefront_search_query(query);
        IF query IS NOT NULL AND tsq IS NULL THEN
          RETURN jsonb_build_object('total', 0, 'page', '[]'::jsonb, 'brands', '[]'::jsonb, 'categories', '[]'::jsonb, 'prices', '[]'::jsonb, 'stock', '[]'::jsonb);
        END IF;
        EXECUTE "${s}".storefront_search_sql(sort) INTO result
          USING tenant, tsq, store, brands, category_ids, price_min, price_max, in_stock, after_key, after_seq, sort, page, drafts;
        RETURN result;
      END $$`);
    const signature = `"${s}".storefront_search(text, boolean, uuid, text[], uuid[], numeric, numeric, boolean, text, text, bigint, int)`;
    await queryRunner.query(`REVOKE ALL ON FUNCTION ${signature} FROM PUBLIC`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".storefront_search_query(text) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION ${signature} TO "${s}_app"`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".refresh_search_offer(uuid, text[], uuid[]) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".refresh_search_offer(uuid, text[], uuid[]) TO "${s}_app"`);
    await queryRunner.query(`SET LOCAL app.system = 'on'`);
    await queryRunner.query(`SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search(text, boolean, uuid, text[], uuid[], numeric, numeric, boolean, text, text, bigint, int)`);
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search_sql(text)`);
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search_query(text)`);
    await queryRunner.query(`DROP FUNCTION "${s}".refresh_search_offer(uuid, text[], uuid[])`);
    for (const table of ['search_offer', 'search_variant_offer', 'search_synonym', 'search_term']) await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
    await queryRunner.query(`
      ALTER TABLE "${s}"."product_search_entry" DROP COLUMN brand, DROP COLUMN category_id, DROP COLUMN category_path,
        DROP COLUMN title, DROP COLUMN created_at, DROP COLUMN archived, DROP COLUMN document`);
    await queryRunner.query(`DROP TRIGGER category_path ON "${s}"."category"`);
    await queryRunner.query(`DROP FUNCTION "${s}".category_path()`);
    await queryRunner.query(`ALTER TABLE "${s}"."category" DROP COLUMN parent_id, DROP COLUMN path_ids, DROP COLUMN archived_at`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" DROP COLUMN archived_at`);
  }
}

/** A trusted extension, one per database; returns the schema it lives in (see the search-text migration). */
async function ensureExtension(queryRunner: QueryRunner, name: string): Promise<string> {
  const find = async () =>
    ((await queryRunner.query(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, [name])) as { schema: string }[])[0]
      ?.schema;
  const existing = await find();
  if (existing) return existing;
  await queryRunner.query(`SAVEPOINT ${name}`);
  try {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS ${name} WITH SCHEMA public`);
    await queryRunner.query(`RELEASE SAVEPOINT ${name}`);
  } catch (error) {
    await queryRunner.query(`ROLLBACK TO SAVEPOINT ${name}`);
    const raced = await find();
    if (raced) return raced;
    throw new Error(`catalog search needs the ${name} extension (${(error as Error).message}): as a superuser, run CREATE EXTENSION ${name} in this database (see docs/runbook.md)`, { cause: error });
  }
  return (await find())!;
}
