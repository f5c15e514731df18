import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the catalog's in-memory search index (decision 0049, services/search-index.ts) reads:
 *
 * - `change_xid` on `product_search_entry` and `search_offer`: the transaction that last wrote the
 *   row (a BEFORE trigger sets it on every insert and update, so every writer — the refresh, the
 *   offers' appliers, a feed batch — keeps it without knowing). An index kept since a snapshot
 *   whose oldest running transaction was `w` reads only rows with `change_xid >= w`: every write it
 *   did not see is by such a transaction, so none is missed (a row seen twice is applied twice).
 *   Rows written before this migration keep NULL: a build reads every row.
 * - `storefront_search_rows(since)`, `storefront_search_offers(store, since)`: the caller's
 *   tenant's search rows and one store's offers (changed since `since`, or all), as the owner for
 *   the tenant the transaction is scoped to (the search function's rule, decision 0014).
 * - `storefront_search_matches(query, ranked)`: the products a query matches (their `seq`, and
 *   their rank when sorted by relevance) as two comma-separated lists: the one part of a search
 *   the index leaves to the database.
 */
export class SearchIndexChanges1740068000000 implements MigrationInterface {
  name = 'SearchIndexChanges1740068000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`
      CREATE FUNCTION "${s}".search_change_xid() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
      BEGIN
        NEW.change_xid := pg_current_xact_id();
        RETURN NEW;
      END $$`);
    for (const table of ['product_search_entry', 'search_offer']) {
      await queryRunner.query(`ALTER TABLE "${s}"."${table}" ADD COLUMN change_xid xid8`);
      await queryRunner.query(`CREATE INDEX ${table}_change ON "${s}"."${table}" (tenant_id, change_xid)`);
      await queryRunner.query(`
        CREATE TRIGGER ${table}_change BEFORE INSERT OR UPDATE ON "${s}"."${table}"
          FOR EACH ROW EXECUTE FUNCTION "${s}".search_change_xid()`);
    }
    const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
    // Two statements each (all rows, or those changed since): one with `since IS NULL OR …` would be
    // planned once for both and scan every row of the tenant on each catch-up.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_rows(since xid8)
        RETURNS TABLE (product_id uuid, seq bigint, published boolean, archived boolean, brand text, category_id uuid, category_path uuid[], title_key text)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      BEGIN
        IF since IS NULL THEN
          RETURN QUERY SELECT e.product_id, e.seq, e.published, e.archived, e.brand, e.category_id, e.category_path, lower(e.title) COLLATE "C"
            FROM "${s}".product_search_entry e WHERE e.tenant_id = ${tenant};
        ELSE
          RETURN QUERY SELECT e.product_id, e.seq, e.published, e.archived, e.brand, e.category_id, e.category_path, lower(e.title) COLLATE "C"
            FROM "${s}".product_search_entry e WHERE e.tenant_id = ${tenant} AND e.change_xid >= since;
        END IF;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_offers(store uuid, since xid8)
        RETURNS TABLE (product_id uuid, price float8, in_stock boolean)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      BEGIN
        IF since IS NULL THEN
          RETURN QUERY SELECT o.product_id, o.price::float8, o.in_stock FROM "${s}".search_offer o WHERE o.tenant_id = ${tenant} AND o.store_id = store;
        ELSE
          RETURN QUERY SELECT o.product_id, o.price::float8, o.in_stock FROM "${s}".search_offer o
            WHERE o.tenant_id = ${tenant} AND o.change_xid >= since AND o.store_id = store;
        END IF;
      END $$`);
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_matches(query text, ranked boolean, OUT seqs text, OUT ranks text)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
      DECLARE
        tenant uuid := ${tenant};
        tsq tsquery := "${s}".storefront_search_query(query);
      BEGIN
        IF tenant IS NULL OR tsq IS NULL THEN seqs := ''; ranks := ''; RETURN; END IF;
        SELECT coalesce(string_agg(e.seq::text, ','), ''),
               CASE WHEN ranked THEN coalesce(string_agg(ts_rank(e.document, tsq)::float8::text, ','), '') ELSE '' END
          INTO seqs, ranks
          FROM "${s}".product_search_entry e
         WHERE e.tenant_id = tenant AND NOT e.archived AND e.document @@ tsq;
      END $$`);
    for (const signature of ['storefront_search_rows(xid8)', 'storefront_search_offers(uuid, xid8)', 'storefront_search_matches(text, boolean)']) {
      await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".${signature} FROM PUBLIC`);
      await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".${signature} TO "${s}_app"`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    for (const signature of ['storefront_search_rows(xid8)', 'storefront_search_offers(uuid, xid8)', 'storefront_search_matches(text, boolean)']) {
      await queryRunner.query(`DROP FUNCTION "${s}".${signature}`);
    }
    for (const table of ['product_search_entry', 'search_offer']) {
      await queryRunner.query(`DROP TRIGGER ${table}_change ON "${s}"."${table}"`);
      await queryRunner.query(`DROP INDEX "${s}".${table}_change`);
      await queryRunner.query(`ALTER TABLE "${s}"."${table}" DROP COLUMN change_xid`);
    }
    await queryRunner.query(`DROP FUNCTION "${s}".search_change_xid()`);
  }
}
