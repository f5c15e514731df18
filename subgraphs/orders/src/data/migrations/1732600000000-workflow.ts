import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

const TABLES = [{ table: 'order_transition', appendOnly: true }];

/** Orders keep the workflow version they started on, a version per change, and their history. */
export class Workflow1732600000000 implements MigrationInterface {
  name = 'Workflow1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."order" ADD COLUMN workflow_version int NOT NULL DEFAULT 1`);
    await queryRunner.query(`ALTER TABLE "${s}"."order" ADD COLUMN version int NOT NULL DEFAULT 1`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_transition" (
        order_id uuid NOT NULL REFERENCES "${s}"."order"(id),
        seq int NOT NULL,
        tenant_id uuid NOT NULL,
        from_status text,
        to_status text NOT NULL,
        event text NOT NULL,
        cause text,
        at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, seq)
      )`);
    await enableTenantIsolation(queryRunner, TABLES);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await disableTenantIsolation(queryRunner, TABLES);
    await queryRunner.query(`DROP TABLE "${s}"."order_transition"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order" DROP COLUMN version`);
    await queryRunner.query(`ALTER TABLE "${s}"."order" DROP COLUMN workflow_version`);
  }
}
