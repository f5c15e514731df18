import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import {
  buildSchema,
  isCompositeType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  operationFromDocument,
  possibleRuntimeTypes,
  type CompositeType,
  type FieldSelection,
  type Operation,
  type SelectionSet,
  type Type,
} from '@apollo/federation-internals';
import { parse } from 'graphql';
import { computeResponseCompiled } from '../../gateway/src/executor/shaping.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * Our compiled result shaping (gateway/src/executor/shaping.ts) must answer exactly as Apollo's
 * `computeResponse`: the same data, the same errors (message, path, code) in the same order, and
 * the same exception when Apollo's asserts throw. Inputs are random (seeded: a failure names its
 * seed) and mostly well-formed, with nulls where a non-null field is, missing fields, wrong leaf
 * values, unknown `__typename`s and abstract types answered by each of their types.
 */

const SDL = `
  scalar JSON
  enum Color { RED GREEN BLUE }
  interface Node { id: ID! }
  interface Priced { price: Float }
  type Product implements Node & Priced { id: ID! name: String! price: Float count: Int tags: [String!] color: Color meta: JSON related: [Product] reviews: [Review!]! owner: User }
  type Review implements Node { id: ID! body: String rating: Int! author: User! product: Product }
  type User implements Node { id: ID! name: String admin: Boolean! friends: [[User!]] }
  type Bundle implements Priced { price: Float items: [Product!] }
  union SearchResult = Product | Review | User
  type Query {
    product(id: ID!): Product
    products: [Product!]!
    node(id: ID!): Node
    nodes: [Node]
    search: [SearchResult!]
    priced: [Priced!]!
    me: User!
  }
`;

const QUERIES: { query: string; variables?: Record<string, unknown>[] }[] = [
  { query: '{ products { id name price count tags color meta } }' },
  { query: '{ p: product(id: "1") { __typename id title: name reviews { rating body author { id name admin } } related { id name } } }' },
  { query: '{ node(id: "1") { __typename id ... on Product { name price } ... on User { name admin friends { id name } } } }' },
  { query: '{ nodes { id ... on Review { rating product { id price } } ...N } } fragment N on Node { id ... on User { name } }' },
  { query: '{ search { __typename ... on Product { id name } ... on Review { id rating } ... on User { id admin } } }' },
  { query: '{ priced { price ... on Bundle { items { id name } } ... on Product { id reviews { id } } } }' },
  { query: '{ me { kind: __typename id name: id friends { id admin } } }' },
  // The same field through two fragments (merged into the same output), and a colliding alias.
  { query: '{ products { ...A ...B id: id } } fragment A on Product { id reviews { id rating } } fragment B on Product { reviews { body author { id } } name }' },
  {
    query: 'query Q($a: Boolean!, $b: Boolean = true) { products { id name @skip(if: $a) price @include(if: $b) ... on Product @include(if: $a) { count color } reviews @skip(if: false) { id } } }',
    variables: [{ a: true }, { a: false }, { a: false, b: false }, { a: true, b: true }],
  },
];

