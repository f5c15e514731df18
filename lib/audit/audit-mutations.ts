import type { GraphQLResolveInfo, GraphQLInputType } from 'graphql';
import { getNullableType, isInputObjectType, isListType } from 'graphql';
import type { DataSource } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../db/data-source.js';
import type { CallerContext } from '../tenant/signed-context.js';
import { newAuditScope, runInAuditScope, type AuditScope } from './audit-scope.js';

const REDACTED = '[redacted]';
/** Argument and input field names that carry secrets, besides those the SDL marks `@sensitive`. */
const SECRET_NAME = /secret|password|token|credential|signature|private|apikey|keyhash|^key$/i;
/** Names whose values are the ids a mutation acts on. */
const TARGET_NAME = /^(id|ids|sku|skus|handle)$|Ids?$/;
const MAX_TARGETS = 20;
const MAX_STRING = 200;
const MAX_ITEMS = 20;
const MAX_INPUT_JSON = 4_000;

/** Who the record names: the actor the gateway signed, else the role the caller came with. */
export function actorOf(ctx: CallerContext): string {
  return ctx.actor ?? (ctx.roles.includes('gateway') ? 'gateway' : 'anonymous');
}

/** Where a write came from: a webhook (its source), a feed upload, or the API. */
const sourceOf = (actor: string, route: boolean) => (actor.startsWith('webhook:') ? actor : route ? 'feed' : 'api');

/**
 * The input as the record keeps it: secrets (by `@sensitive` in the SDL, or by name) replaced,
 * long strings and lists cut, the whole at most a few kilobytes.
 */
export function redactInput(args: Record<string, unknown>, argTypes: ReadonlyMap<string, GraphQLInputType>, sensitive: ReadonlySet<string>, coordinate: string): unknown {
  const redact = (value: unknown, type: GraphQLInputType | undefined): unknown => {
    if (value === null || value === undefined) return value;
    const nullable = type ? getNullableType(type) : undefined;
    if (Array.isArray(value)) {
      const of = nullable && isListType(nullable) ? (nullable.ofType as GraphQLInputType) : undefined;
      const items = value.slice(0, MAX_ITEMS).map((item) => redact(item, of));
      return value.length > MAX_ITEMS ? [...items, `… ${value.length - MAX_ITEMS} more`] : items;
    }
    if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
    if (typeof value !== 'object') return value;
    const fields = nullable && isInputObjectType(nullable) ? nullable.getFields() : undefined;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => {
        const secret = SECRET_NAME.test(key) || (nullable && isInputObjectType(nullable) && sensitive.has(`${nullable.name}.${key}`));
        return [key, secret ? REDACTED : redact(inner, fields?.[key]?.type)];
      }),
    );
  };
  const out = Object.fromEntries(
    Object.entries(args).map(([name, value]) => [name, SECRET_NAME.test(name) || sensitive.has(`${coordinate}(${name}:)`) ? REDACTED : redact(value, argTypes.get(name))]),
  );
  const json = JSON.stringify(out);
  return json.length > MAX_INPUT_JSON ? { truncated: `${json.length} bytes`, keys: Object.keys(out) } : out;
}

/** The ids an input names (`id`, `…Id`, `…Ids`, `sku`, …), at any depth, at most 20. */
export function targetIdsOf(args: unknown): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, name: string | undefined, depth: number) => {
    if (found.size >= MAX_TARGETS || depth > 4 || value === null || value === undefined) return;
    if (Array.isArray(value)) return value.slice(0, MAX_TARGETS).forEach((item) => walk(item, name, depth + 1));
    if (typeof value === 'object') return Object.entries(value as Record<string, unknown>).forEach(([key, inner]) => walk(inner, key, depth + 1));
    if (name && TARGET_NAME.test(name) && (typeof value === 'string' || typeof value === 'number')) found.add(String(value));
  };
  walk(args, undefined, 0);
  return [...found];
}

type Resolver = (parent: unknown, args: Record<string, unknown>, ctx: CallerContext, info: GraphQLResolveInfo) => unknown;

/**
 * `resolvers` with every Mutation field run in an audit scope: the transactions it opens on
 * `dataSource` set the record's id (the capture trigger records the rows they write, before →
 * after) and the first to commit appends the record (who, role, tenant, operation, targets,
 * redacted input, request id, time). A mutation that ran no transaction gets its record in one
 * of its own after it succeeded. A failed mutation changed nothing and records nothing. Every
 * mutation, including the ones added later, is covered with no code of its own.
 */
export function auditMutations<R extends Record<string, unknown>>(resolvers: R, options: { dataSource: DataSource; sensitive: ReadonlySet<string> }): R {
  const mutation = resolvers.Mutation as Record<string, Resolver | { resolve: Resolver }> | undefined;
  if (!mutation) return resolvers;
  const wrapped: Record<string, Resolver> = {};
  for (const [field, definition] of Object.entries(mutation)) {
    const resolve = typeof definition === 'function' ? definition : definition.resolve;
    wrapped[field] = (parent, args, ctx, info) => {
      const fieldDef = info.parentType.getFields()[field];
      const argTypes = new Map((fieldDef?.args ?? []).map((a) => [a.name, a.type]));
      const actor = actorOf(ctx);
      const scope = newAuditScope({
        database: options.dataSource,
        requestId: ctx.requestId,
        actor,
        roles: ctx.roles.join(','),
        operation: field,
        source: sourceOf(actor, false),
        targetIds: targetIdsOf(args),
        input: redactInput(args, argTypes, options.sensitive, `Mutation.${field}`),
      });
      return runInAuditScope(scope, async () => {
        const result = await resolve(parent, args, ctx, info);
        await recordIfNotWritten(options.dataSource, scope, ctx);
        return result;
      });
    };
  }
  return { ...resolvers, Mutation: wrapped };
}

/** A write route (a feed upload) in an audit scope, as a mutation. */
export function auditRoute<T>(dataSource: DataSource, caller: CallerContext, path: string, work: () => Promise<T>): Promise<T> {
  const actor = actorOf(caller);
  const scope = newAuditScope({ database: dataSource, requestId: caller.requestId, actor, roles: caller.roles.join(','), operation: `POST ${path}`, source: sourceOf(actor, true), targetIds: [], input: undefined });
  return runInAuditScope(scope, async () => {
    const result = await work();
    await recordIfNotWritten(dataSource, scope, caller);
    return result;
  });
}

async function recordIfNotWritten(dataSource: DataSource, scope: AuditScope, ctx: CallerContext): Promise<void> {
  if (scope.written) return;
  // An empty transaction of the scope: its commit writes the record.
  const nothing = async () => undefined;
  await (ctx.tenantId ? inTenantTransaction(dataSource, ctx.tenantId, nothing) : inSystemTransaction(dataSource, nothing));
}
