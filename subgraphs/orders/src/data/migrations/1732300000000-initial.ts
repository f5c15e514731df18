import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createIdempotencyTable } from '../../../../../lib/db/idempotency.js';
import { createEventTables, dropEventTables } from '../../../../../lib/events/event-tables.migration.js';
import { createKnownStoreTable } from '../../../../../lib/events/read-model.migration.js';

export class Initial1732300000000 implements MigrationInterface {
  name = 'Initial1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."order" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        seq bigserial NOT NULL UNIQUE,
        number int NOT NULL,
        store_id uuid NOT NULL,
        status text NOT NULL,
        total_amount numeric(19, 4) NOT NULL,
        currency_code char(3) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, number)
      )`);
    await queryRunner.query(`CREATE INDEX order_tenant_seq ON "${s}"."order" (tenant_id, seq)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_line" (
        order_id uuid NOT NULL REFERENCES "${s}"."order"(id),
        line_no int NOT NULL,
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        unit_amount numeric(19, 4) NOT NULL,
        currency_code char(3) NOT NULL,
        title text,
        PRIMARY KEY (order_id, line_no)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."order_counter" (
        tenant_id uuid PRIMARY KEY,
        last_number int NOT NULL
      )`);
    // Read models fed by catalog and pricing events.
    await queryRunner.query(`
      CREATE TABLE "${s}"."variant_info" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        title text NOT NULL,
        product_title text NOT NULL,
        PRIMARY KEY (tenant_id, sku)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."price_info" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        store_id uuid NOT NULL,
        amount numeric(19, 4) NOT NULL,
        currency_code char(3) NOT NULL,
        version int NOT NULL,
        PRIMARY KEY (tenant_id, sku, store_id)
      )`);
    await createKnownStoreTable(queryRunner);
    await createIdempotencyTable(queryRunner);
    await createEventTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await dropEventTables(queryRunner);
    for (const table of ['idempotency', 'known_store', 'price_info', 'variant_info', 'order_counter', 'order_line', 'order']) {
      await queryRunner.query(`DROP TABLE "${s}"."${table}"`);
    }
  }
}
