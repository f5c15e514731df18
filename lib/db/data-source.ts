import 'reflect-metadata';
import { DataSource, type EntityManager, type MixedList, type EntitySchema } from 'typeorm';
import { appRoleOf } from './row-level-security.migration.js';

export interface ServiceDatabaseOptions {
  url: string;
  /** PostgreSQL schema that holds this service's tables (default: the service name). */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  entities: MixedList<Function | string | EntitySchema<any>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  migrations: MixedList<Function | string>;
  /** Pool size per service (default 10). */
  poolSize?: number;
}

/**
 * Opens a service's database (real PostgreSQL or embedded PGlite, the same `pg` code path),
 * creates its schema when absent and runs its migrations.
 */
export async function openServiceDatabase(options: ServiceDatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    logging: false,
    poolSize: options.poolSize ?? 10,
    extra: { application_name: options.schema },
  });
  await dataSource.initialize();
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/**
 * Runs `work` in one transaction with the tenant set for row-level security
 * (`app.tenant_id`, transaction-local). Every tenant's statement of a service goes through here.
 */
export async function inTenantTransaction<T>(
  dataSource: DataSource,
  tenantId: string | null,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return dataSource.transaction(async (manager) => {
    // One round trip: the role (SET LOCAL ROLE), the tenant, and no system access.
    await manager.query(`SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true), set_config('app.system', 'off', true)`, [
      appRole(dataSource),
      tenantId ?? '',
    ]);
    return work(manager);
  });
}

/**
 * A transaction that sees every tenant's rows: for the platform's own work only (the outbox
 * relay, resolving a host or an API key to its tenant), never for a client's request.
 */
export async function inSystemTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    await manager.query(`SELECT set_config('role', $1, true), set_config('app.tenant_id', '', true), set_config('app.system', 'on', true)`, [
      appRole(dataSource),
    ]);
    return work(manager);
  });
}

/** `"schema"."table"` for raw SQL in migrations and services. */
export function qualified(dataSource: { options: { schema?: string } } | { driver: { schema?: string } }, table: string): string {
  const schema = 'driver' in dataSource ? dataSource.driver.schema : dataSource.options.schema;
  return `"${schema}"."${table}"`;
}

/** The service's application role (see the row-level-security migration): it owns no table. */
function appRole(dataSource: DataSource): string {
  return appRoleOf(String(dataSource.driver.schema));
}
