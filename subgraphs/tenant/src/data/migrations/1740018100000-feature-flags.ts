import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Feature flags per tenant (issue 18): one row a flag, and the tenant's flag revision, which every
 * change (set or delete) moves on by one and announces in `tenant.feature-flag.changed`.
 */
export class FeatureFlags1740018100000 implements MigrationInterface {
  name = 'FeatureFlags1740018100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."feature_flag" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        key text NOT NULL,
        enabled boolean NOT NULL,
        variants jsonb NOT NULL,
        default_variant text NOT NULL,
        rules jsonb NOT NULL,
        revision bigint NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (tenant_id, key)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."feature_flag_revision" (
        tenant_id uuid PRIMARY KEY REFERENCES "${s}"."tenant"(id),
        revision bigint NOT NULL
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'feature_flag' }, { table: 'feature_flag_revision' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TABLE "${s}"."feature_flag_revision"`);
    await queryRunner.query(`DROP TABLE "${s}"."feature_flag"`);
  }
}
