import { execute, GraphQLError, GraphQLInt, GraphQLObjectType, GraphQLScalarType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { maskError } from '../../lib/graphql/mask-error.js';
import { badInput } from '../../lib/errors.js';

// A subgraph's error masking, over graphql-js's real errors: what the client did wrong keeps its message, what failed is logged and hidden.
const Decimal = new GraphQLScalarType({
  name: 'Decimal',
  parseValue(value) {
    if (typeof value !== 'string') throw new TypeError('a Decimal is a string');
    return value;
  },
});
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      echo: { type: GraphQLString, args: { n: { type: GraphQLInt }, d: { type: Decimal } }, resolve: () => 'ok' },
      broken: { type: GraphQLString, resolve: () => { throw new Error('connection terminated: password=secret'); } },
      refused: { type: GraphQLString, resolve: () => { throw badInput('quantity must be positive'); } },
    },
  }),
});

const masked = (query: string, variableValues: Record<string, unknown> = {}) => {
  const logged: string[] = [];
  const result = execute({ schema, document: parse(query), variableValues }) as { errors?: readonly GraphQLError[] };
  const errors = (result.errors ?? []).map((error) => maskError(error, (message) => logged.push(message)).toJSON());
  return { errors, logged };
};

describe('maskError', () => {
  it('answers a variable of the wrong type as BAD_USER_INPUT with graphql-js\'s message, and logs nothing', () => {
    expect(masked('query ($n: Int) { echo(n: $n) }', { n: 'x' })).toEqual({
      errors: [expect.objectContaining({ message: 'Variable "$n" got invalid value "x"; Int cannot represent non-integer value: "x"', extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } })],
      logged: [],
    });
    // A custom scalar's own refusal (a TypeError inside graphql-js's wrapper) is the client's mistake too.
    const decimal = masked('query ($d: Decimal) { echo(d: $d) }', { d: 5 });
    expect(decimal.errors[0]).toMatchObject({ message: expect.stringContaining('a Decimal is a string'), extensions: { code: 'BAD_USER_INPUT' } });
    expect(decimal.logged).toEqual([]);
  });

  it('passes a missing required variable and an application error as they are', () => {
    expect(masked('query ($n: Int!) { echo(n: $n) }').errors[0]?.message).toBe('Variable "$n" of required type "Int!" was not provided.');
    expect(masked('{ refused }')).toEqual({
      errors: [expect.objectContaining({ message: 'quantity must be positive', path: ['refused'], extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })],
      logged: [],
    });
  });

  it('hides a resolver\'s failure behind INTERNAL_SERVER_ERROR and logs its cause', () => {
    const { errors, logged } = masked('{ broken }');
    expect(errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    expect(JSON.stringify(errors)).not.toContain('secret');
    expect(logged).toEqual([expect.stringContaining('connection terminated')]);
  });
});
