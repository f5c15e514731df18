import { trace } from '@opentelemetry/api';
import { withSpan } from '../observability/tracing.js';
import 'reflect-metadata';
import { escapeLiteral } from 'pg';
import { DataSource, type EntityManager, type MixedList, type EntitySchema } from 'typeorm';
import { appError } from '../errors.js';
import { readInt } from '../env.js';
import { appRoleOf } from './row-level-security.migration.js';
import { auditRecordInsert, auditScopeFor, auditSettings } from '../audit/audit-scope.js';
import { attachAuditCapture, auditCaptureSql } from '../audit/audit-log.migration.js';
import { createHash } from 'node:crypto';

export interface ServiceDatabaseOptions {
  url: string;
  /** PostgreSQL schema that holds this service's tables (default: the service name). */
  schema: string;
  // TypeORM's own option types: entity and migration classes are typed as `Function`.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type, @typescript-eslint/no-explicit-any
  entities: MixedList<Function | string | EntitySchema<any>>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Pool size per service (default 10). */
  poolSize?: number;
  /**
   * Longest a statement of a service transaction may run, in ms; 0 turns it off. Default:
   * DB_STATEMENT_TIMEOUT_MS, else 5,000. Migrations and ANALYZE are not bound by it.
   */
  statementTimeoutMs?: number;
}

/** What DB_STATEMENT_TIMEOUT_MS defaults to: long enough for any request's statement, short enough that none holds a connection for long. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

/**
 * Opens a service's database (real PostgreSQL or embedded PGlite, the same `pg` code path),
 * creates its schema when absent and runs its migrations.
 *
 * A later start asks one question instead of a dozen: when the schema was opened last by this very
 * code (the mark on its `migrations` table names the migrations and the audit statement), there is
 * nothing to migrate or attach. On embedded PGlite each statement is a round trip to its thread,
 * and the audit statement walks every table's columns: ~1 s of a start (issue 13).
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
  statementTimeouts.set(dataSource, options.statementTimeoutMs ?? readInt(process.env, 'DB_STATEMENT_TIMEOUT_MS', DEFAULT_STATEMENT_TIMEOUT_MS));
  const attach = auditCaptureSql(options.schema);
  const migrations = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  const mark = `opened by ${createHash('sha256').update(JSON.stringify([migrations, attach])).digest('hex').slice(0, 32)}`;
  const [{ version, opened }] = (await dataSource.query(
    `SELECT version(), obj_description(to_regclass(${literal(`"${options.schema}"."migrations"`)}), 'pg_class') AS opened`,
  )) as [{ version: string; opened: string | null }];
  // PGlite is one session shared by every connection: no per-connection named statements there.
  if (/PGlite/.test(version)) sharedSession.add(dataSource);
  if (opened === mark) return dataSource;
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
  await dataSource.runMigrations({ transaction: 'each' });
  await attachAuditCapture((sql) => dataSource.query(sql), options.schema);
  // Last: a start that fails before this point does it all again next time.
  await dataSource.query(`COMMENT ON TABLE "${options.schema}"."migrations" IS ${literal(mark)}`);
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
  /** A signed-in customer: tables with a customer policy then show that customer's rows only (`app.customer_id`). */
  customerId?: string,
): Promise<T> {
  if (tenantId !== null && !UUID.test(tenantId)) throw new Error('a tenant id is a UUID');
  if (customerId !== undefined && !UUID.test(customerId)) throw new Error('a customer id is a UUID');
  return transaction(dataSource, tenantId ?? '', false, work, customerId ?? '');
}

/**
 * A transaction that sees every tenant's rows: for the platform's own work only (the outbox
 * relay, resolving a host or an API key to its tenant), never for a client's request.
 */
export async function inSystemTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return transaction(dataSource, '', true, work);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * BEGIN and the transaction's settings (role, tenant, system) travel in one round trip: every
 * transaction pays for it, and each round trip costs a socket write on both sides.
 */
async function transaction<T>(dataSource: DataSource, tenantId: string, system: boolean, work: (manager: EntityManager) => Promise<T>, customerId = ''): Promise<T> {
  // Inside a traced request, the transaction is a span of its own (background work is not traced).
  if (!trace.getActiveSpan()) return runTransaction(dataSource, tenantId, system, work, customerId);
  return withSpan(
    `db transaction ${dataSource.driver.schema ?? ''}`,
    { 'db.system': 'postgresql', 'db.namespace': dataSource.driver.schema ?? '', 'commerce.tenant': tenantId, 'commerce.system': system },
    () => runTransaction(dataSource, tenantId, system, work, customerId),
  );
}

