import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * When a menu item may be ordered in a store (issue 19, decision 0036): local `HH:MM` windows in
 * the store's time zone ("breakfast 07:00–11:00"). No row: always.
 */
export class AvailabilityWindows1740019600001 implements MigrationInterface {
  name = 'AvailabilityWindows1740019600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."availability_window" (
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        product_id uuid NOT NULL REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        time_zone text NOT NULL,
        windows jsonb NOT NULL,
        PRIMARY KEY (tenant_id, store_id, product_id)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'availability_window' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."availability_window"`);
  }
}
