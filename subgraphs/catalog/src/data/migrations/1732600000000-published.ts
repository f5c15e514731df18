import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A product the storefront may show; drafts stay visible to staff only. */
export class Published1732600000000 implements MigrationInterface {
  name = 'Published1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."product" ADD COLUMN published boolean NOT NULL DEFAULT true`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."product" DROP COLUMN published`);
  }
}