async function runTransaction<T>(dataSource: DataSource, tenantId: string, system: boolean, work: (manager: EntityManager) => Promise<T>, customerId: string): Promise<T> {
  const runner = dataSource.createQueryRunner();
  // A mutation's transaction is audited: the trigger records its rows, the first commit the mutation.
  const audit = auditScopeFor(dataSource);
  await runner.connect();
  try {
    await runner.query(`START TRANSACTION; ${tenantSettings(dataSource, tenantId, system, customerId)}${audit ? auditSettings(audit) : ''}`);
    // TypeORM must know it is inside a transaction, or `save` would open one of its own.
    (runner as { isTransactionActive: boolean }).isTransactionActive = true;
    try {
      const result = await work(runner.manager);
      const record = audit && !audit.written;
      await runner.query(record ? `${auditRecordInsert(audit, qualified(dataSource, 'audit_log'))}; COMMIT` : 'COMMIT');
      if (record) audit.written = true;
      return result;
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw isStatementTimeout(error) ? queryTimeout(ownTimeouts.get(runner.manager) ?? statementTimeouts.get(dataSource) ?? DEFAULT_STATEMENT_TIMEOUT_MS) : error;
    } finally {
      (runner as { isTransactionActive: boolean }).isTransactionActive = false;
    }
  } finally {
    await runner.release();
  }
}

/** A transaction's own statement timeout, where it set one (`setTransactionStatementTimeout`): what a timeout in it reports. */
const ownTimeouts = new WeakMap<EntityManager, number>();

/**
 * Gives the rest of a transaction a statement timeout of its own instead of the service's
 * (DB_STATEMENT_TIMEOUT_MS), unless timeouts are off (0): for background work bounded by its size,
 * not a request's (a feed batch). A statement cancelled by it reports this timeout, not the
 * service's.
 */
export async function setTransactionStatementTimeout(manager: EntityManager, ms: number): Promise<void> {
  const [{ timeout }] = await manager.query(
    `SELECT set_config('statement_timeout', CASE WHEN current_setting('statement_timeout') = '0' THEN '0' ELSE $1 END, true) AS timeout`,
    [`${ms}ms`],
  );
  if (timeout !== '0') ownTimeouts.set(manager, ms);
}

/**
 * The one SELECT that sets a transaction's settings (all transaction-local): the service's role,
 * the tenant and customer row-level security filters by, whether it is system work, and the
 * statement timeout. Both transaction paths send it, so they cannot drift apart.
 */
function tenantSettings(dataSource: DataSource, tenantId: string, system: boolean, customerId: string): string {
  return (
    `SELECT set_config('role', ${literal(appRole(dataSource))}, true), ` +
    `set_config('app.tenant_id', ${literal(tenantId)}, true), set_config('app.system', '${system ? 'on' : 'off'}', true), set_config('app.customer_id', ${literal(customerId)}, true), ` +
    `set_config('statement_timeout', '${statementTimeouts.get(dataSource) ?? DEFAULT_STATEMENT_TIMEOUT_MS}', true)`
  );
}

/** `text` with each `$n` replaced by `values[n-1]` as a literal, the way the driver would send it (arrays as array literals). */
export function inlineParameters(text: string, values: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = values[Number(n) - 1];
    return value === null || value === undefined ? 'NULL' : escapeLiteral(Array.isArray(value) ? arrayLiteral(value) : String(value));
  });
}

/** A flat array as PostgreSQL's array input reads it: `{"a","b\"c",NULL}`. */
const arrayLiteral = (items: readonly unknown[]): string =>
  `{${items.map((x) => (x === null || x === undefined ? 'NULL' : `"${String(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;

/**
 * One read-only statement of a tenant's request in ONE round trip: BEGIN with the transaction's
 * settings (as `inTenantTransaction` sets them), the statement, and COMMIT, sent as one simple
 * query. For the hottest reads (a quote), where the three round trips of a transaction cost more
 * than the statement itself; nothing else may run in the transaction, and nothing is written
 * (READ ONLY).
 *
 * With a `name`, the statement is a session's prepared statement (SQL `PREPARE`, sent in the same
 * simple query the first time a session runs it, then `EXECUTE name(literals…)`): parsed once per
 * session and, after PostgreSQL's first five custom plans, run on its cached generic plan, instead
 * of a statement text with its values inlined that is parsed and planned on every call (for the
 * quote's rules statement, 1–2 ms of the 3–4 ms a quote waited for its SQL). Prepared statements outlive
 * the transaction (a ROLLBACK does not undo them) and are tracked per session: per connection on
 * PostgreSQL, per data source on PGlite, whose one session every connection shares. Without a
 * `name`, the values are inlined as literals.
 */
