import { buildSchema, parse } from 'graphql';
import { redactVariables, sensitiveCoordinates } from './sensitive-variables.js';

const sdl = `
  directive @sensitive on ARGUMENT_DEFINITION | INPUT_FIELD_DEFINITION
  input Credential { user: String!, password: String! @sensitive, extra: [Credential!] }
  input Batch { label: String, items: [Credential!]! }
  type Query { ok: Boolean }
  type Mutation {
    login(credential: Credential!): Boolean
    many(batch: Batch!): Boolean
    rotate(id: ID!, token: String! @sensitive): Boolean
  }
`;
const schema = buildSchema(sdl);
const sensitive = sensitiveCoordinates(parse(sdl));

describe('redacting variables by what the schema marks @sensitive', () => {
  it('reads the marks as coordinates of input fields and arguments', () => {
    expect([...sensitive].sort()).toEqual(['Credential.password', 'Mutation.rotate(token:)']);
  });

  it('redacts inside input objects and lists, at any depth, and keeps everything else', () => {
    const document = parse('mutation ($b: Batch!) { many(batch: $b) }');
    const variables = { b: { label: 'x', items: [{ user: 'a', password: 'p1', extra: [{ user: 'b', password: 'p2' }] }, { user: 'c', password: 'p3' }] } };
    expect(redactVariables(schema, sensitive, document, undefined, variables)).toEqual({
      b: { label: 'x', items: [{ user: 'a', password: '[Redacted]', extra: [{ user: 'b', password: '[Redacted]' }] }, { user: 'c', password: '[Redacted]' }] },
    });
  });

  it('redacts a whole variable passed to a sensitive argument or field, however deep in a literal or a fragment', () => {
    const document = parse(`
      mutation M($t: String!, $p: String!, $u: String!) { rotate(id: "1", token: $t) ...F }
      fragment F on Mutation { many(batch: { items: [{ user: $u, password: "inline", extra: [{ user: "x", password: $p }] }] }) }
    `);
    expect(redactVariables(schema, sensitive, document, 'M', { t: 'tok', p: 'pass', u: 'name' })).toEqual({ t: '[Redacted]', p: '[Redacted]', u: 'name' });
  });
});
