import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Products an external model is to be asked about (feeds and merchant systems' products, issue 19):
 * queued in the transaction that wrote them, taken by the catalog's model worker after it commits.
 * Work to do, not a read model: nothing to rebuild from events.
 */
export class EnrichmentModelAsks1740031000000 implements MigrationInterface {
  name = 'EnrichmentModelAsks1740031000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."enrichment_model_ask" (
        tenant_id uuid NOT NULL,
        product_id uuid NOT NULL,
        queued_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, product_id)
      )`);
    await queryRunner.query(`CREATE INDEX "enrichment_model_ask_queued" ON "${s}"."enrichment_model_ask" (queued_at)`);
    await enableTenantIsolation(queryRunner, [{ table: 'enrichment_model_ask' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."enrichment_model_ask"`);
  }
}
