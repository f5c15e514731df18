import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A feed import follows its effects in the other services: how many of its price and stock rows
 * pricing and inventory have applied (they say so by event), and PROPAGATING between the last
 * catalog batch and the moment every effect is visible.
 */
export class FeedEffects1733800000000 implements MigrationInterface {
  name = 'FeedEffects1733800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."feed_import" DROP CONSTRAINT feed_import_status_check`);
    await queryRunner.query(
      `ALTER TABLE "${s}"."feed_import" ADD CONSTRAINT feed_import_status_check CHECK (status IN ('RECEIVING', 'QUEUED', 'RUNNING', 'PROPAGATING', 'COMPLETED', 'FAILED'))`,
    );
    for (const column of ['prices_expected', 'prices_applied', 'stock_expected', 'stock_applied', 'stock_refused']) {
      await queryRunner.query(`ALTER TABLE "${s}"."feed_import" ADD COLUMN ${column} int NOT NULL DEFAULT 0`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    for (const column of ['prices_expected', 'prices_applied', 'stock_expected', 'stock_applied', 'stock_refused']) {
      await queryRunner.query(`ALTER TABLE "${s}"."feed_import" DROP COLUMN ${column}`);
    }
    await queryRunner.query(`ALTER TABLE "${s}"."feed_import" DROP CONSTRAINT feed_import_status_check`);
    await queryRunner.query(`ALTER TABLE "${s}"."feed_import" ADD CONSTRAINT feed_import_status_check CHECK (status IN ('RECEIVING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED'))`);
  }
}
