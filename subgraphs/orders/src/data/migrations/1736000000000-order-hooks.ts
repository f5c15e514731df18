import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** Merchants' decision hooks at order transitions, and every decision taken (append-only). */
export class OrderHooks1736000000000 implements MigrationInterface {
  name = 'OrderHooks1736000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_hook" (
        tenant_id uuid NOT NULL,
        event text NOT NULL CHECK (event IN ('place', 'pay', 'fulfil', 'cancel')),
        url text NOT NULL,
        timeout_ms int NOT NULL,
        failure_policy text NOT NULL CHECK (failure_policy IN ('OPEN', 'CLOSED')),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, event)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_hook_decision" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        event text NOT NULL,
        order_id uuid,
        decided_by text NOT NULL,
        allowed boolean NOT NULL,
        policy_applied text,
        reason text,
        latency_ms int NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX order_hook_decision_at ON "${s}"."order_hook_decision" (tenant_id, at DESC)`);
    await enableTenantIsolation(queryRunner, [{ table: 'order_hook' }, { table: 'order_hook_decision', appendOnly: true }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TABLE "${s}"."order_hook_decision"`);
    await queryRunner.query(`DROP TABLE "${s}"."order_hook"`);
  }
}
