import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableCustomerIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** Returns (issue 17): requested lines of shipped orders, received with or without restock and refunded. */
export class Returns1739017000002 implements MigrationInterface {
  name = 'Returns1739017000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_return" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        customer_id uuid,
        status text NOT NULL CHECK (status IN ('REQUESTED', 'RECEIVED')),
        reason text,
        restocked boolean,
        refund_amount numeric(19,4),
        created_at timestamptz NOT NULL DEFAULT now(),
        received_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX order_return_order ON "${s}"."order_return" (tenant_id, order_id)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_return_line" (
        return_id uuid NOT NULL REFERENCES "${s}"."order_return"(id),
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        sku text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (return_id, sku)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'order_return' }, { table: 'order_return_line' }]);
    await enableCustomerIsolation(queryRunner, 'order_return', { sharedWhenNull: true });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP POLICY customer_isolation ON "${s}"."order_return"`);
    await disableTenantIsolation(queryRunner, [{ table: 'order_return' }, { table: 'order_return_line' }]);
    await queryRunner.query(`DROP TABLE "${s}"."order_return_line"`);
    await queryRunner.query(`DROP TABLE "${s}"."order_return"`);
  }
}
