import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Returns can be withdrawn or refused (CANCELLED) and refund the order's shipping once (issue 17). */
export class ReturnCancel1740024000000 implements MigrationInterface {
  name = 'ReturnCancel1740024000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" DROP CONSTRAINT "order_return_status_check"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" ADD CONSTRAINT "order_return_status_check" CHECK (status IN ('REQUESTED', 'RECEIVED', 'CANCELLED'))`);
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" ADD COLUMN shipping_refunded boolean, ADD COLUMN cancelled_at timestamptz, ADD COLUMN cancel_reason text`);
    // The order's shipping is refunded by one return at most.
    await queryRunner.query(`CREATE UNIQUE INDEX order_return_shipping_once ON "${s}"."order_return" (tenant_id, order_id) WHERE shipping_refunded`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP INDEX "${s}"."order_return_shipping_once"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" DROP COLUMN shipping_refunded, DROP COLUMN cancelled_at, DROP COLUMN cancel_reason`);
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" DROP CONSTRAINT "order_return_status_check"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order_return" ADD CONSTRAINT "order_return_status_check" CHECK (status IN ('REQUESTED', 'RECEIVED'))`);
  }
}
