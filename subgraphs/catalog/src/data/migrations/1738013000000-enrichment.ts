import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Enrichment (issue 19): a tenant's rules (brand dictionary, category keywords, rules switched
 * off; no row: enrichment is off), and per product what the rules changed, what waits for
 * review, and the typed attributes and synonyms they filled.
 */
export class Enrichment1738013000000 implements MigrationInterface {
  name = 'Enrichment1738013000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."enrichment_settings" (
        tenant_id uuid PRIMARY KEY,
        brands jsonb NOT NULL,
        category_keywords jsonb NOT NULL,
        disabled jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."product_enrichment" (
        product_id uuid PRIMARY KEY REFERENCES "${s}"."product"(id) ON DELETE CASCADE,
        tenant_id uuid NOT NULL,
        applied jsonb NOT NULL,
        review jsonb NOT NULL,
        attributes jsonb NOT NULL,
        synonyms jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'enrichment_settings' }, { table: 'product_enrichment' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TABLE "${s}"."product_enrichment"`);
    await queryRunner.query(`DROP TABLE "${s}"."enrichment_settings"`);
  }
}
