import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The search index matches and ranks words itself (decision 0053):
 *
 * - `storefront_search_rows(since)` also returns each row's `document` (the tsvector, as text), so
 *   the index keeps it current with the other columns;
 * - `storefront_search_tsquery(query)`: the tsquery a search's words expand to (prefixes, stems,
 *   typos, synonyms: `storefront_search_query`, unchanged), as text, for the caller's tenant.
 */
export class SearchIndexWords1740072000000 implements MigrationInterface {
  name = 'SearchIndexWords1740072000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search_rows(xid8)`);
    await queryRunner.query(rowsFunction(s, true));
    await queryRunner.query(`
      CREATE FUNCTION "${s}".storefront_search_tsquery(query text) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT CASE WHEN nullif(current_setting('app.tenant_id', true), '') IS NULL THEN NULL ELSE "${s}".storefront_search_query(query)::text END
      $$`);
    for (const signature of ['storefront_search_rows(xid8)', 'storefront_search_tsquery(text)']) {
      await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".${signature} FROM PUBLIC`);
      await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".${signature} TO "${s}_app"`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search_tsquery(text)`);
    await queryRunner.query(`DROP FUNCTION "${s}".storefront_search_rows(xid8)`);
    await queryRunner.query(rowsFunction(s, false));
    await queryRunner.query(`REVOKE ALL ON FUNCTION "${s}".storefront_search_rows(xid8) FROM PUBLIC`);
    await queryRunner.query(`GRANT EXECUTE ON FUNCTION "${s}".storefront_search_rows(xid8) TO "${s}_app"`);
  }
}

/** As in migration 1740068000000 (one statement per case), with or without the document. */
function rowsFunction(s: string, document: boolean): string {
  const tenant = `nullif(current_setting('app.tenant_id', true), '')::uuid`;
  const columns = `e.product_id, e.seq, e.published, e.archived, e.brand, e.category_id, e.category_path, lower(e.title) COLLATE "C"${document ? ', e.document::text' : ''}`;
  return `
    CREATE FUNCTION "${s}".storefront_search_rows(since xid8)
      RETURNS TABLE (product_id uuid, seq bigint, published boolean, archived boolean, brand text, category_id uuid, category_path uuid[], title_key text${document ? ', document text' : ''})
      LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
      IF since IS NULL THEN
        RETURN QUERY SELECT ${columns} FROM "${s}".product_search_entry e WHERE e.tenant_id = ${tenant};
      ELSE
        RETURN QUERY SELECT ${columns} FROM "${s}".product_search_entry e WHERE e.tenant_id = ${tenant} AND e.change_xid >= since;
      END IF;
    END $$`;
}
