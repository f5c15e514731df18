import type { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * A promotion's future start or end, still to announce to `priceChanged` subscribers (as
 * `price_boundary` is for price lists): the scheduler reads the due rows (index on `at`) with
 * FOR UPDATE SKIP LOCKED, announces the storefront prices that changed, and deletes them.
 * Promotions created before this migration get their future boundaries here.
 */
export class PromotionBoundary1740026000000 implements MigrationInterface {
  name = 'PromotionBoundary1740026000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."promotion_boundary" (
        tenant_id uuid NOT NULL,
        promotion_id uuid NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, promotion_id, at)
      )`);
    await queryRunner.query(`CREATE INDEX promotion_boundary_due ON "${s}"."promotion_boundary" (at)`);
    await enableTenantIsolation(queryRunner, [{ table: 'promotion_boundary' }]);
    // Forced row-level security applies to the owner too: the backfill reads and writes every tenant's rows.
    await queryRunner.query(`SELECT set_config('app.system', 'on', true)`);
    await queryRunner.query(`
      INSERT INTO "${s}"."promotion_boundary" (tenant_id, promotion_id, at)
      SELECT tenant_id, id, at FROM "${s}"."promotion", LATERAL (VALUES (starts_at), (ends_at)) AS b(at)
       WHERE at IS NOT NULL AND at > now() AND coupon_code IS NULL
      ON CONFLICT DO NOTHING`);
    await queryRunner.query(`SELECT set_config('app.system', 'off', true)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await disableTenantIsolation(queryRunner, [{ table: 'promotion_boundary' }]);
    await queryRunner.query(`DROP TABLE "${s}"."promotion_boundary"`);
  }
}
