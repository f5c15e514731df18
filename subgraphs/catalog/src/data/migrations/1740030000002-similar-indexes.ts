import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What `recommendations(kind: SIMILAR)` finds through an index instead of scoring every product
 * in the store (decision 0040): the products of a brand, and those filed in a category. Attribute
 * values already have `product_attribute_value`. Partial: only filed products are in them. A
 * whole-table (tenant_id, category_id) index made the planner take it for the search entries'
 * refresh on every product insert, and a 20,000-row insert of products without a category went
 * from ~4.5 s to ~47 s on PGlite (test/integration/catalog-search).
 */
export class SimilarIndexes1740030000002 implements MigrationInterface {
  name = 'SimilarIndexes1740030000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`CREATE INDEX product_tenant_brand ON "${s}"."product" (tenant_id, brand) WHERE brand IS NOT NULL`);
    await queryRunner.query(`CREATE INDEX product_tenant_category ON "${s}"."product" (tenant_id, category_id) WHERE category_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    for (const index of ['product_tenant_category', 'product_tenant_brand']) await queryRunner.query(`DROP INDEX "${s}"."${index}"`);
  }
}
