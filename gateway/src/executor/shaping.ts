import {
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isSubtype,
  typenameFieldName,
  Variable,
  type CompositeType,
  type FieldSelection,
  type NamedType,
  type Operation,
  type Schema,
  type Selection,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';

// Bound once: bundled (scripts/launch.cjs), each use of an imported binding is a getter call, and
// these are read for every value of every request.
const TYPENAME: string = typenameFieldName;
const isComposite = isCompositeType;

/**
 * Apollo's result shaping (`computeResponse` of `@apollo/gateway/dist/resultShaping`), compiled
 * once per operation: the same walk of the merged subgraph results against the client's
 * operation (nullability propagated, aliases, `__typename`, `@skip`/`@include`, leaf values
 * checked, introspection answered by the caller) with the same data and the same errors in the
 * same order, but without what Apollo's walk recomputes for every value of every request: the
 * directives looked up on each selection, the schema's type lookups and subtype tests, the
 * leaf checks through the schema, an object allocated per value to return three results.
 * `test/unit/result-shaping.test.ts` checks it equals Apollo's on seeded random inputs.
 */

/** Apollo's `computeResponse` signature. */
export interface ShapeInput {
  operation: Operation;
  variables: Record<string, unknown> | undefined;
  input: Record<string, unknown> | null | undefined;
  introspectionHandling: (field: FieldSelection) => unknown;
}

type Condition = { skip: boolean; variable?: string; value?: boolean; text: string };

type Shape =
  | { kind: 'nonNull'; of: Shape; named: Type }
  | { kind: 'list'; of: Shape; type: Type }
  | { kind: 'composite'; type: Type }
  | { kind: 'leaf'; type: Type; valid: (value: unknown) => boolean };

type Compiled =
  | { kind: 'field'; conditions?: Condition[]; responseName: string; introspection?: FieldSelection; typename: boolean; shape: Shape; sub?: Compiled[] }
  | { kind: 'fragment'; conditions?: Condition[]; typeCondition?: CompositeType; applies: Map<unknown, boolean>; sub: Compiled[] };

interface Context {
  schema: Schema;
  variableValues: () => Record<string, unknown>;
  errors: GraphQLError[];
  introspectionHandling: (field: FieldSelection) => unknown;
  /** The two other results of `update` (Apollo returns them in an object per value). */
  invalid: boolean;
  hasErrors: boolean;
}

const BUBBLE = 1;
const OK = 0;
const integer = /^-?(?:0|[1-9][0-9]*)$/;

const compiledOperations = new WeakMap<Operation, { root: Compiled[]; rootType: CompositeType }>();

function assert(condition: unknown, message: () => string): asserts condition {
  if (!condition) throw new Error(message());
}

const getOwn = (object: object, key: string): unknown => (Object.prototype.hasOwnProperty.call(object, key) ? (object as Record<string, unknown>)[key] : undefined);

/** Same as Apollo's `computeResponse`; the operation's compiled form is kept with it. */
export function computeResponseCompiled({ operation, variables, input, introspectionHandling }: ShapeInput): { data: Record<string, unknown> | null | undefined; errors: GraphQLError[] } {
  if (!input) return { data: input, errors: [] };
  let compiled = compiledOperations.get(operation);
  if (!compiled) compiledOperations.set(operation, (compiled = compileOperation(operation)));
  const schema = operation.schema();
  let merged: Record<string, unknown> | null = null;
  const context: Context = {
    schema,
    variableValues: () => (merged ??= { __proto__: null, ...operation.collectDefaultedVariableValues(), ...variables } as Record<string, unknown>),
    errors: [],
    introspectionHandling,
    invalid: false,
    hasErrors: false,
  };
  const data = Object.create(null) as Record<string, unknown>;
  const result = applySelections(context, input, compiled.root, data, [], compiled.rootType);
  return { data: result === BUBBLE ? null : data, errors: context.errors };
}

function compileOperation(operation: Operation) {
  const schema = operation.schema();
  const leafChecks = new Map<NamedType, (value: unknown) => boolean>();
  const root = compileSet(schema, operation.selectionSet, leafChecks);
  return { root, rootType: schema.schemaDefinition.rootType(operation.rootKind)! as CompositeType };
}

function compileSet(schema: Schema, set: SelectionSet, leafChecks: Map<NamedType, (value: unknown) => boolean>): Compiled[] {
  const out: Compiled[] = [];
  for (const selection of set.selections()) {
    const conditions = conditionsOf(schema, selection.element);
    if (selection.kind === 'FieldSelection') {
      const field = selection.element;
      out.push({
        kind: 'field',
        conditions,
        responseName: field.responseName(),
        introspection: field.definition.isSchemaIntrospectionField() ? selection : undefined,
        typename: field.name === typenameFieldName,
        shape: shapeOf(schema, field.definition.type!, leafChecks),
        sub: selection.selectionSet ? compileSet(schema, selection.selectionSet, leafChecks) : undefined,
      });
    } else {
      out.push({
        kind: 'fragment',
        conditions,
        typeCondition: selection.element.typeCondition,
        applies: new Map(),
        sub: compileSet(schema, selection.selectionSet, leafChecks),
      });
    }
  }
  return out;
}

function conditionsOf(schema: Schema, element: Selection['element']): Condition[] | undefined {
  const conditions: Condition[] = [];
  for (const [skip, directive] of [
    [true, element.appliedDirectivesOf(schema.skipDirective())[0]],
    [false, element.appliedDirectivesOf(schema.includeDirective())[0]],
  ] as const) {
    if (!directive) continue;
    const value = (directive.arguments() as { if: unknown }).if;
    conditions.push(value instanceof Variable ? { skip, variable: value.name, text: String(directive) } : { skip, value: value as boolean, text: String(directive) });
  }
  return conditions.length > 0 ? conditions : undefined;
}

function shapeOf(schema: Schema, type: Type, leafChecks: Map<NamedType, (value: unknown) => boolean>): Shape {
  if (isNonNullType(type)) return { kind: 'nonNull', of: shapeOf(schema, type.ofType, leafChecks), named: type.ofType };
  if (isListType(type)) return { kind: 'list', of: shapeOf(schema, type.ofType, leafChecks), type };
  if (isCompositeType(type)) return { kind: 'composite', type };
  let valid = leafChecks.get(type as NamedType);
  if (!valid) leafChecks.set(type as NamedType, (valid = leafCheck(schema, type)));
  return { kind: 'leaf', type, valid };
}

/** `isValidLeafValue` of federation-internals for one type, decided once. */
function leafCheck(schema: Schema, type: Type): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  const isBoolean = type === schema.booleanType();
  const isIntOrId = type === schema.intType() || type === schema.idType();
  const isFloat = type === schema.floatType();
  const enumValues = isEnumType(type) ? new Set(type.values.map((v) => v.name)) : null;
  const stringOk = !isBoolean && type !== schema.intType() && !isFloat;
  return (value) => {
    if (typeof value === 'boolean') return isBoolean;
    if (typeof value === 'number' && isFinite(value)) return isIntOrId ? integer.test(String(value)) : isFloat;
    if (typeof value === 'string') return enumValues ? enumValues.has(value) : stringOk;
    return false;
  };
}