function inputFor(operation: Operation, rand: () => number): Record<string, unknown> {
  const schema = operation.schema();
  const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)]!;
  const leaf = (type: Type): unknown => {
    const roll = rand();
    if (roll < 0.04) return pick([1.5, 'text', true, 7, { x: 1 }, Infinity]);
    if (isEnumType(type)) return roll < 0.07 ? 'PURPLE' : pick(type.values.map((v) => v.name));
    switch (String(type)) {
      case 'ID':
        return roll < 0.5 ? String(Math.floor(rand() * 100)) : Math.floor(rand() * 100);
      case 'Int':
        return Math.floor(rand() * 10);
      case 'Float':
        return rand() * 10;
      case 'Boolean':
        return rand() < 0.5;
      case 'JSON':
        return { any: [1, 'two'] };
      default:
        return `s${Math.floor(rand() * 100)}`;
    }
  };
  const value = (type: Type, set: SelectionSet | undefined): unknown => {
    const roll = rand();
    if (roll < (isNonNullType(type) ? 0.03 : 0.1)) return null;
    if (isNonNullType(type)) return value(type.ofType, set);
    if (isListType(type)) return Array.from({ length: Math.floor(rand() * 4) }, () => value(type.ofType, set));
    if (isCompositeType(type)) return object(type, set!);
    return leaf(type);
  };
  const object = (type: CompositeType, set: SelectionSet): Record<string, unknown> => {
    const runtime = isObjectType(type) ? type : pick(possibleRuntimeTypes(type));
    const out: Record<string, unknown> = Object.create(null);
    const roll = rand();
    if (roll < 0.03) out.__typename = 'Unknown';
    else if (roll < 0.06) out.__typename = 'Color';
    else if (roll < 0.85) out.__typename = runtime.name;
    fill(out, runtime, set);
    return out;
  };
  const fill = (out: Record<string, unknown>, runtime: CompositeType, set: SelectionSet) => {
    for (const selection of set.selections()) {
      if (selection.kind === 'FieldSelection') {
        const field = (selection as FieldSelection).element;
        if (field.name === '__typename' || rand() < 0.03) continue;
        const name = field.responseName();
        const type = runtime.field?.(field.name)?.type ?? field.definition.type!;
        const existing = out[name];
        const made = value(type, selection.selectionSet);
        // A field asked twice (through two fragments): both answers in one object, as merged.
        out[name] = existing && made && typeof existing === 'object' && typeof made === 'object' && !Array.isArray(made) ? { ...existing, ...made } : (existing ?? made);
      } else {
        const condition = selection.element.typeCondition;
        if (!condition || condition.name === runtime.name || rand() < 0.3) fill(out, runtime, selection.selectionSet);
      }
    }
  };
  const root = schema.schemaDefinition.rootType('query')!;
  const input: Record<string, unknown> = Object.create(null);
  fill(input, root, operation.selectionSet);
  return input;
}

function outcome(run: () => { data: unknown; errors: unknown[] }) {
  try {
    const { data, errors } = run();
    return { data: JSON.parse(JSON.stringify(data ?? null)), errors: (errors as { message: string; path?: unknown; extensions?: unknown }[]).map((e) => ({ message: e.message, path: e.path, code: (e.extensions as { code?: string })?.code })) };
  } catch (error) {
    return { threw: (error as Error).message };
  }
}

describe('compiled result shaping', () => {
  const schema = buildSchema(SDL);
  const introspectionHandling = (field: FieldSelection) => ({ asked: field.element.responseName() });

  it('answers exactly as Apollo computeResponse on 200 seeded inputs per operation', () => {
    let compared = 0;
    let withErrors = 0;
    for (const [index, { query, variables }] of QUERIES.entries()) {
      const operation = operationFromDocument(schema, parse(query), { validate: true });
      for (let seed = 1; seed <= 200; seed++) {
        const rand = seededRandom(seed * 1000 + index);
        const input = inputFor(operation, rand);
        const vars = variables ? variables[seed % variables.length] : undefined;
        // Each shaping writes into its own copy (Apollo's does not modify its input, neither may ours).
        const before = JSON.stringify(input);
        const apollo = outcome(() => computeResponse({ operation, variables: vars, input: structuredClone(input), introspectionHandling }));
        const ours = outcome(() => computeResponseCompiled({ operation, variables: vars, input, introspectionHandling }));
        expect({ query, seed, ...ours }).toEqual({ query, seed, ...apollo });
        expect(JSON.stringify(input)).toBe(before);
        compared++;
        if (apollo.errors && apollo.errors.length > 0) withErrors++;
      }
    }
    // The inputs reach the error paths, not only the happy one.
    expect(withErrors).toBeGreaterThan(compared / 5);
    expect(withErrors).toBeLessThan(compared);
  });

  it('answers introspection through the caller and an empty input as Apollo does', () => {
    const operation = operationFromDocument(schema, parse('{ __schema { queryType { name } } me { id } }'), { validate: true });
    const input = { me: { id: '1' } };
    expect(outcome(() => computeResponseCompiled({ operation, variables: {}, input, introspectionHandling }))).toEqual(
      outcome(() => computeResponse({ operation, variables: {}, input, introspectionHandling })),
    );
    expect(computeResponseCompiled({ operation, variables: {}, input: null, introspectionHandling })).toEqual({ data: null, errors: [] });
  });
});
