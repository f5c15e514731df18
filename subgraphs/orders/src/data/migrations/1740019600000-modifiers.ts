import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Menus (issue 19, decision 0036): the catalog's modifier groups per sku, as orders learns them
 * from `catalog.modifier-groups.set` (read model `orders.modifier-groups`), and the modifiers an
 * order line was placed with, each with its price then.
 */
export class Modifiers1740019600000 implements MigrationInterface {
  name = 'Modifiers1740019600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."modifier_group_info" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        product_id uuid NOT NULL,
        groups jsonb NOT NULL,
        PRIMARY KEY (tenant_id, sku)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'modifier_group_info' }]);
    await queryRunner.query(`ALTER TABLE "${s}"."order_line" ADD COLUMN modifiers jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."order_line" DROP COLUMN modifiers`);
    await queryRunner.query(`DROP TABLE "${s}"."modifier_group_info"`);
  }
}