function skipped(context: Context, conditions: Condition[]): boolean {
  // Apollo's order: @skip's condition first, @include's only when @skip does not skip.
  for (const condition of conditions) {
    let value = condition.value;
    if (condition.variable !== undefined) {
      const given = context.variableValues()[condition.variable];
      assert(given !== undefined && typeof given === 'boolean', () => `Unexpected value ${given} for variable $${condition.variable} of ${condition.text}`);
      value = given;
    }
    if (condition.skip ? value : !value) return true;
  }
  return false;
}

function typeConditionApplies(context: Context, fragment: Extract<Compiled, { kind: 'fragment' }>, typename: unknown, parentType: CompositeType): boolean {
  const condition = fragment.typeCondition;
  if (!condition) return true;
  const key = typename ? typename : parentType;
  let applies = fragment.applies.get(key);
  if (applies === undefined) {
    if (typename) {
      const type = context.schema.type(typename as string);
      applies = !!type && isSubtype(condition, type);
    } else applies = isSubtype(condition, parentType);
    fragment.applies.set(key, applies);
  }
  return applies;
}

function applySelections(context: Context, input: Record<string, unknown>, selections: Compiled[], output: Record<string, unknown>, path: (string | number)[], parentType: CompositeType): number {
  for (const selection of selections) {
    if (selection.conditions && skipped(context, selection.conditions)) continue;
    if (selection.kind === 'field') {
      const { responseName } = selection;
      const outputValue = output[responseName];
      if (selection.introspection) {
        if (outputValue === undefined) output[responseName] = context.introspectionHandling(selection.introspection);
        continue;
      }
      let inputValue = getOwn(input, responseName) ?? null;
      if (selection.typename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== TYPENAME) inputValue = input[TYPENAME] ?? null;
          const type = inputValue !== null && typeof inputValue === 'string' ? (context.schema.type(inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) return BUBBLE;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      const updated = update(context, outputValue, selection.shape, inputValue, selection.sub, path, parentType);
      output[responseName] = updated;
      path.pop();
      if (context.invalid) return BUBBLE;
    } else {
      const typename = input[TYPENAME];
      assert(!typename || typeof typename === 'string', () => `Got unexpected value for __typename: ${typename}`);
      if (typeConditionApplies(context, selection, typename, parentType)) {
        if (applySelections(context, input, selection.sub, output, path, selection.typeCondition ?? parentType) === BUBBLE) return BUBBLE;
      }
    }
  }
  return OK;
}

function describeLast(path: (string | number)[], currentType: Type, parentType: CompositeType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, () => 'Should not have been called on an empty path');
  return typeof element === 'string' ? `field ${parentType}.${element}` : `array element of type ${currentType} at index ${element}`;
}

