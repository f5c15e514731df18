import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Recommendations' read models (issue 15), learnt from events only, never from orders' or
 * inventory's tables:
 * - `recommendation_pair`: how many orders held both products (`orders.order.placed`), both ways;
 * - `recommendation_sale`: units sold per sku, store and day (inventory's SALE movements, from
 *   `inventory.stock-level.changed`), the sales velocity `trending` ranks by.
 */
export class Recommendations1740027000001 implements MigrationInterface {
  name = 'Recommendations1740027000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`
      CREATE TABLE "${s}"."recommendation_pair" (
        tenant_id uuid NOT NULL, product_id uuid NOT NULL, other_id uuid NOT NULL, orders int NOT NULL,
        PRIMARY KEY (tenant_id, product_id, other_id))`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."recommendation_sale" (
        tenant_id uuid NOT NULL, store_id uuid NOT NULL, sku text NOT NULL, day date NOT NULL, units int NOT NULL,
        PRIMARY KEY (tenant_id, store_id, day, sku))`);
    await enableTenantIsolation(queryRunner, [{ table: 'recommendation_pair' }, { table: 'recommendation_sale' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema!;
    await queryRunner.query(`DROP TABLE "${s}"."recommendation_sale"`);
    await queryRunner.query(`DROP TABLE "${s}"."recommendation_pair"`);
  }
}
