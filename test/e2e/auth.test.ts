import { SignJWT } from 'jose';
import { signContext } from '../../lib/tenant/signed-context.js';
import { graphqlRequest } from '../../scripts/graphql-request.js';
import { CREATE_API_KEY, RECEIVE_STOCK, SET_PRICE, addProduct, bearer, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const JWT_SECRET = 'test-jwt-secret-of-enough-length-0123456789';
const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

const READ = `query ($store: ID!) { products(first: 5) { edges { node { title variants { sku price(storeId: $store) { amount } stock(storeId: $store) { available } } } } } }`;
const MOVEMENTS = '{ movements(first: 5) { edges { node { sku } } } }';
const ORDERS = '{ orders(first: 5) { edges { node { id } } } }';
const PLACE_ORDER = 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id number } }';
const UPSERT = 'mutation { upsertProduct(input: { title: "X", variants: [{ sku: "X-1", title: "X" }] }) { id } }';

describe('who may do what', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let rival: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ jwt: { secret: JWT_SECRET } });
    shop = await createShop(system);
    rival = await createShop(system);
    await addProduct(system, shop, 'Tea', ['TEA-1']);
    await setPrice(system, shop, 'TEA-1', '3.00');
    await receiveStock(system, shop, 'TEA-1', 9);
    await addProduct(system, rival, 'Rival Tea', ['RIV-1']);
  });
  afterAll(() => system.stop());

  const jwt = (claims: Record<string, unknown>, options: { expiresIn?: string | number; notBefore?: string | number; secret?: string } = {}) => {
    const token = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setSubject('user-1');
    token.setExpirationTime(options.expiresIn ?? '5m');
    if (options.notBefore !== undefined) token.setNotBefore(options.notBefore);
    return token.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
  };

  it('lets the anonymous storefront read the catalog, prices and availability, and nothing else', async () => {
    const read = await system.ok(READ, { store: shop.storeId }, shop.storefrontHeaders);
    expect(read.products.edges[0].node.variants[0]).toEqual({ sku: 'TEA-1', price: { amount: '3.00' }, stock: { available: 9 } });
    for (const operation of [MOVEMENTS, ORDERS, UPSERT, '{ apiKeys { id } }']) {
      expect({ operation, code: codeOf(await system.request(operation, {}, shop.storefrontHeaders)) }).toEqual({ operation, code: 'FORBIDDEN' });
    }
    const receive = await system.request(RECEIVE_STOCK, { input: { sku: 'TEA-1', storeId: shop.storeId, quantity: 1 } }, shop.storefrontHeaders);
    expect(codeOf(receive)).toBe('FORBIDDEN');
    expect(receive.data ?? null).toBeNull();
  });

  it("keeps the staff's stock fields (onHand, reserved, inTransit) from the anonymous storefront, as the partner contract does", async () => {
    const level = (fields: string) => `query ($store: ID!) { variant(sku: "TEA-1") { stock(storeId: $store) { ${fields} } stockLevels { ${fields} } } }`;
    const open = await system.ok(level('available orderable'), { store: shop.storeId }, shop.storefrontHeaders);
    expect(open.variant).toEqual({ stock: { available: 9, orderable: 9 }, stockLevels: [{ available: 9, orderable: 9 }] });
    for (const field of ['onHand', 'reserved', 'inTransit']) {
      // Twice: a refusal is never kept by the storefront cache either.
      for (const attempt of [1, 2]) {
        const denied = await system.request(level(`available ${field}`), { store: shop.storeId }, shop.storefrontHeaders);
        expect({ field, attempt, data: denied.data ?? null, errors: denied.errors }).toEqual({
          field,
          attempt,
          data: null,
          errors: [
            expect.objectContaining({ message: `StockLevel.${field} needs the role pos or admin.`, extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }),
            expect.objectContaining({ message: `StockLevel.${field} needs the role pos or admin.`, extensions: expect.objectContaining({ code: 'FORBIDDEN' }) }),
          ],
        });
      }
    }
    const staff = await system.ok(level('onHand reserved inTransit available'), { store: shop.storeId }, shop.posHeaders);
    expect(staff.variant.stock).toEqual({ onHand: 9, reserved: 0, inTransit: 0, available: 9 });
  });

  it('lets pos move stock, place and read orders, but not set prices, edit the catalog or manage keys', async () => {
    const receive = await system.request(RECEIVE_STOCK, { input: { sku: 'TEA-1', storeId: shop.storeId, quantity: 1 } }, shop.posHeaders);
    expect(receive.data?.receiveStock.onHand).toBe(10);
    // A till prices the sale with `quote` (its key may) and places it with the token.
    const order = await system.request(PLACE_ORDER, { input: await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'TEA-1', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders);
    expect(order.errors).toBeUndefined();
    expect((await system.ok(ORDERS, {}, shop.posHeaders)).orders.edges).toHaveLength(1);
    const price = await system.request(SET_PRICE, { input: { sku: 'TEA-1', storeId: shop.storeId, amount: '0.01', currencyCode: 'EUR' } }, shop.posHeaders);
    expect(codeOf(price)).toBe('FORBIDDEN');
    expect(codeOf(await system.request(UPSERT, {}, shop.posHeaders))).toBe('FORBIDDEN');
    expect(codeOf(await system.request(CREATE_API_KEY, { input: { name: 'x', role: 'ADMIN' } }, shop.posHeaders))).toBe('FORBIDDEN');
    const stillThree = await system.ok(READ, { store: shop.storeId }, shop.storefrontHeaders);
    expect(stillThree.products.edges[0].node.variants[0].price).toEqual({ amount: '3.00' });
  });

  it('lets an admin manage its own tenant only, and the platform create tenants', async () => {
    const own = await system.request(CREATE_API_KEY, { input: { name: 'till 2', role: 'POS' } }, shop.headers);
    expect(own.data?.createApiKey.apiKey).toEqual({ id: expect.any(String), name: 'till 2', role: 'POS', prefix: expect.stringMatching(/^ck_/), revokedAt: null });
    const foreign = await system.request(CREATE_API_KEY, { input: { name: 'x', role: 'ADMIN', tenantId: rival.tenantId } }, shop.headers);
    expect(codeOf(foreign)).toBe('FORBIDDEN');
    const tenant = await system.request('mutation { createTenant(input: { slug: "nope", name: "Nope" }) { id } }', {}, shop.headers);
    expect(codeOf(tenant)).toBe('FORBIDDEN');
    const platformUpsert = await system.request(UPSERT, {}, bearer(system.platformApiKey));
    expect(['FORBIDDEN', 'UNAUTHENTICATED']).toContain(codeOf(platformUpsert));
    const store = await system.request('mutation ($t: ID) { createStore(input: { tenantId: $t, code: "W9", name: "Back room", kind: WAREHOUSE }) { code kind } }', {}, shop.headers);
    expect(store.data?.createStore).toEqual({ code: 'W9', kind: 'WAREHOUSE' });
  });

  it('gives a partner read-only access', async () => {
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'partner', role: 'PARTNER' } }, shop.headers);
    const partner = bearer(createApiKey.key);
    const read = await system.ok(READ, { store: shop.storeId }, partner);
    expect(read.products.edges[0].node.title).toBe('Tea');
    // Mutations are not in the partner schema at all.
    expect(codeOf(await system.request(RECEIVE_STOCK, { input: { sku: 'TEA-1', storeId: shop.storeId, quantity: 1 } }, partner))).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it("binds a till's pos key to its store: it moves stock and places orders there only", async () => {
    const [main, dark] = shop.stores;
    const { createApiKey } = await system.ok(CREATE_API_KEY.replace('name role prefix revokedAt', 'name role prefix revokedAt storeIds'), { input: { name: 'till', role: 'POS', storeIds: [dark!.id] } }, shop.headers);
    expect(createApiKey.apiKey.storeIds).toEqual([dark!.id]);
    const till = bearer(createApiKey.key);
    const here = await system.request(RECEIVE_STOCK, { input: { sku: 'TEA-1', storeId: dark!.id, quantity: 2 } }, till);
    expect(here.data?.receiveStock.onHand).toBe(2);
    const there = await system.request(RECEIVE_STOCK, { input: { sku: 'TEA-1', storeId: main!.id, quantity: 2 } }, till);
    expect(codeOf(there)).toBe('FORBIDDEN');
    const order = await system.request(PLACE_ORDER, { input: { storeId: main!.id, lines: [{ sku: 'TEA-1', quantity: 1 }] } }, till);
    expect(codeOf(order)).toBe('FORBIDDEN');
    // Reads of other stores stay open.
    expect((await system.ok(READ, { store: main!.id }, till)).products.edges[0].node.variants[0].stock.available).toBeGreaterThan(0);
    const adminBound = await system.request(CREATE_API_KEY, { input: { name: 'x', role: 'ADMIN', storeIds: [dark!.id] } }, shop.headers);
    expect(codeOf(adminBound)).toBe('BAD_USER_INPUT');
    const foreignStore = await system.request(CREATE_API_KEY, { input: { name: 'x', role: 'POS', storeIds: [rival.storeId] } }, shop.headers);
    expect(codeOf(foreignStore)).toBe('NOT_FOUND');
  });

  it('refuses missing, malformed, unknown and revoked credentials', async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'UNAUTHENTICATED'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'UNAUTHENTICATED'],
      [{ authorization: 'Bearer' }, 'UNAUTHENTICATED'],
      [bearer('ck_not-a-real-key'), 'UNAUTHENTICATED'],
      [{ 'x-api-key': "' OR 1=1 --" }, 'UNAUTHENTICATED'],
    ];
    for (const [headers, code] of cases) {
      expect({ headers, code: codeOf(await system.request(MOVEMENTS, {}, headers)) }).toEqual({ headers, code });
    }
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'temp', role: 'POS' } }, shop.headers);
    expect(codeOf(await system.request(MOVEMENTS, {}, bearer(createApiKey.key)))).toBeUndefined();
    const revoked = await system.ok('mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: createApiKey.apiKey.id }, shop.headers);
    expect(revoked.revokeApiKey.revokedAt).toEqual(expect.any(String));
    // Gateways drop the key when its revocation event arrives (at once in-process, a moment later over Redis).
    const after = await eventually(async () => {
      const result = await system.request(MOVEMENTS, {}, bearer(createApiKey.key));
      if (!result.errors) throw new Error('still accepted');
      return result;
    });
    expect(after.errors?.[0]).toEqual(expect.objectContaining({ message: 'Invalid or revoked API key.', extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }) }));
    const rivalRevoke = await system.request('mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: createApiKey.apiKey.id }, rival.headers);
    expect(codeOf(rivalRevoke)).toBe('NOT_FOUND');
  });

  it('accepts JWTs with tenant and roles, honouring exp and nbf and the signature', async () => {
    const good = await jwt({ tenant: shop.slug, roles: ['pos'] });
    expect((await system.ok(MOVEMENTS, {}, bearer(good))).movements.edges.length).toBeGreaterThan(0);
    expect(codeOf(await system.request(UPSERT, {}, bearer(good)))).toBe('FORBIDDEN');
    const refused = [
      await jwt({ tenant: shop.slug, roles: ['pos'] }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      await jwt({ tenant: shop.slug, roles: ['pos'] }, { notBefore: Math.floor(Date.now() / 1000) + 3600 }),
      await jwt({ tenant: shop.slug, roles: ['pos'] }, { secret: 'another-secret-of-enough-length-0123456789' }),
      await jwt({ tenant: 'no-such-tenant', roles: ['pos'] }),
      await jwt({ tenant: shop.slug, roles: ['superuser'] }),
      await jwt({ tenant: shop.slug }),
      `${good.slice(0, -4)}AAAA`,
    ];
    for (const token of refused) {
      const result = await system.request(MOVEMENTS, {}, bearer(token));
      expect({ token, code: codeOf(result), data: result.data ?? null }).toEqual({ token, code: 'UNAUTHENTICATED', data: null });
    }
  });

  it("answers a key of one tenant asking for another's store, product, order or stock as if they did not exist", async () => {
    const product = (await system.ok('{ products(first: 1) { edges { node { id } } } }', {}, shop.headers)).products.edges[0].node.id;
    const order = (await system.ok(ORDERS, {}, shop.headers)).orders.edges[0].node.id;
    const asRival = await system.request(
      `query ($product: ID!, $order: ID!, $store: ID!) {
        product(id: $product) { title } order(id: $order) { id } store(id: $store) { name }
        variant(sku: "TEA-1") { sku }
      }`,
      { product, order, store: shop.storeId },
      rival.headers,
    );
    expect(asRival).toEqual({ data: { product: null, order: null, store: null, variant: null } });
    const stock = await system.request(RECEIVE_STOCK, { input: { sku: 'RIV-1', storeId: shop.storeId, quantity: 1 } }, rival.headers);
    expect(codeOf(stock)).toBe('NOT_FOUND');
  });

  it('refuses a signed context replayed after it expired, straight at a subgraph', async () => {
    const stale = signContext({ tenantId: shop.tenantId, roles: ['admin'], requestId: 'r' }, { query: MOVEMENTS, variables: {} }, system.subgraphSecret, { now: Date.now() - 60_000 });
    const result = await graphqlRequest(system.subgraphUrls.inventory, MOVEMENTS, {}, { 'x-commerce-context': stale });
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
  });

  it('authenticates sockets from connection_init and checks roles per subscription', async () => {
    const refused = liveClient(system.gatewayUrl, bearer('ck_wrong'));
    subscribe(refused, 'subscription ($s: ID!) { stockChanged(storeId: $s) { sku } }', { s: shop.storeId });
    expect((await refused.closed).code).toBe(4403);

    const storefront = liveClient(system.gatewayUrl, shop.storefrontHeaders);
    const denied = subscribe(storefront, 'subscription ($s: ID!) { stockChanged(storeId: $s) { sku } }', { s: shop.storeId });
    await denied.waitFor(1);
    expect(denied.failure).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    await storefront.dispose();

    const pos = liveClient(system.gatewayUrl, shop.posHeaders);
    const allowed = subscribe(pos, 'subscription ($s: ID!) { stockChanged(storeId: $s) { sku onHand } }', { s: shop.storeId });
    await allowed.waitFor(1);
    expect(allowed.results[0]?.data.stockChanged.sku).toBe('TEA-1');
    await pos.dispose();
  });
});
