import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIdempotencyTable } from '../../../../../lib/db/idempotency.js';
import { createEventTables, dropEventTables } from '../../../../../lib/events/event-tables.migration.js';
import { createKnownStoreTable, createKnownVariantTable } from '../../../../../lib/events/read-model.migration.js';

export class Initial1732300000000 implements MigrationInterface {
  name = 'Initial1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."movement" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        seq bigserial NOT NULL UNIQUE,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        kind text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        debit_account text NOT NULL,
        credit_account text NOT NULL CHECK (credit_account <> debit_account),
        reference text,
        source_event_id uuid,
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX movement_sku_store ON "${s}"."movement" (tenant_id, sku, store_id, seq)`);
    await queryRunner.query(`CREATE INDEX movement_store ON "${s}"."movement" (tenant_id, store_id, seq)`);
    // The ledger is append-only, whoever connects.
    await queryRunner.query(`
      CREATE FUNCTION "${s}".ledger_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'inventory movements are immutable: % refused', TG_OP;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER movement_append_only BEFORE UPDATE OR DELETE ON "${s}"."movement"
      FOR EACH ROW EXECUTE FUNCTION "${s}".ledger_is_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER movement_no_truncate BEFORE TRUNCATE ON "${s}"."movement"
      FOR EACH STATEMENT EXECUTE FUNCTION "${s}".ledger_is_append_only()`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."stock_level" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        on_hand int NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
        reserved int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        version int NOT NULL DEFAULT 0,
        updated_at timestamptz,
        PRIMARY KEY (tenant_id, sku, store_id)
      )`);
    await queryRunner.query(`CREATE INDEX stock_level_store ON "${s}"."stock_level" (tenant_id, store_id, sku)`);
    await createKnownVariantTable(queryRunner);
    await createKnownStoreTable(queryRunner);
    await createIdempotencyTable(queryRunner);
    await createEventTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await dropEventTables(queryRunner);
    for (const table of ['idempotency', 'known_store', 'known_variant', 'stock_level', 'movement']) {
      await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
    }
    await queryRunner.query(`DROP FUNCTION "${s}".ledger_is_append_only()`);
  }
}
