import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Stores' time zones (issue 19): `store_time_zone` from the tenant subgraph's events (read model
 * `catalog.known-stores`); windows set without a zone (`from_store`) are evaluated in the
 * store's zone as it is now, their `time_zone` (the store's when they were set) only a fallback.
 */
export class StoreTimeZones1740025000003 implements MigrationInterface {
  name = 'StoreTimeZones1740025000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."store_time_zone" (
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        time_zone text NOT NULL,
        PRIMARY KEY (tenant_id, store_id)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'store_time_zone' }]);
    await queryRunner.query(`ALTER TABLE "${s}"."availability_window" ADD COLUMN from_store boolean NOT NULL DEFAULT false`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."availability_window" DROP COLUMN from_store`);
    await queryRunner.query(`DROP TABLE "${s}"."store_time_zone"`);
  }
}
