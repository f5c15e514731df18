import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/** The merchant systems a tenant lets push changes by webhook, with their signing secrets. */
export class WebhookSources1732700000000 implements MigrationInterface {
  name = 'WebhookSources1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."webhook_source" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        source text NOT NULL CHECK (source IN ('SHOPIFY', 'POS', 'ERP')),
        secret text NOT NULL,
        currency_code text NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (tenant_id, source)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'webhook_source' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."webhook_source"`);
  }
}
