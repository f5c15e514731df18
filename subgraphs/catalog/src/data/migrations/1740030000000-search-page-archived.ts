import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `products(query:)` for shoppers leaves archived products out in the statement that chooses the
 * page (the search row carries `archived` since the storefront-search migration), not afterwards:
 * filtering after the LIMIT made a page short and could end a list early (`hasNextPage` false
 * while more products matched). Staff (`drafts`) still see archived products, as without a query.
 */
export class SearchPageArchived1740030000000 implements MigrationInterface {
  name = 'SearchPageArchived1740030000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(pageSql(queryRunner.connection.driver.schema!, ' AND ps.published AND NOT ps.archived'));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(pageSql(queryRunner.connection.driver.schema!, ' AND ps.published'));
  }
}

/** search-text's statement of a page, with `shopper` as the condition for a caller who sees no drafts. */
function pageSql(s: string, shopper: string): string {
  return `
    CREATE OR REPLACE FUNCTION "${s}".search_product_sql(tenant uuid, patterns text[], after_seq bigint, page int, drafts boolean)
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
        tenant, coalesce(after_seq, 0), CASE WHEN drafts THEN '' ELSE '${shopper}' END, conditions, page);
    END $$`;
}