/** Apollo's `updateOutputValue`: returns `updated`, leaves `isInvalid` and `hasErrors` in the context. */
function update(context: Context, outputValue: unknown, shape: Shape, inputValue: unknown, sub: Compiled[] | undefined, path: (string | number)[], parentType: CompositeType): unknown {
  assert(inputValue !== undefined, () => 'Should not pass undefined for `inputValue` to this method');
  if (outputValue === null || (outputValue !== undefined && !sub)) {
    context.invalid = context.hasErrors = false;
    return outputValue;
  }
  switch (shape.kind) {
    case 'nonNull': {
      const updated = update(context, outputValue, shape.of, inputValue, sub, path, parentType);
      if (updated === null) {
        if (!context.hasErrors)
          context.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, shape.named, parentType)}.`, { path: Array.from(path) }));
        context.invalid = context.hasErrors = true;
        return updated;
      }
      context.invalid = context.hasErrors = false;
      return updated;
    }
    case 'list': {
      if (inputValue === null) break;
      assert(Array.isArray(inputValue), () => `Invalid non-list value ${inputValue} returned by subgraph for list type ${shape.type}`);
      assert(outputValue === undefined || Array.isArray(outputValue), () => `Invalid non-list value ${outputValue} returned by subgraph for list type ${shape.type}`);
      const length = inputValue.length;
      const outputList = outputValue as unknown[] | undefined;
      assert(outputList === undefined || length === outputList.length, () => `[${inputValue}].length (${length}) !== [${outputList}].length (${outputList!.length})`);
      let shouldNullify = false;
      let hasErrors = false;
      const updated = new Array<unknown>(length);
      for (let i = 0; i < length; i++) {
        path.push(i);
        updated[i] = update(context, outputList === undefined ? undefined : outputList[i], shape.of, inputValue[i], sub, path, parentType);
        path.pop();
        shouldNullify ||= context.invalid;
        hasErrors ||= context.hasErrors;
      }
      context.invalid = false;
      context.hasErrors = hasErrors;
      return shouldNullify ? null : updated;
    }
    case 'composite': {
      if (inputValue === null) break;
      assert(sub, () => `Invalid empty selection set for composite type ${shape.type}`);
      assert(typeof inputValue === 'object', () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.type}`);
      assert(outputValue === undefined || typeof outputValue === 'object', () => `Invalid non-object value ${inputValue} returned by subgraph for composite type ${shape.type}`);
      const inputTypename = (inputValue as Record<string, unknown>)[TYPENAME];
      assert(inputTypename === undefined || typeof inputTypename === 'string', () => `Invalid non-string value ${inputTypename} for __typename at ${path}`);
      let objectType = shape.type as CompositeType;
      if (inputTypename) {
        const typenameType = context.schema.type(inputTypename);
        if (!typenameType || !isComposite(typenameType)) {
          context.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, shape.type, parentType)}.`, { path: Array.from(path) }));
          context.invalid = false;
          context.hasErrors = true;
          return null;
        }
        objectType = typenameType;
      }
      const object = (outputValue === undefined ? Object.create(null) : outputValue) as Record<string, unknown>;
      const bubbled = applySelections(context, inputValue as Record<string, unknown>, sub, object, path, objectType) === BUBBLE;
      context.invalid = false;
      context.hasErrors = bubbled;
      return bubbled ? null : object;
    }
    case 'leaf': {
      if (inputValue === null) break;
      assert(outputValue === undefined, () => `Excepted output to be undefined but got ${shape.type} for type ${shape.type}`);
      const valid = shape.valid(inputValue);
      if (!valid) context.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, shape.type, parentType)}.`, { path: Array.from(path) }));
      context.invalid = false;
      context.hasErrors = !valid;
      return valid ? inputValue : null;
    }
  }
  // inputValue === null (for any nullable type)
  context.invalid = context.hasErrors = false;
  return null;
}
