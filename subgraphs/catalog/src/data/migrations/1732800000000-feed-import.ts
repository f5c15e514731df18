import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';
import { createKnownStoreTable } from '../../../../../lib/events/read-model.migration.js';

/**
 * Bulk feed imports: the uploaded file kept in chunks (so it is read back in bounded memory and
 * an import resumes after a restart), its progress, and the review queue of rows that could not
 * be imported. The catalog also learns the tenant's stores, to check a feed's store column.
 */
export class FeedImport1732800000000 implements MigrationInterface {
  name = 'FeedImport1732800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await createKnownStoreTable(queryRunner);
    await queryRunner.query(`
      CREATE TABLE "${s}"."feed_import" (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        tenant_id uuid NOT NULL,
        status text NOT NULL CHECK (status IN ('RECEIVING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')),
        bytes bigint NOT NULL DEFAULT 0,
        total int,
        processed int NOT NULL DEFAULT 0,
        imported int NOT NULL DEFAULT 0,
        failed int NOT NULL DEFAULT 0,
        lines_done int NOT NULL DEFAULT 0,
        error text,
        heartbeat_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX feed_import_due ON "${s}"."feed_import" (created_at) WHERE status IN ('QUEUED', 'RUNNING')`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."feed_chunk" (
        import_id uuid NOT NULL REFERENCES "${s}"."feed_import"(id) ON DELETE CASCADE,
        seq int NOT NULL,
        tenant_id uuid NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (import_id, seq)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."feed_row_error" (
        import_id uuid NOT NULL REFERENCES "${s}"."feed_import"(id) ON DELETE CASCADE,
        line int NOT NULL,
        tenant_id uuid NOT NULL,
        reason text NOT NULL,
        raw text NOT NULL,
        PRIMARY KEY (import_id, line)
      )`);
    await enableTenantIsolation(queryRunner, [{ table: 'known_store' }, { table: 'feed_import' }, { table: 'feed_chunk' }, { table: 'feed_row_error' }]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    for (const table of ['feed_row_error', 'feed_chunk', 'feed_import', 'known_store']) await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
  }
}
