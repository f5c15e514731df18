import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Webhook ingestion: every accepted delivery with its raw body (audit and replay), deduplicated by
 * the source's event id; the per-tenant maps from a source's sku and location ids to ours; and the
 * time of the last level applied per (source, sku, store), so a late retry cannot roll stock back.
 */
export class Ingestion1732700000000 implements MigrationInterface {
  name = 'Ingestion1732700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."ingestion_event" (
        id uuid PRIMARY KEY,
        seq bigserial NOT NULL UNIQUE,
        tenant_id uuid NOT NULL,
        source text NOT NULL CHECK (source IN ('SHOPIFY', 'POS', 'ERP')),
        topic text NOT NULL,
        external_id text NOT NULL,
        body text NOT NULL,
        currency_code text,
        status text NOT NULL CHECK (status IN ('RECEIVED', 'APPLIED', 'NEEDS_REVIEW', 'RETRYING', 'DEAD_LETTER')),
        attempts int NOT NULL DEFAULT 0,
        last_error text,
        received_at timestamptz NOT NULL,
        next_attempt_at timestamptz,
        applied_at timestamptz,
        UNIQUE (tenant_id, source, external_id)
      )`);
    await queryRunner.query(`CREATE INDEX ingestion_event_due ON "${s}"."ingestion_event" (next_attempt_at) WHERE status IN ('RECEIVED', 'RETRYING')`);
    await queryRunner.query(`CREATE INDEX ingestion_event_status ON "${s}"."ingestion_event" (tenant_id, status, received_at)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."external_sku" (
        tenant_id uuid NOT NULL,
        source text NOT NULL,
        external_id text NOT NULL,
        sku text NOT NULL,
        PRIMARY KEY (tenant_id, source, external_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."external_location" (
        tenant_id uuid NOT NULL,
        source text NOT NULL,
        external_id text NOT NULL,
        store_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, source, external_id)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."ingestion_watermark" (
        tenant_id uuid NOT NULL,
        source text NOT NULL,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        occurred_at timestamptz NOT NULL,
        PRIMARY KEY (tenant_id, source, sku, store_id)
      )`);
    await enableTenantIsolation(queryRunner, [
      { table: 'ingestion_event' },
      { table: 'external_sku' },
      { table: 'external_location' },
      { table: 'ingestion_watermark' },
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    for (const table of ['ingestion_watermark', 'external_location', 'external_sku', 'ingestion_event']) {
      await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
    }
  }
}
