import { GraphQLID, GraphQLInputObjectType, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, graphql, type GraphQLResolveInfo } from 'graphql';
import { acceptGlobalIdArguments } from '../../lib/graphql/global-id-arguments.js';
import { parseGlobalId, rowIdOf, toGlobalId } from '../../lib/graphql/global-id.js';

describe('global ids (decision 0026)', () => {
  it('is base64url of the type and its key, and reads back', () => {
    const id = toGlobalId('StockLevel', '0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11', 'ESP-1');
    expect(Buffer.from(id, 'base64url').toString()).toBe('StockLevel:0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11:ESP-1');
    expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseGlobalId(id)).toEqual({ type: 'StockLevel', key: ['0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11', 'ESP-1'] });
  });

  it('keeps a key part with `:` or `%` one part', () => {
    const id = toGlobalId('Variant', 'a:b%3Ac');
    expect(parseGlobalId(id)).toEqual({ type: 'Variant', key: ['a:b%3Ac'] });
  });

  it('takes a raw UUID as the id of a type that had one', () => {
    expect(parseGlobalId('0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11')).toEqual({ type: 'uuid', key: ['0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11'] });
  });

  it('takes a cart\'s cart_ id as it is, and refuses a row-keyed type whose key has another form', () => {
    const cart = `cart_${'a'.repeat(32)}`;
    expect(parseGlobalId(cart)).toEqual({ type: 'Cart', key: [cart] });
    expect(() => parseGlobalId(toGlobalId('Customer', 'not-a-uuid'))).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } }));
  });

  it('reads an argument as the row id its encoded id names, and leaves everything else as sent', () => {
    const uuid = '0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11';
    expect(rowIdOf(toGlobalId('PriceList', uuid))).toBe(uuid);
    expect(rowIdOf(toGlobalId('Product', uuid))).toBe(uuid);
    expect(rowIdOf(uuid)).toBe(uuid);
    // A two-part id names no row; a sku, a variant's id and junk pass unchanged.
    for (const id of [toGlobalId('StockLevel', uuid, 'ESP-1'), toGlobalId('Variant', 'ESP-1'), 'ESP-1', toGlobalId('Customer', 'x'), 'Q3VzdG9tZXI6']) expect(rowIdOf(id)).toBe(id);
    // An order's shipment, return, payment or refund (`<orderId>:<uuid>`): its own row id; an order line's is no row.
    const row = '1c9e2f4a-3b5d-4e6f-8a7b-9c0d1e2f3a4b';
    for (const type of ['Shipment', 'OrderReturn', 'Payment', 'PaymentRefund'] as const) expect(rowIdOf(toGlobalId(type, uuid, row))).toBe(row);
    for (const id of [toGlobalId('OrderLine', uuid, '1'), toGlobalId('OrderReturn', uuid, 'x')]) expect(rowIdOf(id)).toBe(id);
  });

  it('wraps root fields so that ID arguments, lists and input fields take encoded ids; node(id:) is left alone', async () => {
    const uuid = '0b7e6c1e-8f0a-4c57-9d0e-2a7b0f4f1a11';
    const input = new GraphQLInputObjectType({ name: 'In', fields: { listId: { type: GraphQLID }, note: { type: GraphQLString } } });
    const echo = { type: GraphQLString, args: { id: { type: GraphQLID }, ids: { type: new GraphQLList(new GraphQLNonNull(GraphQLID)) }, input: { type: input } } };
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { echo, node: echo } }) });
    const record = (_root: unknown, args: Record<string, unknown>) => JSON.stringify(args);
    type Resolve = (root: unknown, args: Record<string, unknown>, ctx: unknown, info: GraphQLResolveInfo) => string;
    const resolvers = acceptGlobalIdArguments({ Query: { echo: record, node: record } }) as { Query: Record<string, Resolve> };
    const encoded = toGlobalId('Promotion', uuid);
    const note = toGlobalId('Customer', uuid); // a String input field: not an id, left as sent
    const run = async (field: string) =>
      JSON.parse(
        (await graphql({ schema, source: `query ($id: ID, $ids: [ID!], $input: In) { ${field}(id: $id, ids: $ids, input: $input) }`, variableValues: { id: encoded, ids: [encoded, 'ESP-1'], input: { listId: encoded, note } }, fieldResolver: (root, args, ctx, info) => resolvers.Query[info.fieldName]!(root, args, ctx, info) })).data![field] as string,
      );
    expect(await run('echo')).toEqual({ id: uuid, ids: [uuid, 'ESP-1'], input: { listId: uuid, note } });
    expect(await run('node')).toEqual({ id: encoded, ids: [encoded, 'ESP-1'], input: { listId: encoded, note } });
  });

  it('refuses anything else with BAD_USER_INPUT naming the field', () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    for (const id of ['', 'not an id', b64('Cart:1'), b64('Variant'), b64('Variant:'), b64('StockLevel:s'), b64('Price:a:b:c'), `${b64('Variant:X')}=`]) {
      expect(() => parseGlobalId(id)).toThrow(expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'id' } }));
    }
  });
});
