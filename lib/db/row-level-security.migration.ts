import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The role a service's transactions run as: it owns nothing, and sees one tenant's rows. */
export const appRoleOf = (schema: string) => `${schema}_app`;

/**
 * Creates the service's application role, grants it what it needs (no UPDATE or DELETE on
 * append-only tables), and puts every tenant table under forced row-level security: a row is
 * visible and writable only when its tenant is the transaction's `app.tenant_id`, or in the
 * platform's own system transactions (`app.system = on`).
 */
export async function enableTenantIsolation(
  queryRunner: QueryRunner,
  tables: { table: string; tenantColumn?: string; appendOnly?: boolean }[],
): Promise<void> {
  const schema = queryRunner.connection.driver.schema!;
  const role = appRoleOf(schema);
  await queryRunner.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
        CREATE ROLE "${role}" NOLOGIN;
      END IF;
    END $$`);
  // The connecting (owning) user switches to the role inside each transaction.
  await queryRunner.query(`GRANT "${role}" TO CURRENT_USER`);
  await queryRunner.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
  await queryRunner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${role}"`);
  for (const { table, tenantColumn = 'tenant_id', appendOnly } of tables) {
    const qualified = `"${schema}"."${table}"`;
    await queryRunner.query(`GRANT SELECT, INSERT${appendOnly ? '' : ', UPDATE, DELETE'} ON ${qualified} TO "${role}"`);
    await queryRunner.query(`ALTER TABLE ${qualified} ENABLE ROW LEVEL SECURITY`);
    await queryRunner.query(`ALTER TABLE ${qualified} FORCE ROW LEVEL SECURITY`);
    const rule = `(${tenantColumn} = nullif(current_setting('app.tenant_id', true), '')::uuid OR current_setting('app.system', true) = 'on')`;
    await queryRunner.query(`CREATE POLICY tenant_isolation ON ${qualified} USING ${rule} WITH CHECK ${rule}`);
  }
}

export async function disableTenantIsolation(queryRunner: QueryRunner, tables: { table: string }[]): Promise<void> {
  const schema = queryRunner.connection.driver.schema!;
  for (const { table } of tables) {
    await queryRunner.query(`DROP POLICY tenant_isolation ON "${schema}"."${table}"`);
    await queryRunner.query(`ALTER TABLE "${schema}"."${table}" NO FORCE ROW LEVEL SECURITY`);
    await queryRunner.query(`ALTER TABLE "${schema}"."${table}" DISABLE ROW LEVEL SECURITY`);
  }
  await queryRunner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA "${schema}" FROM "${appRoleOf(schema)}"`);
}

type TenantTables = Parameters<typeof enableTenantIsolation>[1];

/**
 * A migration that puts `tables` under tenant isolation (and takes it off on the way down). Its
 * `name` is what TypeORM records as applied, so each service keeps its own stable name.
 */
export function tenantIsolationMigration(name: string, tables: TenantTables): new () => MigrationInterface {
  return class implements MigrationInterface {
    name = name;

    async up(queryRunner: QueryRunner): Promise<void> {
      await enableTenantIsolation(queryRunner, tables);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      await disableTenantIsolation(queryRunner, tables);
    }
  };
}

/**
 * Puts `table` under a customer policy besides its tenant's: in a transaction of a signed-in
 * customer (`app.customer_id` set) only that customer's rows are visible and writable, and rows of
 * no customer when `sharedWhenNull` (a cart whose id is its capability). Restrictive, so it narrows
 * the tenant policy and never widens it.
 */
export async function enableCustomerIsolation(queryRunner: QueryRunner, table: string, options: { sharedWhenNull?: boolean } = {}): Promise<void> {
  const qualified = `"${queryRunner.connection.driver.schema!}"."${table}"`;
  const me = `nullif(current_setting('app.customer_id', true), '')`;
  const rule = `(${me} IS NULL OR customer_id = ${me}::uuid${options.sharedWhenNull ? ' OR customer_id IS NULL' : ''})`;
  await queryRunner.query(`CREATE POLICY customer_isolation ON ${qualified} AS RESTRICTIVE USING ${rule} WITH CHECK ${rule}`);
}
