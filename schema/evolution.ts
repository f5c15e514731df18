import { Supergraph } from '@apollo/federation-internals';
import { ChangeType, CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { GraphQLEnumType, GraphQLInputObjectType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';
import { extractScopes } from '../gateway/src/auth/scopes.js';

/** The schema clients query (the supergraph's API schema: no join or link machinery). */
export function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(extractScopes(supergraphSdl).sdl).apiSchema().toGraphQLJSSchema();
}

export interface Evolution {
  /** Every change from the release to now, as GraphQL Inspector names it. */
  changes: Change[];
  /** The breaking ones a client was not warned of: removals of what was not deprecated, type changes, new required inputs. */
  refused: Change[];
}

/**
 * What changed from a released schema, and which changes break clients without warning. A
 * removal is allowed when the removed element was already deprecated in the release (clients had
 * a release's time to move off it); every other breaking change is refused.
 */
export async function evolution(released: GraphQLSchema, next: GraphQLSchema): Promise<Evolution> {
  const changes = await diff(released, next);
  const refused = changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking && !deprecatedIn(released, change));
  return { changes, refused };
}

function deprecatedIn(schema: GraphQLSchema, change: Change): boolean {
  const meta = change.meta as Record<string, string>;
  switch (change.type) {
    case ChangeType.FieldRemoved: {
      const type = schema.getType(meta.typeName!);
      return (isObjectType(type) || isInterfaceType(type)) && Boolean(type.getFields()[meta.removedFieldName!]?.deprecationReason);
    }
    case ChangeType.EnumValueRemoved: {
      const type = schema.getType(meta.enumName!);
      return type instanceof GraphQLEnumType && Boolean(type.getValue(meta.removedEnumValueName!)?.deprecationReason);
    }
    case ChangeType.InputFieldRemoved: {
      const type = schema.getType(meta.inputName!);
      return type instanceof GraphQLInputObjectType && Boolean(type.getFields()[meta.removedFieldName!]?.deprecationReason);
    }
    case ChangeType.FieldArgumentRemoved: {
      const type = schema.getType(meta.typeName!);
      const field = isObjectType(type) || isInterfaceType(type) ? type.getFields()[meta.fieldName!] : undefined;
      return Boolean(field?.args.find((arg) => arg.name === meta.removedFieldArgumentName)?.deprecationReason);
    }
    default:
      return false;
  }
}
