import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventTables, dropEventTables } from '../../../../../lib/events/event-tables.migration.js';

export class Initial1732300000000 implements MigrationInterface {
  name = 'Initial1732300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."tenant" (
        id uuid PRIMARY KEY,
        slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text NOT NULL,
        domains text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX tenant_domains ON "${s}"."tenant" USING gin (domains)`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."store" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        code text NOT NULL,
        name text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('STORE', 'DARK_STORE', 'WAREHOUSE', 'RESTAURANT')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, code)
      )`);
    await createEventTables(queryRunner);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await dropEventTables(queryRunner);
    await queryRunner.query(`DROP TABLE "${s}"."store"`);
    await queryRunner.query(`DROP TABLE "${s}"."tenant"`);
  }
}
