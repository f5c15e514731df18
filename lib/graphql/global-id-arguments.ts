import { getNamedType, isInputObjectType, isListType, isNonNullType, type GraphQLInputType, type GraphQLResolveInfo } from 'graphql';
import { rowIdOf } from './global-id.js';

type Resolver = (parent: unknown, args: Record<string, unknown>, ctx: unknown, info: GraphQLResolveInfo) => unknown;

/** `value` of `type` with every `ID` in it read by `rowIdOf` (lists and input objects walked). */
function normalize(value: unknown, type: GraphQLInputType): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return normalize(value, type.ofType);
  if (isListType(type)) return Array.isArray(value) ? value.map((item) => normalize(item, type.ofType)) : normalize(value, type.ofType);
  if (isInputObjectType(type)) {
    const fields = type.getFields();
    const out: Record<string, unknown> = {};
    for (const [name, fieldValue] of Object.entries(value as Record<string, unknown>)) out[name] = fields[name] ? normalize(fieldValue, fields[name].type) : fieldValue;
    return out;
  }
  return getNamedType(type).name === 'ID' && typeof value === 'string' ? rowIdOf(value) : value;
}

const wrap = (resolve: Resolver): Resolver => (parent, args, ctx, info) => {
  const field = info.parentType.getFields()[info.fieldName];
  const normalized: Record<string, unknown> = { ...args };
  for (const arg of field?.args ?? []) if (arg.name in args) normalized[arg.name] = normalize(args[arg.name], arg.type);
  return resolve(parent, normalized, ctx, info);
};

/**
 * Every `ID` argument of the root fields takes a `Node` id where it took a UUID (decision 0026):
 * `cart(id:)`, `addCartLines(cartId:)`, `priceList(id:)` and the rest read `base64url("Cart:<uuid>")`
 * as the UUID, so the ids the objects now answer work wherever their old UUIDs did, and the old
 * UUIDs keep working. Subscriptions' `subscribe` is wrapped as well; `node`/`nodes` are not.
 */
export function acceptGlobalIdArguments<R extends Record<string, unknown>>(resolvers: R): R {
  const out: Record<string, unknown> = { ...resolvers };
  for (const root of ['Query', 'Mutation', 'Subscription']) {
    const fields = resolvers[root] as Record<string, Resolver | { subscribe?: Resolver; resolve?: Resolver }> | undefined;
    if (!fields) continue;
    const wrapped: Record<string, unknown> = {};
    for (const [name, definition] of Object.entries(fields)) {
      // node(id:) reads the type from the id itself.
      if (root === 'Query' && (name === 'node' || name === 'nodes')) wrapped[name] = definition;
      else if (typeof definition === 'function') wrapped[name] = wrap(definition);
      else wrapped[name] = { ...definition, ...(definition.subscribe ? { subscribe: wrap(definition.subscribe) } : {}), ...(definition.resolve ? { resolve: wrap(definition.resolve) } : {}) };
    }
    out[root] = wrapped;
  }
  return out as R;
}
