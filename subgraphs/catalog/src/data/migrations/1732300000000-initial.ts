import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventTables, dropEventTables } from '../../../../../lib/events/event-tables.migration.js';

export class Initial1732300000000 implements MigrationInterface {
  name = 'Initial1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."category" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, name)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."product" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL,
        seq bigserial NOT NULL UNIQUE,
        title text NOT NULL,
        brand text,
        description text,
        category_id uuid REFERENCES "${s}"."category"(id),
        search tsvector GENERATED ALWAYS AS (
          to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(brand, '') || ' ' || coalesce(description, ''))
        ) STORED,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX product_tenant_seq ON "${s}"."product" (tenant_id, seq)`);
    await queryRunner.query(`CREATE INDEX product_search ON "${s}"."product" USING gin (search)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."variant" (
        tenant_id uuid NOT NULL,
        sku text NOT NULL,
        product_id uuid NOT NULL REFERENCES "${s}"."product"(id),
        title text NOT NULL,
        barcode text,
        position int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant_id, sku)
      )`);
    await queryRunner.query(`CREATE INDEX variant_product ON "${s}"."variant" (product_id, position)`);
    await createEventTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await dropEventTables(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}"."variant"`);
    await queryRunner.query(`DROP TABLE "${s}"."product"`);
    await queryRunner.query(`DROP TABLE "${s}"."category"`);
  }
}
