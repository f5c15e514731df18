import {
  TypeInfo,
  getNamedType,
  getNullableType,
  getOperationAST,
  isInputObjectType,
  isListType,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { REDACTED } from './logger.js';

/**
 * What the schema says is secret: input fields and arguments marked `@sensitive` in a subgraph
 * SDL (composed into the supergraph with `@composeDirective`), as coordinates:
 * `Input.field` and `Type.field(argument:)`.
 */
export function sensitiveCoordinates(sdl: DocumentNode): ReadonlySet<string> {
  const found = new Set<string>();
  const marked = (node: { directives?: readonly { name: { value: string } }[] }) => node.directives?.some((d) => d.name.value === 'sensitive') ?? false;
  for (const definition of sdl.definitions) {
    if (!('fields' in definition) || !definition.fields) continue;
    const type = definition.name.value;
    for (const field of definition.fields) {
      if (marked(field)) found.add(`${type}.${field.name.value}`);
      if ('arguments' in field) for (const argument of field.arguments ?? []) if (marked(argument)) found.add(`${type}.${field.name.value}(${argument.name.value}:)`);
    }
  }
  return found;
}

/** Parsed documents are cached and reused by yoga: walk each one once per schema. */
const walked = new WeakMap<DocumentNode, { schema: GraphQLSchema; names: ReadonlySet<string> }>();

/** Variables the document passes, directly or inside a literal, to a sensitive argument or input field. */
function variablesPassedToSensitive(schema: GraphQLSchema, sensitive: ReadonlySet<string>, document: DocumentNode): ReadonlySet<string> {
  const cached = walked.get(document);
  if (cached?.schema === schema) return cached.names;
  const names = new Set<string>();
  const collect = (node: ASTNode) =>
    visit(node, {
      Variable(variable) {
        names.add(variable.name.value);
      },
    });
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const field = typeInfo.getFieldDef();
        const parent = typeInfo.getParentType();
        if (field && parent && sensitive.has(`${parent.name}.${field.name}(${node.name.value}:)`)) collect(node.value);
      },
      ObjectField(node) {
        const parent = typeInfo.getParentInputType();
        if (parent && sensitive.has(`${getNamedType(parent).name}.${node.name.value}`)) collect(node.value);
      },
    }),
  );
  walked.set(document, { schema, names });
  return names;
}

/**
 * `variables` with every value that reaches a sensitive input field or argument replaced by
 * `[Redacted]`, at any depth: inside input objects and lists by the variable's declared type,
 * and a whole variable wherever the operation (its fragments included) passes it to a sensitive
 * place, however deep in a literal. Unknown or unparsable operations keep their variables.
 */
export function redactVariables(
  schema: GraphQLSchema,
  sensitive: ReadonlySet<string>,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): Record<string, unknown> | null | undefined {
  if (!variables || sensitive.size === 0) return variables;
  const operation = getOperationAST(document, operationName);
  if (!operation?.variableDefinitions?.length) return variables;

  const whole = variablesPassedToSensitive(schema, sensitive, document);

  const redact = (value: unknown, type: GraphQLInputType): unknown => {
    const nullable = getNullableType(type);
    if (value === null || value === undefined) return value;
    if (isListType(nullable)) return Array.isArray(value) ? value.map((item) => redact(item, nullable.ofType)) : redact(value, nullable.ofType);
    if (!isInputObjectType(nullable) || typeof value !== 'object' || Array.isArray(value)) return value;
    const fields = nullable.getFields();
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, inner]) => {
        const field = fields[key];
        if (!field) return [key, inner];
        return [key, sensitive.has(`${nullable.name}.${key}`) ? REDACTED : redact(inner, field.type)];
      }),
    );
  };

  const out: Record<string, unknown> = { ...variables };
  for (const definition of operation.variableDefinitions) {
    const name = definition.variable.name.value;
    if (!(name in out)) continue;
    if (whole.has(name)) {
      out[name] = REDACTED;
      continue;
    }
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    if (type) out[name] = redact(out[name], type);
  }
  return out;
}
