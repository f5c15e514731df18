import type { DataSource } from 'typeorm';
import { badInput } from '../errors.js';
import { inTenantTransaction, qualified } from '../db/data-source.js';
import { requireTenant } from '../graphql/context.js';
import { decodeCursor, encodeCursor, pageSize, type Connection } from '../graphql/pagination.js';
import { requireRole } from '../graphql/roles.js';
import { checkText, maxLengthOf } from '../input-bounds.js';
import type { CallerContext } from '../tenant/signed-context.js';

/** `Query.auditLog`'s arguments, checked: what every subgraph reads its records by. */
export interface AuditQuery {
  filter: { actor?: string; entityType?: string; entityId?: string; from?: string; to?: string };
  first: number;
  after?: { at: string; subgraph: string; id: string };
}

/** One record as a subgraph contributes it (and as `AuditRecord` shows it). */
export interface AuditRecord {
  id: string;
  at: string;
  subgraph: string;
  tenantId: string | null;
  actor: string;
  roles: string[];
  operation: string;
  source: string;
  requestId: string;
  targetIds: string[];
  input: unknown;
  changes: { entityType: string; entityId: string | null; action: string; before: unknown; after: unknown }[];
  /** Rows written beyond the ones kept (a bulk write): see docs/audit.md. */
  changesOmitted: number;
}

/** Changes returned per record; the rest are counted in `changesOmitted`. */
const CHANGES_PER_RECORD = 50;

const time = (value: string | null | undefined, name: string): string | undefined => {
  if (value === null || value === undefined) return undefined;
  checkText(value, name, maxLengthOf(`AuditLogFilter.${name}`));
  if (Number.isNaN(Date.parse(value))) throw badInput(`${name} is not a date-time (ISO 8601)`, name);
  return new Date(value).toISOString();
};

/** Checks `auditLog`'s arguments (bounds as docs/limits.md lists them) into an AuditQuery. */
export function auditQueryOf(args: { filter?: Record<string, string | null | undefined> | null; first?: number | null; after?: string | null }): AuditQuery {
  const f = args.filter ?? {};
  const text = (name: 'actor' | 'entityType' | 'entityId') => {
    const value = f[name];
    if (value === null || value === undefined) return undefined;
    checkText(value, name, maxLengthOf(`AuditLogFilter.${name}`));
    return value;
  };
  const filter = { actor: text('actor'), entityType: text('entityType'), entityId: text('entityId'), from: time(f.from, 'from'), to: time(f.to, 'to') };
  let after: AuditQuery['after'];
  if (args.after !== null && args.after !== undefined) {
    checkText(args.after, 'after', maxLengthOf('Query.auditLog(after:)'));
    const [at, subgraph, id, extra] = (decodeCursor(args.after) ?? '').split('|');
    if (!at || !subgraph || !id || extra !== undefined || Number.isNaN(Date.parse(at))) throw badInput('after is not a valid cursor', 'after');
    after = { at, subgraph, id };
  }
  return { filter: Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined)) as AuditQuery['filter'], first: pageSize(args.first), ...(after ? { after } : {}) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * This subgraph's records of the caller's tenant that match `query`, newest first, at most
 * `first + 1` after the cursor (records are ordered by time, then subgraph, then id, across
 * subgraphs). Admins only; row-level security keeps other tenants' records out.
 */
