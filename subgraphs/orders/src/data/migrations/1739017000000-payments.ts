import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableCustomerIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Payments (issue 17): one row per attempt at paying an order, with the provider's reference,
 * its state and what was captured and refunded; refunds; and the processors' webhook events
 * seen, so a duplicate applies once. A customer sees only its own payments.
 */
export class Payments1739017000000 implements MigrationInterface {
  name = 'Payments1739017000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."payment" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        order_id uuid NOT NULL,
        customer_id uuid,
        provider text NOT NULL CHECK (provider IN ('MANUAL', 'TEST_CARD')),
        state text NOT NULL CHECK (state IN ('PENDING', 'ACTION_REQUIRED', 'AUTHORIZED', 'CAPTURED', 'DECLINED', 'VOIDED')),
        reference text NOT NULL,
        amount numeric(19,4) NOT NULL CHECK (amount >= 0),
        captured_amount numeric(19,4) NOT NULL DEFAULT 0,
        refunded_amount numeric(19,4) NOT NULL DEFAULT 0,
        currency_code char(3) NOT NULL,
        decline_reason text,
        capture_reference text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (captured_amount <= amount AND refunded_amount <= captured_amount)
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX payment_reference ON "${s}"."payment" (tenant_id, provider, reference)`);
    await queryRunner.query(`CREATE INDEX payment_order ON "${s}"."payment" (tenant_id, order_id)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."payment_refund" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        payment_id uuid NOT NULL REFERENCES "${s}"."payment"(id),
        order_id uuid NOT NULL,
        amount numeric(19,4) NOT NULL CHECK (amount > 0),
        reason text,
        reference text NOT NULL,
        state text NOT NULL CHECK (state IN ('SUCCEEDED')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX payment_refund_order ON "${s}"."payment_refund" (tenant_id, order_id)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."payment_event" (
        tenant_id uuid NOT NULL,
        provider text NOT NULL,
        event_id text NOT NULL,
        type text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, provider, event_id)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'payment' }, { table: 'payment_refund' }, { table: 'payment_event' }]);
    await enableCustomerIsolation(queryRunner, 'payment', { sharedWhenNull: true });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP POLICY customer_isolation ON "${s}"."payment"`);
    await disableTenantIsolation(queryRunner, [{ table: 'payment' }, { table: 'payment_refund' }, { table: 'payment_event' }]);
    await queryRunner.query(`DROP TABLE "${s}"."payment_event"`);
    await queryRunner.query(`DROP TABLE "${s}"."payment_refund"`);
    await queryRunner.query(`DROP TABLE "${s}"."payment"`);
  }
}
