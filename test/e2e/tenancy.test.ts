import { request } from 'node:http';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { graphqlRequest } from '../../scripts/graphql-request.js';
import { signContext } from '../../lib/tenant/signed-context.js';

const EVERYTHING = `query ($store: ID!) {
  tenant { slug }
  products(first: 50) { edges { node { title variants { sku price(storeId: $store) { amount } stock(storeId: $store) { onHand } } } } }
  movements(first: 50) { edges { node { sku } } }
  orders(first: 50) { edges { node { id } } }
}`;

describe('tenants on one gateway', () => {
  let system: TestSupergraph;
  let north: Shop;
  let south: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    north = await createShop(system);
    south = await createShop(system);
    // The same sku in both tenants: one tenant's rows must never answer for the other.
    await addProduct(system, north, 'North Coffee', ['SAME-1']);
    await addProduct(system, south, 'South Coffee', ['SAME-1']);
    await setPrice(system, north, 'SAME-1', '3.00');
    await receiveStock(system, north, 'SAME-1', 11);
    await setPrice(system, south, 'SAME-1', '4.00', south.storeId);
  });
  afterAll(() => system.stop());

  it('shows each tenant only its own rows, for the same sku', async () => {
    const a = await system.ok(EVERYTHING, { store: north.storeId }, north.headers);
    const b = await system.ok(EVERYTHING, { store: south.storeId }, south.headers);
    expect(a.tenant.slug).toBe(north.slug);
    expect(a.products.edges).toEqual([{ node: { title: 'North Coffee', variants: [{ sku: 'SAME-1', price: { amount: '3.00' }, stock: { onHand: 11 } }] } }]);
    expect(a.movements.edges).toEqual([{ node: { sku: 'SAME-1' } }]);
    expect(b.tenant.slug).toBe(south.slug);
    expect(b.products.edges).toEqual([{ node: { title: 'South Coffee', variants: [{ sku: 'SAME-1', price: { amount: '4.00' }, stock: { onHand: 0 } }] } }]);
    expect(b.movements.edges).toEqual([]);
  });

  it("treats another tenant's store as unknown, for reads and writes", async () => {
    const read = await system.request(EVERYTHING, { store: north.storeId }, south.headers);
    expect(read.errors?.map((e) => e.extensions?.code)).toContain('NOT_FOUND');
    expect(JSON.stringify(read.data)).not.toContain('North');
    const write = await system.request(
      'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }',
      { input: { sku: 'SAME-1', storeId: north.storeId, quantity: 1 } },
      south.headers,
    );
    expect(write.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const store = await system.ok('query ($id: ID!) { store(id: $id) { name } }', { id: north.storeId }, south.headers);
    expect(store.store).toBeNull();
  });

  it('resolves the tenant from the Host header', async () => {
    // fetch() may not set Host; node:http may.
    const body = await new Promise<string>((resolve, reject) => {
      const body = JSON.stringify({ query: '{ tenant { slug } }' });
      const req = request(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), host: `${south.slug}.test:4000` } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(JSON.parse(body)).toEqual({ data: { tenant: { slug: south.slug } } });
  });

  it('refuses unknown tenants and requests without one', async () => {
    const unknown = await system.request('{ tenant { slug } }', {}, { 'x-tenant-id': 'no-such-shop' });
    expect(unknown).toEqual({ errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })] });
    const none = await system.request('{ products { edges { cursor } } }');
    expect(none.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(none.data ?? null).toBeNull();
  });

  it('serves introspection without a tenant, and hides the internal tenant lookup', async () => {
    const result = await system.ok('{ __schema { queryType { fields { name } } } }');
    const names = result.__schema.queryType.fields.map((f: { name: string }) => f.name);
    expect(names).toEqual(expect.arrayContaining(['products', 'product', 'variant', 'tenant', 'movements', 'orders', 'order']));
    expect(names).not.toContain('resolveTenant');
  });

  it('never lets a client choose the context header that subgraphs trust', async () => {
    const forged = signContext({ tenantId: north.tenantId, roles: ['admin'], requestId: 'x' }, { query: '{ products(first: 5) { edges { node { title } } } }' }, 'not-the-secret');
    const spoofed = await system.request('{ products(first: 5) { edges { node { title } } } }', {}, {
      ...south.headers,
      'x-commerce-context': forged,
    });
    expect(spoofed.data?.products.edges).toEqual([{ node: { title: 'South Coffee' } }]);
  });

  it('keeps subgraphs from answering anyone but the gateway', async () => {
    const query = '{ products { edges { node { title } } } }';
    const unsigned = await graphqlRequest(system.subgraphUrls.catalog, query);
    expect(unsigned.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) })]);
    expect(unsigned.data ?? null).toBeNull();
    const forged = signContext({ tenantId: north.tenantId, roles: ['admin'], requestId: 'x' }, { query }, 'guessed-secret');
    const wrongSecret = await graphqlRequest(system.subgraphUrls.catalog, query, {}, { 'x-commerce-context': forged });
    expect(wrongSecret.errors?.[0]?.message).toMatch(/invalid signature/);
    const garbage = await graphqlRequest(system.subgraphUrls.orders, '{ orders { edges { cursor } } }', {}, { 'x-commerce-context': 'abc.def' });
    expect(garbage.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(garbage.data ?? null).toBeNull();
  });
});