export async function readInOneRoundTrip<R>(dataSource: DataSource, tenantId: string, text: string, values: readonly unknown[], customerId = '', name?: string): Promise<R[]> {
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as { query(text: string): Promise<{ rows: unknown[] }[]> };
  try {
    const begin = `START TRANSACTION READ ONLY; ${tenantSettings(dataSource, tenantId, false, customerId)}`;
    if (!name) {
      const results = await client.query(`${begin}; ${inlineParameters(text, values)}; COMMIT`);
      return results[2]!.rows as R[];
    }
    const statement = preparedName(dataSource, name, text);
    // The driver's own connection object (what `connect` answers may be a wrapper of it).
    const session: object = sharedSession.has(dataSource) ? dataSource : ((runner as { databaseConnection?: object }).databaseConnection ?? client);
    const prepared = preparedIn.get(session) ?? new Set<string>();
    preparedIn.set(session, prepared);
    const execute = `EXECUTE ${statement}(${values.map((_, i) => `$${i + 1}`).join(', ')})`;
    for (let attempt = 0; ; attempt++) {
      const prepare = !prepared.has(statement);
      // Marked before it is sent: on a shared session another connection's request that starts
      // meanwhile must not PREPARE it a second time (if it overtakes this one, it retries).
      prepared.add(statement);
      try {
        const results = await client.query(`${begin}; ${prepare ? `PREPARE ${statement} AS ${text}; ` : ''}${inlineParameters(execute, values)}; COMMIT`);
        return results[prepare ? 3 : 2]!.rows as R[];
      } catch (error) {
        const code = (error as { code?: string }).code;
        // 26000: not prepared in this session (another connection's PREPARE not yet run, or the
        // session was reset); 42P05: already prepared (a concurrent first use). Either way, again:
        // at most twice, as a 26000 retry that PREPAREs may then meet the other's PREPARE (42P05).
        if (attempt < 2 && (code === '26000' || code === '42P05')) {
          await client.query('ROLLBACK').catch(() => undefined);
          if (code === '26000') prepared.delete(statement);
          continue;
        }
        throw error;
      }
    }
  } catch (error) {
    // A failed statement leaves the transaction aborted: the COMMIT after it never ran.
    await client.query('ROLLBACK').catch(() => undefined);
    throw isStatementTimeout(error) ? queryTimeout(statementTimeouts.get(dataSource) ?? DEFAULT_STATEMENT_TIMEOUT_MS) : error;
  } finally {
    await runner.release();
  }
}

/**
 * The session's name for a prepared statement: the caller's name and a hash of the schema and the
 * text (a changed text is a new statement; PGlite's one session serves every schema), kept within
 * PostgreSQL's 63 characters so that no name is silently cut short.
 */
const preparedName = (dataSource: DataSource, name: string, text: string) =>
  `${name.replace(/[^a-z0-9_]/gi, '_').slice(0, 40)}_${createHash('sha256').update(`${String(dataSource.driver.schema)}\0${text}`).digest('hex').slice(0, 20)}`.toLowerCase();

/** The statements prepared in each session (a `pg` client on PostgreSQL; the data source on PGlite's one shared session). */
const preparedIn = new WeakMap<object, Set<string>>();

/** `"schema"."table"` for raw SQL in migrations and services. */
export function qualified(dataSource: { options: { schema?: string } } | { driver: { schema?: string } }, table: string): string {
  const schema = 'driver' in dataSource ? dataSource.driver.schema : dataSource.options.schema;
  return `"${schema}"."${table}"`;
}

/** The service's application role (see the row-level-security migration): it owns no table. */
function appRole(dataSource: DataSource): string {
  return appRoleOf(String(dataSource.driver.schema));
}

const sharedSession = new WeakSet<DataSource>();

/** True on embedded PGlite: one session for every connection, so an open transaction holds up all others. */
export const isSharedSession = (dataSource: DataSource): boolean => sharedSession.has(dataSource);
const statementTimeouts = new WeakMap<DataSource, number>();

/** PostgreSQL cancelled the statement because it ran past statement_timeout (SQLSTATE 57014). */
function isStatementTimeout(error: unknown): boolean {
  const e = error as { code?: string; message?: string; driverError?: { code?: string; message?: string } } | null;
  const code = e?.driverError?.code ?? e?.code;
  return code === '57014' && /statement timeout/.test(e?.driverError?.message ?? e?.message ?? '');
}

/** A client sees QUERY_TIMEOUT (retryable), never the driver's message nor INTERNAL_SERVER_ERROR. */
function queryTimeout(ms: number) {
  return appError('QUERY_TIMEOUT', `The query took longer than ${ms} ms and was cancelled; nothing was changed. Retry, or narrow it (a more specific search).`, {
    retryable: true,
    timeoutMs: ms,
  });
}

/**
 * A hot statement, prepared once per connection (named) on PostgreSQL so it is parsed and planned
 * once; plain on embedded PGlite, whose single session all connections share.
 */
export async function hotQuery<R = unknown>(manager: EntityManager, name: string, text: string, values: unknown[]): Promise<R[]> {
  const runner = manager.queryRunner as unknown as { databaseConnection?: { query(config: object): Promise<{ rows: R[] }> } } | undefined;
  if (!runner?.databaseConnection || sharedSession.has(manager.connection)) return manager.query(text, values);
  const result = await runner.databaseConnection.query({ name: `${name}:${manager.connection.driver.schema}`, text, values });
  return result.rows;
}

/** The rows of an UPDATE or DELETE … RETURNING: TypeORM's postgres driver answers `[rows, count]` for those. */
export function updatedRows<R>(result: unknown): R[] {
  return (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as R[];
}
