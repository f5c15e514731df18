import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A key may be bound to some stores (a till's pos key acts on its own store only). */
export class ApiKeyStores1732600000000 implements MigrationInterface {
  name = 'ApiKeyStores1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."api_key" ADD COLUMN store_ids uuid[]`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."api_key" DROP COLUMN store_ids`);
  }
}
