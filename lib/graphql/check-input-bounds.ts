import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  isInputObjectType,
  isListType,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type OperationDefinitionNode,
  type GraphQLError,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { checkInt, checkItems, checkText, intRangeOf, maxItemsOf, maxLengthOf } from '../input-bounds.js';

/**
 * Walks every argument of the operation — inline or from variables, down through input objects
 * and lists — against the bounds of `lib/input-bounds.ts`. Returns the first BAD_USER_INPUT, or
 * undefined when everything fits (or the operation is invalid: execution reports that itself).
 */
export function checkInputBounds(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  rawVariables: Record<string, unknown> | null | undefined,
): GraphQLError | undefined {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return undefined;
  const sites = argumentSites(schema, document, operation);
  if (sites.length === 0) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (coerced.errors) return undefined;
  for (const { field, node, parent } of sites) {
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(field, node, coerced.coerced);
    } catch {
      continue; // reported by execution
    }
    for (const arg of field.args) {
      const found = checkValue(values[arg.name], arg.type, `${parent}.${field.name}(${arg.name}:)`);
      if (found) return found;
    }
  }
  return undefined;
}

/** A field of the operation that takes arguments, in the order the walk meets it. */
interface ArgumentSite {
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  parent: string;
}

/**
 * The fields with arguments of an operation and its fragments: what the walk with the schema's
 * types finds depends on the document alone, so it is done once per schema, document and
 * operation (the parser's cache gives a repeated query the same document); only the values,
 * which depend on the variables, are checked per request.
 */
const sitesBySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<OperationDefinitionNode, ArgumentSite[]>>>();

function argumentSites(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): ArgumentSite[] {
  let byDocument = sitesBySchema.get(schema);
  if (!byDocument) sitesBySchema.set(schema, (byDocument = new WeakMap()));
  let byOperation = byDocument.get(document);
  if (!byOperation) byDocument.set(document, (byOperation = new Map()));
  let sites = byOperation.get(operation);
  if (sites) return sites;
  sites = [];
  const found = sites;
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  const typeInfo = new TypeInfo(schema);
  visit(
    { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] },
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (!field || !parent || field.args.length === 0) return;
        found.push({ field, node, parent: parent.name });
      },
    }),
  );
  byOperation.set(operation, sites);
  return sites;
}

function checkValue(value: unknown, type: GraphQLInputType, coordinate: string): GraphQLError | undefined {
  if (value === null || value === undefined) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkValue(value, nullable.ofType, coordinate);
    const tooMany = checkItems(value, coordinate, maxItemsOf(coordinate));
    if (tooMany) return tooMany;
    for (const item of value) {
      const error = checkValue(item, nullable.ofType, coordinate);
      if (error) return error;
    }
    return undefined;
  }
  if (isInputObjectType(nullable)) {
    for (const field of Object.values(nullable.getFields())) {
      const error = checkValue((value as Record<string, unknown>)[field.name], field.type, `${nullable.name}.${field.name}`);
      if (error) return error;
    }
    return undefined;
  }
  if (typeof value === 'string') return checkText(value, coordinate, maxLengthOf(coordinate));
  if (typeof value === 'number' && getNamedType(type).name === 'Int') return checkInt(value, coordinate, intRangeOf(coordinate));
  return undefined;
}
