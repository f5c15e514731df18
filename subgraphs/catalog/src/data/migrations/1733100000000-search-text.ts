import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Search served by a trigram index at any catalog size.
 *
 * `product_search_entry` holds, per product, what a search matches — title, brand, description,
 * category name and skus — kept current by triggers on product, variant and category (so every
 * writer, the feed's bulk SQL included, maintains it). A pg_trgm GIN index answers
 * `search_text ILIKE '%word%'` for words, prefixes and sku fragments alike.
 *
 * Why a table of its own, read through a SECURITY DEFINER function: under row-level security
 * PostgreSQL may use an index only for leakproof conditions (a policy runs first), and ILIKE is
 * not leakproof, so on `product` every search was a scan. `product_search_entry` is owned by the
 * schema owner and has row-level security enabled but not forced; the application role has no
 * grant on it. `search_product_page` reads it as the owner and keeps to the caller's tenant
 * (`app.tenant_id`, the same setting the policies use).
 */
export class SearchText1733100000000 implements MigrationInterface {
  name = 'SearchText1733100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    const trgm = await ensureTrigramExtension(queryRunner);
    const rule = `(tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.system', true) = 'on')`;
    await queryRunner.query(`
      CREATE TABLE "${s}"."product_search_entry" (
        product_id uuid PRIMARY KEY REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        seq bigint NOT NULL,
        published boolean NOT NULL,
        search_text text NOT NULL
      )`);
    await queryRunner.query(`ALTER TABLE "${s}"."product_search_entry" ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`CREATE POLICY tenant_isolation ON "${s}"."product_search_entry" USING ${rule} WITH CHECK ${rule}`);
    await queryRunner.query(`CREATE INDEX product_search_entry_tenant_seq ON "${s}"."product_search_entry" (tenant_id, seq)`);
    // A small pending list (256 kB, not 4 MB): only VACUUM or a full list merges it (PGlite runs
    // no autovacuum), and a large one, grown by a bulk load, makes the planner (rightly) avoid the
    // index. Off entirely, every insert pays for its trigrams at once: a bulk load 4x slower.
    await queryRunner.query(
      `CREATE INDEX product_search_entry_text ON "${s}"."product_search_entry" USING gin (search_text "${trgm}".gin_trgm_ops) WITH (gin_pending_list_limit = 256)`,
    );

    // Recomputes the search rows of some products (as the owner: the application role cannot write them).
    await queryRunner.query(`
      CREATE FUNCTION "${s}".refresh_product_search(ids uuid[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO "${s}".product_search_entry (product_id, tenant_id, seq, published, search_text)
        SELECT p.id, p.tenant_id, p.seq, p.published, concat_ws(' ', p.title, p.brand, p.description,
                 (SELECT c.name FROM "${s}".category c WHERE c.tenant_id = p.tenant_id AND c.id = p.category_id),
                 (SELECT string_agg(v.sku, ' ' ORDER BY v.position) FROM "${s}".variant v WHERE v.tenant_id = p.tenant_id AND v.product_id = p.id))
          FROM "${s}".product p WHERE p.id = ANY(ids)
        ON CONFLICT (product_id) DO UPDATE SET published = EXCLUDED.published, search_text = EXCLUDED.search_text
      $$`);
    // One refresh per statement: a feed batch of 500 rows refreshes its products in one INSERT.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_search_from_products() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM "${s}".refresh_product_search(ARRAY(SELECT id FROM changed));
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_search_from_variants() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM "${s}".refresh_product_search(ARRAY(SELECT DISTINCT product_id FROM changed));
        RETURN NULL;
      END $$`);
    for (const [table, fn] of [['product', 'product_search_from_products'], ['variant', 'product_search_from_variants']] as const) {
      await queryRunner.query(`CREATE TRIGGER ${table}_search_insert AFTER INSERT ON "${s}"."${table}" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "${s}".${fn}()`);
      await queryRunner.query(`CREATE TRIGGER ${table}_search_update AFTER UPDATE ON "${s}"."${table}" REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "${s}".${fn}()`);
    }
    await queryRunner.query(`CREATE TRIGGER variant_search_delete AFTER DELETE ON "${s}"."variant" REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION "${s}".product_search_from_variants()`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".product_search_from_category() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product WHERE tenant_id = NEW.tenant_id AND category_id = NEW.id));
        RETURN NULL;
      END $$`);
    await queryRunner.query(`CREATE TRIGGER category_search_rename AFTER UPDATE OF name ON "${s}"."category" FOR EACH ROW EXECUTE FUNCTION "${s}".product_search_from_category()`);

    // The statement of a page of a tenant's products matching every pattern, in creation order,
    // with its values written in: executed per call (EXECUTE), it is planned with them, so the
    // planner weighs a rare word (the trigram index) against a common one (the seq order).
    await queryRunner.query(`
      CREATE FUNCTION "${s}".search_product_sql(tenant uuid, patterns text[], after_seq bigint, page int, drafts boolean)
        RETURNS text LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        conditions text := '';
        pattern text;
      BEGIN
        FOREACH pattern IN ARRAY coalesce(patterns, '{}') LOOP
          conditions := conditions || format(' AND ps.search_text ILIKE %L', pattern);
        END LOOP;
        RETURN format(
          'SELECT ps.product_id, ps.seq FROM "${s}".product_search_entry ps WHERE ps.tenant_id = %L AND ps.seq > %s%s%s ORDER BY ps.seq LIMIT %s',
          tenant, coalesce(after_seq, 0), CASE WHEN drafts THEN '' ELSE ' AND ps.published' END, conditions, page);
      END $$`);
    // Read as the owner, for the caller's tenant only (the setting the policies use).
    await queryRunner.query(`
      CREATE FUNCTION "${s}".search_product_page(patterns text[], after_seq bigint, page int, drafts boolean)
        RETURNS TABLE (product_id uuid, seq bigint) LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := nullif(current_setting('app.tenant_id', true), '')::uuid;
      BEGIN
        IF tenant IS NULL THEN RETURN; END IF;
        RETURN QUERY EXECUTE "${s}".search_product_sql(tenant, patterns, after_seq, page, drafts);
      END $$`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".search_product_page(text[], bigint, int, boolean) FROM PUBLIC`);
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".refresh_product_search(uuid[]) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".search_product_page(text[], bigint, int, boolean) TO "${s}_app"`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".refresh_product_search(uuid[]) TO "${s}_app"`);
    // The tsvector it replaces: unused now, and a GIN index every product write paid for.
    await queryRunner.query(`DROP INDEX "${s}"."product_search"`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" DROP COLUMN search`);
    await queryRunner.query(`SET LOCAL app.system = 'on'`);
    await queryRunner.query(`SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TRIGGER category_search_rename ON "${s}"."category"`);
    await queryRunner.query(`DROP TRIGGER variant_search_delete ON "${s}"."variant"`);
    for (const table of ['product', 'variant']) {
      await queryRunner.query(`DROP TRIGGER ${table}_search_insert ON "${s}"."${table}"`);
      await queryRunner.query(`DROP TRIGGER ${table}_search_update ON "${s}"."${table}"`);
    }
    for (const fn of ['search_product_page(text[], bigint, int, boolean)', 'search_product_sql(uuid, text[], bigint, int, boolean)', 'product_search_from_category()', 'product_search_from_variants()', 'product_search_from_products()', 'refresh_product_search(uuid[])']) {
      await queryRunner.query(`DROP FUNCTION "${s}".${fn}`);
    }
    await queryRunner.query(`DROP TABLE "${s}"."product_search_entry"`);
    await queryRunner.query(`
      ALTER TABLE "${s}"."product" ADD COLUMN search tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(brand, '') || ' ' || coalesce(description, ''))
      ) STORED`);
    await queryRunner.query(`CREATE INDEX product_search ON "${s}"."product" USING gin (search)`);
  }
}

/**
 * pg_trgm is one per database (every service schema shares it); returns the schema it lives in.
 * It is a trusted extension: the database's owner may create it. Two services migrating at once
 * may race to create it, hence the savepoint.
 */
async function ensureTrigramExtension(queryRunner: QueryRunner): Promise<string> {
  const find = async () =>
    ((await queryRunner.query(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`)) as { schema: string }[])[0]?.schema;
  const existing = await find();
  if (existing) return existing;
  await queryRunner.query('SAVEPOINT pg_trgm');
  try {
    await queryRunner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public');
    await queryRunner.query('RELEASE SAVEPOINT pg_trgm');
  } catch (error) {
    await queryRunner.query('ROLLBACK TO SAVEPOINT pg_trgm');
    const raced = await find();
    if (raced) return raced;
    throw new Error(
      `catalog search needs the pg_trgm extension and it could not be created (${(error as Error).message}): ` +
        `as the database owner or a superuser, run CREATE EXTENSION pg_trgm in this database (see docs/runbook.md)`,
      { cause: error },
    );
  }
  return (await find())!;
}
