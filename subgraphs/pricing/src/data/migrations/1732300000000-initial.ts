import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventTables, dropEventTables } from '../../../../../lib/events/event-tables.migration.js';
import { createKnownStoreTable, createKnownVariantTable } from '../../../../../lib/events/read-model.migration.js';

export class Initial1732300000000 implements MigrationInterface {
  name = 'Initial1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."price" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        amount numeric(19, 4) NOT NULL CHECK (amount >= 0),
        currency_code char(3) NOT NULL,
        version int NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, sku, store_id)
      )`);
    await createKnownVariantTable(queryRunner);
    await createKnownStoreTable(queryRunner);
    await createEventTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await dropEventTables(queryRunner);
    for (const table of ['known_store', 'known_variant', 'price']) await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
  }
}
