import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/**
 * What one mutation (or one write route) records about itself, set by the resolver scope
 * (`auditMutations`) and read by every transaction it runs on its subgraph's database: the
 * transaction sets `app.audit_id` (the capture trigger then records the rows it writes) and its
 * first commit appends the record itself, in the same round trip as COMMIT.
 */
export interface AuditScope {
  readonly id: string;
  /** The database this subgraph's scope belongs to: another service's transaction (an in-process consumer) is not this mutation's. */
  readonly database: object;
  readonly requestId: string;
  readonly actor: string;
  readonly roles: string;
  readonly operation: string;
  readonly source: string;
  readonly targetIds: readonly string[];
  readonly input: unknown;
  /** The record is written (by a transaction that committed). */
  written: boolean;
}

const scopes = new AsyncLocalStorage<AuditScope>();

export function newAuditScope(fields: Omit<AuditScope, 'id' | 'written'>): AuditScope {
  return { ...fields, id: randomUUID(), written: false };
}

/** Runs `work` inside `scope`: the transactions it opens (on the scope's database) are audited. */
export const runInAuditScope = <T>(scope: AuditScope, work: () => Promise<T>): Promise<T> => scopes.run(scope, work);

/** The scope of the running mutation for `database`, if any. */
export function auditScopeFor(database: object): AuditScope | undefined {
  const scope = scopes.getStore();
  return scope && scope.database === database ? scope : undefined;
}

const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The settings a transaction of the scope starts with (part of its BEGIN statement). */
export const auditSettings = (scope: AuditScope) => `, set_config('app.audit_id', '${scope.id}', true), set_config('app.audit_n', '0', true)`;

/** The record's INSERT, sent with COMMIT; its tenant is the transaction's (none in a system transaction). */
export function auditRecordInsert(scope: AuditScope, table: string): string {
  const targets = `ARRAY[${scope.targetIds.map(literal).join(', ')}]::text[]`;
  const input = scope.input === undefined ? 'NULL' : `${literal(JSON.stringify(scope.input))}::jsonb`;
  return (
    `INSERT INTO ${table} (id, tenant_id, request_id, actor, roles, operation, source, target_ids, input, changed_rows) VALUES (` +
    `'${scope.id}', nullif(current_setting('app.tenant_id', true), '')::uuid, ${literal(scope.requestId)}, ${literal(scope.actor)}, ` +
    `${literal(scope.roles)}, ${literal(scope.operation)}, ${literal(scope.source)}, ${targets}, ${input}, coalesce(nullif(current_setting('app.audit_n', true), ''), '0')::int) ON CONFLICT (id) DO NOTHING`
  );
}
