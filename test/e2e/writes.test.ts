import { RECEIVE_STOCK, SET_PRICE, addProduct, createShop, okOnceKnown, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const ADJUST = `mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { onHand available version } }`;
const MOVEMENTS = `query ($sku: ID, $store: ID, $first: Int, $after: String) {
  movements(sku: $sku, storeId: $store, first: $first, after: $after) {
    edges { node { sku storeId kind quantity debitAccount creditAccount reference } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    id number status store { name }
    lines { sku quantity unitPrice { amount currencyCode } variant { title product { title } } }
    total { amount currencyCode } createdAt
  }
}`;

describe('writes through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Croissant', ['CRO-1']);
    await addProduct(system, shop, 'Baguette', ['BAG-1']);
    await addProduct(system, shop, 'Unpriced Thing', ['UNP-1']);
  });
  afterAll(() => system.stop());

  const stockOf = async (sku: string, store = shop.storeId) =>
    ((await system.ok(`query ($sku: ID!, $store: ID!) { variant(sku: $sku) { stock(storeId: $store) { onHand available version } } }`,
      { sku, store }, shop.headers)) as any).variant.stock;

  it('receives and adjusts stock through a balanced ledger, visible in the next query', async () => {
    const received = await receiveStock(system, shop, 'CRO-1', 10);
    expect(received.receiveStock).toEqual({ sku: 'CRO-1', storeId: shop.storeId, onHand: 10, reserved: 0, available: 10, orderable: 10, version: 1 });
    const adjusted = await system.ok(ADJUST, { input: { sku: 'CRO-1', storeId: shop.storeId, delta: -3, reason: 'damaged' } }, shop.headers);
    expect(adjusted.adjustStock).toEqual({ onHand: 7, available: 7, version: 2 });
    expect(await stockOf('CRO-1')).toEqual({ onHand: 7, available: 7, version: 2 });

    const { movements } = await system.ok(MOVEMENTS, { sku: 'CRO-1', store: shop.storeId }, shop.headers);
    const store = `store:${shop.storeId}:on_hand`;
    expect(movements.edges.map((e: any) => e.node)).toEqual([
      { sku: 'CRO-1', storeId: shop.storeId, kind: 'ADJUSTMENT', quantity: 3, debitAccount: 'external:adjustment', creditAccount: store, reference: 'damaged' },
      { sku: 'CRO-1', storeId: shop.storeId, kind: 'RECEIPT', quantity: 10, debitAccount: store, creditAccount: 'external:supplier', reference: null },
    ]);
  });

  it('applies the same idempotency key once and refuses it for another payload', async () => {
    const input = { sku: 'BAG-1', storeId: shop.storeId, quantity: 5, idempotencyKey: 'delivery-42' };
    const first = await okOnceKnown(system, shop, RECEIVE_STOCK, { input });
    const again = await system.ok(RECEIVE_STOCK, { input }, shop.headers);
    expect(again).toEqual(first);
    expect((await stockOf('BAG-1')).onHand).toBe(5);
    const reused = await system.request(RECEIVE_STOCK, { input: { ...input, quantity: 6 } }, shop.headers);
    expect(reused.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await stockOf('BAG-1')).onHand).toBe(5);
    const { movements } = await system.ok(MOVEMENTS, { sku: 'BAG-1' }, shop.headers);
    expect(movements.edges).toHaveLength(1);
  });

  it('refuses bad stock input with a code and changes nothing', async () => {
    const before = await stockOf('CRO-1');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ sku: 'CRO-1', storeId: shop.storeId, quantity: 0 }, RECEIVE_STOCK, 'BAD_USER_INPUT'],
      [{ sku: 'CRO-1', storeId: shop.storeId, quantity: -4 }, RECEIVE_STOCK, 'BAD_USER_INPUT'],
      [{ sku: 'NOPE-1', storeId: shop.storeId, quantity: 1 }, RECEIVE_STOCK, 'NOT_FOUND'],
      [{ sku: 'CRO-1', storeId: '00000000-0000-4000-8000-000000000000', quantity: 1 }, RECEIVE_STOCK, 'NOT_FOUND'],
      [{ sku: 'CRO-1', storeId: 'not-a-store', quantity: 1 }, RECEIVE_STOCK, 'NOT_FOUND'],
      [{ sku: 'CRO-1', storeId: shop.storeId, delta: 0 }, ADJUST, 'BAD_USER_INPUT'],
      [{ sku: 'CRO-1', storeId: shop.storeId, delta: -1000 }, ADJUST, 'INSUFFICIENT_STOCK'],
    ];
    for (const [input, mutation, code] of cases) {
      const result = await system.request(mutation, { input }, shop.headers);
      expect({ input, code: result.errors?.[0]?.extensions?.code }).toEqual({ input, code });
    }
    expect(await stockOf('CRO-1')).toEqual(before);
  });

  it('sets prices with exact decimals and refuses bad amounts and currencies', async () => {
    const set = await setPrice(system, shop, 'CRO-1', '2.5');
    expect(set.setPrice).toEqual({ sku: 'CRO-1', storeId: shop.storeId, amount: { amount: '2.50', currencyCode: 'EUR' }, version: 1, updatedAt: expect.any(String) });
    const jpy = await system.ok(SET_PRICE, { input: { sku: 'CRO-1', storeId: shop.stores[1]!.id, amount: '300', currencyCode: 'jpy' } }, shop.headers);
    expect(jpy.setPrice.amount).toEqual({ amount: '300', currencyCode: 'JPY' });
    for (const [amount, currencyCode] of [['abc', 'EUR'], ['-1.00', 'EUR'], ['1.005', 'EUR'], ['1.5', 'JPY'], ['1.00', 'XYZ'], ['1.00', 'EURO']]) {
      const result = await system.request(SET_PRICE, { input: { sku: 'CRO-1', storeId: shop.storeId, amount, currencyCode } }, shop.headers);
      expect({ amount, currencyCode, code: result.errors?.[0]?.extensions?.code }).toEqual({ amount, currencyCode, code: 'BAD_USER_INPUT' });
    }
    const unknown = await system.request(SET_PRICE, { input: { sku: 'NOPE', storeId: shop.storeId, amount: '1', currencyCode: 'EUR' } }, shop.headers);
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const price = await system.ok(`{ variant(sku: "CRO-1") { price(storeId: "${shop.storeId}") { amount currencyCode } } }`, {}, shop.headers);
    expect(price.variant.price).toEqual({ amount: '2.50', currencyCode: 'EUR' });
  });

  it('places an order charged its quote, once per idempotency key', async () => {
    await setPrice(system, shop, 'BAG-1', '1.99');
    await setPrice(system, shop, 'CRO-1', '2.50');
    let input: Record<string, unknown> = {};
    const placed = await eventually(async () => {
      input = await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'CRO-1', quantity: 3 }, { sku: 'BAG-1', quantity: 2 }], idempotencyKey: 'cart-1' }, shop.headers);
      const result = await system.request(PLACE_ORDER, { input }, shop.headers);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data!.placeOrder;
    });
    expect(placed).toEqual({
      id: expect.any(String),
      number: 1,
      status: 'PLACED',
      store: { name: 'Main Street' },
      lines: [
        { sku: 'CRO-1', quantity: 3, unitPrice: { amount: '2.50', currencyCode: 'EUR' }, variant: { title: 'Croissant CRO-1', product: { title: 'Croissant' } } },
        { sku: 'BAG-1', quantity: 2, unitPrice: { amount: '1.99', currencyCode: 'EUR' }, variant: { title: 'Baguette BAG-1', product: { title: 'Baguette' } } },
      ],
      total: { amount: '11.48', currencyCode: 'EUR' },
      createdAt: expect.any(String),
    });
    const again = await system.ok(PLACE_ORDER, { input }, shop.headers);
    // The same order, not a second one; its status may have moved on through the saga meanwhile.
    expect({ ...again.placeOrder, status: 'PLACED' }).toEqual(placed);

    const { orders, order } = await system.ok(
      `query ($id: ID!, $store: ID) { order(id: $id) { number total { amount } } orders(storeId: $store, first: 10) { edges { node { id number } } pageInfo { hasNextPage } } }`,
      { id: placed.id, store: shop.storeId },
      shop.headers,
    );
    expect(order).toEqual({ number: 1, total: { amount: '11.48' } });
    expect(orders).toEqual({ edges: [{ node: { id: placed.id, number: 1 } }], pageInfo: { hasNextPage: false } });
  });

  it('refuses orders it cannot price and places nothing (pricing is the quote\'s: without a token, QUOTE_REQUIRED)', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ storeId: shop.storeId, lines: [] }, 'BAD_USER_INPUT'],
      [{ storeId: shop.storeId, lines: [{ sku: 'CRO-1', quantity: 0 }] }, 'BAD_USER_INPUT'],
      [{ storeId: shop.storeId, lines: [{ sku: 'CRO-1', quantity: 1 }, { sku: 'CRO-1', quantity: 1 }] }, 'BAD_USER_INPUT'],
      [{ storeId: shop.storeId, lines: [{ sku: 'CRO-1', quantity: 1 }] }, 'QUOTE_REQUIRED'],
      [{ storeId: shop.storeId, lines: [{ sku: 'UNP-1', quantity: 1 }] }, 'QUOTE_REQUIRED'],
      [{ storeId: shop.storeId, lines: [{ sku: 'CRO-1', quantity: 1 }], quoteToken: 'not-a-token' }, 'QUOTE_INVALID'],
    ];
    const count = async () => ((await system.ok('{ orders(first: 100) { edges { node { id } } } }', {}, shop.headers)) as any).orders.edges.length;
    const before = await count();
    for (const [input, code] of cases) {
      const result = await system.request(PLACE_ORDER, { input }, shop.headers);
      expect({ input, code: result.errors?.[0]?.extensions?.code }).toEqual({ input, code });
    }
    // What cannot be priced has no quote to charge.
    for (const [sku, code] of [['UNP-1', 'BAD_USER_INPUT'], ['NOPE', 'BAD_USER_INPUT']]) {
      const result = await system.request('query ($input: QuoteInput!) { quote(input: $input) { token } }', { input: { storeId: shop.storeId, lines: [{ sku, quantity: 1 }] } }, shop.headers);
      expect({ sku, code: result.errors?.[0]?.extensions?.code }).toEqual({ sku, code });
    }
    expect(await count()).toBe(before);
  });

  it('updates a product and its variants, refusing a sku of another product', async () => {
    const created = await addProduct(system, shop, 'Rye Bread', ['RYE-1']);
    const updated = await system.ok(
      `mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id title brand variants { sku title barcode } } }`,
      { input: { id: created.id, title: 'Rye Loaf', brand: 'Granite', variants: [{ sku: 'RYE-1', title: 'Rye Loaf 500 g', barcode: '400123' }, { sku: 'RYE-2', title: 'Rye Loaf 1 kg' }] } },
      shop.headers,
    );
    expect(updated.upsertProduct).toEqual({
      id: created.id, title: 'Rye Loaf', brand: 'Granite',
      variants: [{ sku: 'RYE-1', title: 'Rye Loaf 500 g', barcode: '400123' }, { sku: 'RYE-2', title: 'Rye Loaf 1 kg', barcode: null }],
    });
    const stolen = await system.request(
      `mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id } }`,
      { input: { title: 'Thief', variants: [{ sku: 'RYE-1', title: 'x' }] } },
      shop.headers,
    );
    expect(stolen.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const missing = await system.request(
      `mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id } }`,
      { input: { id: '00000000-0000-4000-8000-000000000000', title: 'Ghost', variants: [{ sku: 'GHOST-1', title: 'x' }] } },
      shop.headers,
    );
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const ghost = await system.ok('{ variant(sku: "GHOST-1") { sku } thief: products(query: "Thief") { edges { cursor } } }', {}, shop.headers);
    expect(ghost).toEqual({ variant: null, thief: { edges: [] } });
  });
});
