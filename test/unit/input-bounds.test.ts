import { buildSchema, parse } from 'graphql';
import { checkInputBounds } from '../../lib/graphql/check-input-bounds.js';

// The coordinates of lib/input-bounds.ts's table, on a schema of their own.
const schema = buildSchema(`
  input OrderLineInput { sku: ID! quantity: Int! }
  input PlaceOrderInput { storeId: ID! lines: [OrderLineInput!]! idempotencyKey: String }
  input AdjustStockInput { sku: ID! delta: Int! reason: String }
  type Query { products(first: Int, query: String): [String] variant(sku: ID!): String }
  type Mutation { placeOrder(input: PlaceOrderInput!): String adjustStock(input: AdjustStockInput!): String }
`);

const check = (query: string, variables: Record<string, unknown> = {}, operationName?: string) => {
  const error = checkInputBounds(schema, parse(query), operationName, variables);
  return error ? { message: error.message, extensions: error.extensions } : undefined;
};

describe('checkInputBounds', () => {
  it('finds a NUL or an over-long string in variables, inline literals, nested inputs and lists', () => {
    const line = (sku: string) => ({ input: { storeId: 's', lines: [{ sku: 'A', quantity: 1 }, { sku, quantity: 1 }] } });
    const place = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) }';
    expect(check(place, line('A\u0000'))).toEqual({
      message: 'OrderLineInput.sku contains a NUL character (U+0000), which is not allowed',
      extensions: { code: 'BAD_USER_INPUT', field: 'OrderLineInput.sku' },
    });
    expect(check(place, line('x'.repeat(256)))?.message).toBe('OrderLineInput.sku is longer than 255 characters');
    expect(check(place, line('x'.repeat(255)))).toBeUndefined();
    expect(check('{ variant(sku: "a\\u0000") }')?.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'Query.variant(sku:)' });
    expect(check('mutation ($s: ID!) { placeOrder(input: { storeId: "s", lines: [{ sku: $s, quantity: 1 }] }) }', { s: '\u0000' })?.extensions?.field).toBe('OrderLineInput.sku');
    expect(check('query Q($q: String) { ...F } fragment F on Query { products(query: $q) }', { q: 'q'.repeat(300) })?.extensions?.field).toBe('Query.products(query:)');
  });

  it('holds lists to their length and Ints to their range, with the exceptions of the table', () => {
    const lines = (n: number) => ({ input: { storeId: 's', lines: Array.from({ length: n }, (_, i) => ({ sku: `S${i}`, quantity: 1 })) } });
    const place = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) }';
    expect(check(place, lines(100))).toBeUndefined();
    expect(check(place, lines(101))?.message).toBe('PlaceOrderInput.lines has more than 100 items');
    expect(check('mutation { adjustStock(input: { sku: "A", delta: -1000001 }) }')?.message).toBe('AdjustStockInput.delta must be between -1000000 and 1000000');
    expect(check('mutation { adjustStock(input: { sku: "A", delta: -1000000, reason: "' + 'r'.repeat(500) + '" }) }')).toBeUndefined();
    expect(check('mutation { adjustStock(input: { sku: "A", delta: 1, reason: "' + 'r'.repeat(501) + '" }) }')?.message).toBe('AdjustStockInput.reason is longer than 500 characters');
    expect(check('{ products(first: 101) }')?.message).toBe('Query.products(first:) must be between 1 and 100');
  });

  it('leaves invalid operations and variables to execution, and checks only the operation named', () => {
    expect(check('query ($n: Int) { products(first: $n) }', { n: 'x' })).toBeUndefined();
    expect(check('query A { products(first: 500) } query B { products(first: 5) }', {}, 'B')).toBeUndefined();
    expect(check('query A { products(first: 500) } query B { products(first: 5) }', {}, 'A')?.extensions?.field).toBe('Query.products(first:)');
  });
});
