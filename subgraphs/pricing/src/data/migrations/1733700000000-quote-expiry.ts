import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A claimed quote's uses come back when it expires unless an order was placed with it: each
 * redemption knows when its quote expires and when an order took it. Redemptions claimed before
 * this migration have no expiry and keep their uses, as they did.
 */
export class QuoteExpiry1733700000000 implements MigrationInterface {
  name = 'QuoteExpiry1733700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."promotion_redemption" ADD COLUMN expires_at timestamptz, ADD COLUMN ordered_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX promotion_redemption_expiry ON "${s}"."promotion_redemption" (expires_at) WHERE released_at IS NULL AND ordered_at IS NULL AND expires_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP INDEX "${s}"."promotion_redemption_expiry"`);
    await queryRunner.query(`ALTER TABLE "${s}"."promotion_redemption" DROP COLUMN expires_at, DROP COLUMN ordered_at`);
  }
}
