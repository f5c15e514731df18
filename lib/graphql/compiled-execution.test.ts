import { createSchema, createYoga } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import { useCompiledQueries } from './compiled-execution.js';

// The same schema served interpreted and with `quote` compiled: every answer (data, errors with
// their locations and paths, masked or not) must be the same text, and what is not a query of
// the listed fields must not be compiled at all.
describe('useCompiledQueries', () => {
  let calls = 0;
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      type Money { amount: String! currencyCode: String! }
      type Line { sku: String! quantity: Int! total: Money! tags: [String!]! }
      type Quote { lines: [Line!]! total: Money! note: String }
      input LineInput { sku: String! quantity: Int! }
      type Query { quote(lines: [LineInput!]!, fail: String): Quote! other: String }
      type Mutation { touch: Int! }
    `,
    resolvers: {
      Query: {
        quote: (_root: unknown, args: { lines: { sku: string; quantity: number }[]; fail?: string }) => {
          calls++;
          if (args.fail === 'input') throw new GraphQLError('bad sku', { extensions: { code: 'BAD_USER_INPUT' } });
          if (args.fail === 'bug') throw new Error('a bug with a secret');
          return {
            lines: args.lines.map((l) => ({ ...l, total: { amount: (l.quantity * 1.5).toFixed(2), currencyCode: 'EUR' }, tags: l.sku === 'NULL' ? [null] : ['a'] })),
            total: { amount: '1.50', currencyCode: 'EUR' },
            note: null,
          };
        },
        other: () => 'other',
      },
      Mutation: { touch: () => ++calls },
    },
  });
  const serve = (compiled: boolean) => createYoga({ schema, plugins: compiled ? [useCompiledQueries(['quote'])] : [], logging: false, maskedErrors: true });
  const interpreted = serve(false);
  const compiled = serve(true);
  const post = async (yoga: ReturnType<typeof serve>, query: string, variables: Record<string, unknown> = {}) => {
    const response = await yoga.fetch('http://test/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return { status: response.status, text: await response.text() };
  };
  const QUOTE = 'query Q($lines: [LineInput!]!, $fail: String) { quote(lines: $lines, fail: $fail) { lines { sku quantity total { amount } tags } total { amount currencyCode } note } }';

  it.each([
    ['an answer', QUOTE, { lines: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 1 }] }],
    ['an error the resolver throws', QUOTE, { lines: [{ sku: 'A', quantity: 1 }], fail: 'input' }],
    ['an unexpected error (masked)', QUOTE, { lines: [{ sku: 'A', quantity: 1 }], fail: 'bug' }],
    ['a null where the schema forbids it', QUOTE, { lines: [{ sku: 'NULL', quantity: 1 }] }],
    ['variables of the wrong type', QUOTE, { lines: [{ sku: 'A', quantity: 'two' }] }],
    ['a missing variable', QUOTE, {}],
    ['fragments and aliases', 'query ($l: [LineInput!]!) { q: quote(lines: $l) { ...F } } fragment F on Quote { lines { s: sku } total { amount } }', { l: [{ sku: 'A', quantity: 1 }] }],
    ['another root field beside it (not compiled)', 'query ($l: [LineInput!]!) { quote(lines: $l) { note } other }', { l: [{ sku: 'A', quantity: 1 }] }],
  ])('%s: the same answer as interpreted', async (_what, query, variables) => {
    expect(await post(compiled, query, variables)).toEqual(await post(interpreted, query, variables));
  });

  it('runs a successful query once, and only queries', async () => {
    calls = 0;
    await post(compiled, QUOTE, { lines: [{ sku: 'A', quantity: 1 }] });
    expect(calls).toBe(1);
    // An answer with an error is the interpreter's: the compiled run, then the interpreted one.
    calls = 0;
    await post(compiled, QUOTE, { lines: [{ sku: 'A', quantity: 1 }], fail: 'input' });
    expect(calls).toBe(2);
    calls = 1;
    const touched = await post(compiled, 'mutation { touch }');
    expect(JSON.parse(touched.text)).toEqual({ data: { touch: 2 } });
  });
});
