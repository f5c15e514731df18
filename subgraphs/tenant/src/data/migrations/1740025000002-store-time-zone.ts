import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A store's IANA time zone (issue 19): menus' availability windows are local times in it. UTC until set. */
export class StoreTimeZone1740025000002 implements MigrationInterface {
  name = 'StoreTimeZone1740025000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."store" ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "${queryRunner.connection.driver.schema}"."store" DROP COLUMN time_zone`);
  }
}
