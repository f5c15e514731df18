import type { MigrationInterface, QueryRunner } from 'typeorm';
import { enableCustomerIsolation, enableTenantIsolation } from '../../../../../lib/db/row-level-security.migration.js';

/**
 * Customers' identity (issue 17): shoppers of a tenant, their scrypt password hashes, refresh
 * tokens (hashed, single use) and failed logins (the rate limit counts them). Under tenant
 * isolation, and a signed-in customer sees its own row only.
 */
export class Customers1735000000000 implements MigrationInterface {
  name = 'Customers1735000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`
      CREATE TABLE "${s}"."customer" (
        id uuid PRIMARY KEY,
        customer_id uuid GENERATED ALWAYS AS (id) STORED,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        email text NOT NULL,
        name text NOT NULL,
        password_hash text NOT NULL,
        addresses jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (tenant_id, email)
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."customer_token" (
        token_hash text PRIMARY KEY,
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        customer_id uuid NOT NULL REFERENCES "${s}"."customer"(id),
        purpose text NOT NULL CHECK (purpose IN ('REFRESH', 'PASSWORD_RESET')),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE "${s}"."customer_login_failure" (
        tenant_id uuid NOT NULL REFERENCES "${s}"."tenant"(id),
        email text NOT NULL,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX customer_login_failure_recent ON "${s}"."customer_login_failure" (tenant_id, email, at)`);
    await enableTenantIsolation(queryRunner, [{ table: 'customer' }, { table: 'customer_token' }, { table: 'customer_login_failure' }]);
    await enableCustomerIsolation(queryRunner, 'customer');
    await enableCustomerIsolation(queryRunner, 'customer_token');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const s = queryRunner.connection.driver.schema;
    await queryRunner.query(`DROP TABLE "${s}"."customer_login_failure"`);
    await queryRunner.query(`DROP TABLE "${s}"."customer_token"`);
    await queryRunner.query(`DROP TABLE "${s}"."customer"`);
  }
}
