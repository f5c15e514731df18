import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A feed batch refreshes its products' search rows once (issue 23: 100,000 rows visible in < 60 s).
 *
 * A batch is three statements that each fired `refresh_product_search` for the same 500 products:
 * the product upsert, the variant upsert, and the variant upsert's refresh of `product.variants`
 * (an UPDATE of the products, decision 0035's variant versions). Profiled on PostgreSQL at 10k rows,
 * the three refreshes were ~60 % of a batch. The statement triggers now skip the refresh while the
 * transaction says `app.search_deferred = on` (`set_config(…, true)`: this transaction only), and
 * the feed worker, which sets it, refreshes the batch's products itself once, after its last write
 * and before it commits: what a reader sees after the commit is the same search row as before.
 * Every other writer leaves the setting unset and keeps the per-statement refresh.
 */
export class FeedSearchOnce1740047000000 implements MigrationInterface {
  name = 'FeedSearchOnce1740047000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await this.define(queryRunner, `IF current_setting('app.search_deferred', true) = 'on' THEN RETURN NULL; END IF;`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await this.define(queryRunner, '');
  }

  private async define(queryRunner: QueryRunner, skip: string): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".product_search_from_products() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${skip}
        PERFORM "${s}".refresh_product_search(ARRAY(SELECT id FROM changed));
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION "${s}".product_search_from_variants() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${skip}
        PERFORM "${s}".refresh_product_search(ARRAY(SELECT DISTINCT product_id FROM changed));
        RETURN NULL;
      END $$`);
  }
}
