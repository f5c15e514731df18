import { readFileSync } from 'node:fs';
import { PARTNER_SCHEMA_PATH } from '../../schema/compose-supergraph.js';
import { CREATE_API_KEY, addProduct, bearer, createShop, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const TYPES = '{ __schema { mutationType { name } types { name fields { name } } } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

describe('the partner schema', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let partner: Record<string, string>;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Pepper', ['PEP-1']);
    await setPrice(system, shop, 'PEP-1', '2.40');
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'partner', role: 'PARTNER' } }, shop.headers);
    partner = bearer(createApiKey.key);
  });
  afterAll(() => system.stop());

  it('is all a partner key sees when it introspects', async () => {
    const { __schema } = await system.ok(TYPES, {}, partner);
    const types = new Map<string, string[] | null>(__schema.types.map((t: { name: string; fields: { name: string }[] | null }) => [t.name, t.fields?.map((f) => f.name) ?? null]));
    expect(__schema.mutationType).toBeNull();
    for (const hidden of ['Order', 'ApiKey', 'InventoryMovement', 'Mutation', 'Subscription', 'PriceChange', 'Role']) expect(types.has(hidden)).toBe(false);
    expect(types.get('Variant')).toEqual(['id', 'sku', 'title', 'barcode', 'product', 'options', 'media', 'stock', 'price', 'compareAtPrice']);
    expect(types.get('StockLevel')).toEqual(['id', 'sku', 'storeId', 'available', 'orderable', 'updatedAt']);
    const { __type } = await system.ok('{ __type(name: "Order") { name } }', {}, partner);
    expect(__type).toBeNull();
  });

  it('answers a partner from the tagged fields, and refuses every other field as invalid', async () => {
    const data = await system.ok(`query ($s: ID!) { products { edges { node { title variants { sku price(storeId: $s) { amount } stock(storeId: $s) { available } } } } } }`, { s: shop.storeId }, partner);
    expect(data.products.edges).toEqual([{ node: { title: 'Pepper', variants: [{ sku: 'PEP-1', price: { amount: '2.40' }, stock: { available: 0 } }] } }]);
    for (const query of ['{ products { edges { node { createdAt } } } }', '{ orders { edges { cursor } } }', '{ variant(sku: "PEP-1") { stockLevels { onHand } } }', '{ apiKeys { id } }']) {
      const result = await system.request(query, {}, partner);
      expect({ query, codes: codes(result), data: result.data ?? null }).toEqual({ query, codes: ['GRAPHQL_VALIDATION_FAILED'], data: null });
    }
    const mixed = await system.request('{ __schema { queryType { name } } tenant { slug } }', {}, partner);
    expect(codes(mixed)).toEqual(['BAD_USER_INPUT']);
  });

  it('gives an admin the whole supergraph', async () => {
    const { __schema } = await system.ok(TYPES, {}, shop.headers);
    const names = __schema.types.map((t: { name: string }) => t.name);
    expect(__schema.mutationType).toEqual({ name: 'Mutation' });
    expect(names).toEqual(expect.arrayContaining(['Order', 'ApiKey', 'InventoryMovement', 'Subscription']));
    expect(names).not.toContain('TenantResolution');
  });

  it('serves the SDL the caller may see at /schema.graphql', async () => {
    const sdl = (headers: Record<string, string>) => fetch(system.gatewayUrl.replace('/graphql', '/schema.graphql'), { headers }).then(async (r) => [r.status, await r.text()] as const);
    const [status, partnerSdl] = await sdl(partner);
    expect(status).toBe(200);
    expect(`${partnerSdl}\n`).toBe(readFileSync(PARTNER_SCHEMA_PATH, 'utf8'));
    const [, adminSdl] = await sdl(shop.headers);
    expect(adminSdl).toMatch(/type Mutation/);
    expect(adminSdl).not.toMatch(/resolveTenant|authenticateApiKey/);
    const [badStatus] = await sdl(bearer('ck_nope'));
    expect(badStatus).toBe(401);
    // Without a credential: what a storefront may use (its reads), not the platform's or staff's.
    const [anonymousStatus, anonymousSdl] = await sdl({});
    expect(anonymousStatus).toBe(200);
    expect(anonymousSdl).toMatch(/products\(first: Int, after: String, query: String\): ProductConnection!/);
    // Fields, not words of a description (a return's description speaks of RETURN movements).
    expect(anonymousSdl).not.toMatch(/^\s*(createTenant|receiveStock|apiKeys|movements|stockChanged)\b/m);
  });
});

describe('in production', () => {
  let system: TestSupergraph;
  let shop: Shop;
  beforeAll(async () => {
    system = await startSupergraph({ production: true });
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('refuses anonymous introspection and hides field suggestions', async () => {
    const anonymous = await system.request('{ __schema { queryType { name } } }');
    expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
    expect((await fetch(system.gatewayUrl.replace('/graphql', '/schema.graphql'))).status).toBe(401);
    expect((await system.ok('{ __schema { queryType { name } } }', {}, shop.headers)).__schema.queryType.name).toBe('Query');
    const typo = await system.request('{ product(id: "x") { titel } }', {}, shop.headers);
    expect(typo.errors?.[0]?.message).not.toMatch(/did you mean/i);
  });
});