export async function readAuditRecords(dataSource: DataSource, subgraph: string, ctx: CallerContext, query: AuditQuery): Promise<AuditRecord[]> {
  requireRole(ctx, 'admin');
  const tenantId = requireTenant(ctx);
  const log = qualified(dataSource, 'audit_log');
  const change = qualified(dataSource, 'audit_change');
  const where: string[] = ['l.tenant_id = $1'];
  const values: unknown[] = [tenantId];
  const param = (value: unknown) => `$${values.push(value)}`;
  const { actor, entityType, entityId, from, to } = query.filter;
  if (actor) where.push(`l.actor = ${param(actor)}`);
  if (from) where.push(`l.occurred_at >= ${param(from)}::timestamptz`);
  if (to) where.push(`l.occurred_at < ${param(to)}::timestamptz`);
  if (entityType || entityId) {
    const conditions = [`c.audit_id = l.id`];
    if (entityType) conditions.push(`c.entity_type = ${param(entityType)}`);
    if (entityId) conditions.push(`c.entity_id = ${param(entityId)}`);
    const changed = `EXISTS (SELECT 1 FROM ${change} c WHERE ${conditions.join(' AND ')})`;
    where.push(entityId && !entityType ? `(${changed} OR l.target_ids @> ARRAY[${param(entityId)}]::text[])` : changed);
  }
  if (query.after) {
    const { at, subgraph: s, id } = query.after;
    const t = param(at);
    if (subgraph < s) where.push(`l.occurred_at <= ${t}::timestamptz`);
    else if (subgraph > s) where.push(`l.occurred_at < ${t}::timestamptz`);
    else if (UUID.test(id)) where.push(`(l.occurred_at, l.id) < (${t}::timestamptz, ${param(id)}::uuid)`);
    else throw badInput('after is not a valid cursor', 'after');
  }
  return inTenantTransaction(dataSource, tenantId, async (m) => {
    const rows = (await m.query(
      `SELECT l.id, to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, l.tenant_id, l.actor, l.roles, l.operation,
              l.source, l.request_id, l.target_ids, l.input, l.changed_rows
       FROM ${log} l WHERE ${where.join(' AND ')} ORDER BY l.occurred_at DESC, l.id DESC LIMIT ${query.first + 1}`,
      values,
    )) as { id: string; at: string; tenant_id: string | null; actor: string; roles: string; operation: string; source: string; request_id: string; target_ids: string[]; input: unknown; changed_rows: number }[];
    if (rows.length === 0) return [];
    const changes = (await m.query(
      `SELECT audit_id, entity_type, entity_id, action, before, after, n FROM (
         SELECT c.*, row_number() OVER (PARTITION BY audit_id ORDER BY seq) AS n FROM ${change} c WHERE c.audit_id = ANY($1::uuid[])
       ) numbered ORDER BY audit_id, n`,
      [rows.map((r) => r.id)],
    )) as { audit_id: string; entity_type: string; entity_id: string | null; action: string; before: unknown; after: unknown; n: string }[];
    const byRecord = new Map<string, AuditRecord['changes']>();
    const counts = new Map<string, number>();
    for (const c of changes) {
      counts.set(c.audit_id, Number(c.n));
      if (Number(c.n) > CHANGES_PER_RECORD) continue;
      const list = byRecord.get(c.audit_id) ?? [];
      list.push({ entityType: c.entity_type, entityId: c.entity_id, action: c.action.toUpperCase(), before: c.before, after: c.after });
      byRecord.set(c.audit_id, list);
    }
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      subgraph,
      tenantId: r.tenant_id,
      actor: r.actor,
      roles: r.roles ? r.roles.split(',') : [],
      operation: r.operation,
      source: r.source,
      requestId: r.request_id,
      targetIds: r.target_ids,
      input: r.input,
      changes: byRecord.get(r.id) ?? [],
      changesOmitted: Math.max(0, Math.max(r.changed_rows, counts.get(r.id) ?? 0) - Math.min(counts.get(r.id) ?? 0, CHANGES_PER_RECORD)),
    }));
  });
}

/** The key of one audit log page (the `AuditLog` entity): the checked query, as JSON. */
export const auditPageKey = (query: AuditQuery) => JSON.stringify(query);

/** The query a page key names, checked again (a key reaches a subgraph in a representation). */
export function auditQueryOfKey(key: string): AuditQuery {
  let parsed: { filter?: Record<string, string>; first?: number; after?: { at: string; subgraph: string; id: string } };
  try {
    parsed = JSON.parse(key);
  } catch {
    throw badInput('not an audit log page', 'query');
  }
  const after = parsed.after ? encodeCursor(`${parsed.after.at}|${parsed.after.subgraph}|${parsed.after.id}`) : undefined;
  return auditQueryOf({ filter: parsed.filter ?? {}, first: parsed.first ?? null, after });
}

/** Newest first, ties by subgraph then id: the one order every page and cursor follows. */
const newerFirst = (a: AuditRecord, b: AuditRecord) =>
  a.at !== b.at ? (a.at < b.at ? 1 : -1) : a.subgraph !== b.subgraph ? (a.subgraph < b.subgraph ? 1 : -1) : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;

/** One page of every subgraph's records merged by time: `first` of them, and whether more follow. */
export function mergeAuditPages(pages: readonly AuditRecord[][], first: number): Connection<AuditRecord> {
  const all = pages.flat().sort(newerFirst);
  const page = all.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(`${node.at}|${node.subgraph}|${node.id}`), node }));
  return { edges, pageInfo: { hasNextPage: all.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
