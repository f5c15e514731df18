import type { DataSource } from 'typeorm';
import { appError } from '../errors.js';
import { requireTenant } from '../graphql/context.js';
import type { Connection } from '../graphql/pagination.js';
import { requireRole } from '../graphql/roles.js';
import type { CallerContext } from '../tenant/signed-context.js';
import { auditPageKey, auditQueryOf, auditQueryOfKey, mergeAuditPages, readAuditRecords, type AuditRecord } from './audit-log-read.js';

/** The subgraph that serves `Query.auditLog` and merges the others' records (the rest contribute theirs). */
export const AUDIT_LOG_OWNER = 'tenant';
/** The subgraphs that contribute records to the owner (`AuditLog.<name>Records`, required by its page). */
export const AUDIT_CONTRIBUTORS = ['catalog', 'inventory', 'pricing', 'orders'] as const;

type Page = { page: string } & Partial<Record<`${(typeof AUDIT_CONTRIBUTORS)[number]}Records`, string | null>>;
const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * The audit log's resolvers for subgraph `name`: a contributor resolves `AuditLog.<name>Records`
 * (its own records of the page, as JSON); the owner resolves `Query.auditLog` (the checked query
 * becomes the page's key) and the page's edges, merging its own records with the ones the gateway
 * fetched from the others (`@requires`), by time.
 */
export function auditResolvers(name: string, dataSource: DataSource): Record<string, Record<string, unknown>> {
  if (name !== AUDIT_LOG_OWNER) {
    return {
      AuditLog: {
        __resolveReference: (ref: Page) => ref,
        [`${name}Records`]: async (ref: Page, _args: unknown, ctx: CallerContext) => JSON.stringify(await readAuditRecords(dataSource, name, ctx, auditQueryOfKey(ref.page))),
      },
    };
  }
  const pages = new WeakMap<object, Promise<Connection<AuditRecord>>>();
  const merged = (ref: Page, ctx: CallerContext) => {
    let page = pages.get(ref);
    if (!page) {
      page = (async () => {
        const query = auditQueryOfKey(ref.page);
        const others = AUDIT_CONTRIBUTORS.map((other) => {
          const text = ref[`${other}Records`];
          if (typeof text !== 'string') throw appError('SERVICE_UNAVAILABLE', `The ${other} service's audit records are unavailable; try again.`, { service: other });
          return JSON.parse(text) as AuditRecord[];
        });
        return mergeAuditPages([await readAuditRecords(dataSource, name, ctx, query), ...others], query.first);
      })();
      pages.set(ref, page);
    }
    return page;
  };
  return {
    Query: {
      auditLog: (_parent: unknown, args: Parameters<typeof auditQueryOf>[0], ctx: CallerContext) => {
        requireRole(ctx, 'admin');
        requireTenant(ctx);
        return { page: auditPageKey(auditQueryOf(args)) };
      },
    },
    AuditLog: {
      __resolveReference: (ref: Page) => ref,
      edges: async (ref: Page, _args: unknown, ctx: CallerContext) => (await merged(ref, ctx)).edges,
      pageInfo: async (ref: Page, _args: unknown, ctx: CallerContext) => (await merged(ref, ctx)).pageInfo,
    },
    AuditRecord: { input: (record: AuditRecord) => json(record.input) },
    AuditChange: {
      before: (change: AuditRecord['changes'][number]) => json(change.before),
      after: (change: AuditRecord['changes'][number]) => json(change.after),
    },
  };
}

/** `base` with `extra`'s fields added type by type. */
export function withResolvers<R extends Record<string, unknown>>(base: R, extra: Record<string, Record<string, unknown>>): R {
  const out: Record<string, unknown> = { ...base };
  for (const [type, fields] of Object.entries(extra)) out[type] = { ...((base[type] as object | undefined) ?? {}), ...fields };
  return out as R;
}
