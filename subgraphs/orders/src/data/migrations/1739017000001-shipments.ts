import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** Shipments (issue 17): several per order, each with its carrier, tracking number and lines. */
export class Shipments1739017000001 implements MigrationInterface {
  name = 'Shipments1739017000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."shipment" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        carrier text NOT NULL,
        tracking_number text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX shipment_order ON "${s}"."shipment" (tenant_id, order_id)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."shipment_line" (
        shipment_id uuid NOT NULL REFERENCES "${s}"."shipment"(id),
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        sku text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (shipment_id, sku)
      )`);
    await queryRunner.query(`CREATE INDEX shipment_line_order ON "${s}"."shipment_line" (tenant_id, order_id)`);
    await enableTenantIsolation(queryRunner, [{ table: 'shipment' }, { table: 'shipment_line' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await disableTenantIsolation(queryRunner, [{ table: 'shipment' }, { table: 'shipment_line' }]);
    await queryRunner.query(`DROP TABLE "${s}"."shipment_line"`);
    await queryRunner.query(`DROP TABLE "${s}"."shipment"`);
  }
}
