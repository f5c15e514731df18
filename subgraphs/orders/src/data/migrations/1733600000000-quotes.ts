import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An order placed from a pricing quote keeps that quote (issue 16): immutable, so a later price
 * change never alters what was charged. A quote charges at most one order (the unique index).
 */
export class OrderQuotes1733600000000 implements MigrationInterface {
  name = 'OrderQuotes1733600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."order" ADD COLUMN quote_id uuid, ADD COLUMN quote jsonb`);
    await queryRunner.query(`CREATE UNIQUE INDEX order_quote ON "${s}"."order" (tenant_id, quote_id) WHERE quote_id IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP INDEX "${s}"."order_quote"`);
    await queryRunner.query(`ALTER TABLE "${s}"."order" DROP COLUMN quote, DROP COLUMN quote_id`);
  }
}
