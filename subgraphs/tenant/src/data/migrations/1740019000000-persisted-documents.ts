import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Trusted documents (issue 24): the operations a tenant's apps published, by id (the SHA-256 of
 * the body), and API keys that run only those.
 */
export class PersistedDocuments1740019000000 implements MigrationInterface {
  name = 'PersistedDocuments1740019000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."persisted_document" (
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        app text NOT NULL,
        document_id text NOT NULL,
        body text NOT NULL,
        name text,
        type text,
        published_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, app, document_id)
      )`);
    await queryRunner.query(`CREATE INDEX persisted_document_by_id ON "${s}"."persisted_document" (tenant_id, document_id)`);
    await queryRunner.query(`ALTER TABLE "${s}"."api_key" ADD COLUMN persisted_documents_only boolean NOT NULL DEFAULT false`);
    await enableTenantIsolation(queryRunner, [{ table: 'persisted_document' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`ALTER TABLE "${s}"."api_key" DROP COLUMN persisted_documents_only`);
    await queryRunner.query(`DROP TABLE "${s}"."persisted_document"`);
  }
}
