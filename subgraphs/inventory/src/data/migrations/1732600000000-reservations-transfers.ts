import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

const TABLES = [{ table: 'reservation' }, { table: 'transfer' }];

/** Reservations and transfers; stock in transit; a level never has more reserved than on hand. */
export class ReservationsTransfers1732600000000 implements MigrationInterface {
  name = 'ReservationsTransfers1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."stock_level" ADD COLUMN in_transit int NOT NULL DEFAULT 0 CHECK (in_transit >= 0)`);
    await queryRunner.query(`ALTER TABLE "${s}"."stock_level" ADD CONSTRAINT stock_level_reserved_on_hand CHECK (reserved <= on_hand)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."reservation" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        order_id uuid,
        status text NOT NULL CHECK (status IN ('ACTIVE', 'RELEASED', 'COMMITTED', 'EXPIRED')),
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX reservation_order ON "${s}"."reservation" (tenant_id, order_id)`);
    await queryRunner.query(`CREATE INDEX reservation_expiry ON "${s}"."reservation" (expires_at) WHERE status = 'ACTIVE'`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."transfer" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        from_store_id uuid NOT NULL,
        to_store_id uuid NOT NULL CHECK (to_store_id <> from_store_id),
        quantity int NOT NULL CHECK (quantity > 0),
        status text NOT NULL CHECK (status IN ('SHIPPED', 'RECEIVED')),
        created_at timestamptz NOT NULL DEFAULT now(),
        received_at timestamptz
      )`);
    await queryRunner.query(`ALTER TABLE "${s}"."movement" ADD COLUMN reservation_id uuid`);
    await enableTenantIsolation(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await disableTenantIsolation(queryRunner, TABLES);
    await queryRunner.query(`DROP TABLE "${s}"."transfer"`);
    await queryRunner.query(`DROP TABLE "${s}"."reservation"`);
    await queryRunner.query(`ALTER TABLE "${s}"."movement" DROP COLUMN reservation_id`);
    await queryRunner.query(`ALTER TABLE "${s}"."stock_level" DROP CONSTRAINT stock_level_reserved_on_hand`);
    await queryRunner.query(`ALTER TABLE "${s}"."stock_level" DROP COLUMN in_transit`);
  }
}
