import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What `recommendations(kind: SIMILAR)` finds through an index instead of scoring every product
 * in the store (decision 0040): the products of a brand, and those filed in a category. Attribute
 * values already have `product_attribute_value`.
 */
export class SimilarIndexes1740030000002 implements MigrationInterface {
  name = 'SimilarIndexes1740030000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`CREATE INDEX product_tenant_brand ON "${s}"."product" (tenant_id, brand)`);
    await queryRunner.query(`CREATE INDEX product_tenant_category ON "${s}"."product" (tenant_id, category_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    for (const index of ['product_tenant_category', 'product_tenant_brand']) await queryRunner.query(`DROP INDEX "${s}"."${index}"`);
  }
}
