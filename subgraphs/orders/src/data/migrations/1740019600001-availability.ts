import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * The catalog's availability windows per (store, sku), as orders learns them from
 * `catalog.availability-windows.set` (read model `orders.availability`): a line outside them is
 * refused (decision 0036).
 */
export class Availability1740019600001 implements MigrationInterface {
  name = 'Availability1740019600001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."availability_info" (
        tenant_id uuid NOT NULL,
        store_id uuid NOT NULL,
        sku text NOT NULL,
        product_id uuid NOT NULL,
        time_zone text NOT NULL,
        windows jsonb NOT NULL,
        PRIMARY KEY (tenant_id, store_id, sku)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'availability_info' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."availability_info"`);
  }
}
