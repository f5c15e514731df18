import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ApiKeys1732400000000 implements MigrationInterface {
  name = 'ApiKeys1732400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."api_key" (
        id uuid PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('STOREFRONT', 'POS', 'ADMIN', 'PARTNER')),
        key_hash text NOT NULL UNIQUE,
        prefix text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_key_tenant ON "${s}"."api_key" (tenant_id, created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "${queryRunner.connection.driver.schema}"."api_key"`);
  }
}
