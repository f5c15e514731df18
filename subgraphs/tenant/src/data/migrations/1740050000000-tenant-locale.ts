import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A tenant's locale (BCP 47, issue 15): the catalog's search stems its language. None until set. */
export class TenantLocale1740050000000 implements MigrationInterface {
  name = 'TenantLocale1740050000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."tenant" ADD COLUMN locale text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."tenant" DROP COLUMN locale`);
  }
}
