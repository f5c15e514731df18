import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import type { GraphQLSchema } from 'graphql';
import type { ScopeRules } from './scopes.js';

/**
 * The schema as far as `roles` may use it: every field (and type) whose `@requiresScopes` the
 * roles do not satisfy is left out, then what nothing reaches any more. What `GET /schema.graphql`
 * gives a caller that is not a partner or staff.
 */
export function schemaForRoles(schema: GraphQLSchema, rules: ScopeRules, roles: readonly string[]): GraphQLSchema {
  const allowed = (sets: string[][] | undefined) => !sets || sets.some((set) => set.every((scope) => roles.includes(scope)));
  const visible = mapSchema(schema, {
    [MapperKind.OBJECT_TYPE]: (type) => (allowed(rules.get(type.name)) ? type : null),
    [MapperKind.OBJECT_FIELD]: (field, fieldName, typeName) => (allowed(rules.get(`${typeName}.${fieldName}`)) ? field : null),
  });
  return pruneSchema(visible);
}
