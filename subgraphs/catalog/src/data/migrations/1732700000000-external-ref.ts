import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Where a product came from, when a merchant system or a feed owns it (`shopify:<id>`, `feed:<handle>`). */
export class ExternalRef1732700000000 implements MigrationInterface {
  name = 'ExternalRef1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."product" ADD COLUMN external_ref text`);
    await queryRunner.query(`CREATE UNIQUE INDEX product_external_ref ON "${s}"."product" (tenant_id, external_ref) WHERE external_ref IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP INDEX "${s}"."product_external_ref"`);
    await queryRunner.query(`ALTER TABLE "${s}"."product" DROP COLUMN external_ref`);
  }
}
