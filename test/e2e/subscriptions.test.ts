import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import WebSocket from 'ws';
import { takeNextEvents } from '../support/sse.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const STOCK = `subscription ($store: ID!, $skus: [ID!], $snapshot: Boolean) {
  stockChanged(storeId: $store, skus: $skus, snapshot: $snapshot) {
    sku storeId onHand reserved available orderable version
    variant { title barcode product { title brand } price(storeId: $store) { amount currencyCode } }
  }
}`;

const PRICE = `subscription ($store: ID!, $skus: [ID!]) {
  priceChanged(storeId: $store, skus: $skus) {
    sku storeId price { amount currencyCode } previous { amount currencyCode } version
    variant { title stock(storeId: $store) { available } }
  }
}`;

const ADJUST = 'mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { onHand version } }';

describe('live stock and prices over graphql-ws', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    other = await createShop(system);
    await addProduct(system, shop, 'Oat Drink', ['OAT-1', 'OAT-2'], { brand: 'Evergreen' });
    await setPrice(system, shop, 'OAT-1', '1.80');
    await receiveStock(system, shop, 'OAT-1', 10);
    await addProduct(system, other, 'Other Oat', ['OAT-1']);
  });
  afterAll(() => system.stop());

  it('sends the snapshot, then one payload spanning inventory, catalog and pricing per change', async () => {
    const client = liveClient(system.gatewayUrl, shop.headers);
    const stock = subscribe(client, STOCK, { store: shop.storeId });
    const [snapshot] = await stock.waitFor(1);
    expect(snapshot).toEqual({
      data: {
        stockChanged: {
          sku: 'OAT-1', storeId: shop.storeId, onHand: 10, reserved: 0, available: 10, orderable: 10, version: 1,
          variant: { title: 'Oat Drink OAT-1', barcode: null, product: { title: 'Oat Drink', brand: 'Evergreen' }, price: { amount: '1.80', currencyCode: 'EUR' } },
        },
      },
      // The first payload of a key: nothing before it.
      extensions: { version: 1, previousVersion: null },
    });
    await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: -4 } }, shop.headers);
    await receiveStock(system, shop, 'OAT-2', 3);
    const results = await stock.waitFor(3);
    expect(results.slice(1).map((r) => r.data.stockChanged)).toEqual([
      expect.objectContaining({ sku: 'OAT-1', onHand: 6, available: 6, version: 2, variant: expect.objectContaining({ title: 'Oat Drink OAT-1' }) }),
      expect.objectContaining({ sku: 'OAT-2', onHand: 3, version: 1, variant: expect.objectContaining({ title: 'Oat Drink OAT-2', price: null }) }),
    ]);
    stock.stop();
    await client.dispose();
  });

  it('folds a burst into the newest state per sku, each payload naming the version sent before it', async () => {
    await addProduct(system, shop, 'Oat Bar', ['OAT-3']);
    await receiveStock(system, shop, 'OAT-3', 1);
    const client = liveClient(system.gatewayUrl, shop.headers);
    const stock = subscribe(client, STOCK, { store: shop.storeId, skus: ['OAT-3'] });
    type Order = { version: number; previousVersion: number | null };
    const orderOf = (result: unknown) => (result as { extensions: Order }).extensions;
    const [first] = await stock.waitFor(1);
    const start = orderOf(first).version;
    // 15 changes at once: the gateway may fold some (README, "Bursts"), never reorder or lose the last.
    await Promise.all(Array.from({ length: 15 }, () => system.ok(ADJUST, { input: { sku: 'OAT-3', storeId: shop.storeId, delta: 1 } }, shop.headers)));
    await eventually(async () => expect(orderOf(stock.results.at(-1)).version).toBe(start + 15));
    const order = stock.results.map(orderOf);
    // A chain: each payload's previousVersion is the version of the payload before it, so nothing was lost.
    for (let i = 1; i < order.length; i += 1) expect(order[i]!.previousVersion).toBe(order[i - 1]!.version);
    expect(stock.results.at(-1)!.data.stockChanged).toEqual(expect.objectContaining({ onHand: 16, version: start + 15 }));
    await client.dispose();
  });

  it('narrows to skus, skips the snapshot on request, and carries the previous price', async () => {
    const client = liveClient(system.gatewayUrl, shop.headers);
    const prices = subscribe(client, PRICE, { store: shop.storeId, skus: ['OAT-1'] });
    const stock = subscribe(client, STOCK, { store: shop.storeId, skus: ['OAT-2'], snapshot: false });
    await prices.waitFor(1);
    expect(prices.results[0]!.data.priceChanged).toEqual({
      sku: 'OAT-1', storeId: shop.storeId, price: { amount: '1.80', currencyCode: 'EUR' }, previous: null, version: 1,
      variant: { title: 'Oat Drink OAT-1', stock: { available: expect.any(Number) } },
    });
    await setPrice(system, shop, 'OAT-2', '2.10'); // not subscribed to
    await setPrice(system, shop, 'OAT-1', '1.95');
    await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: 1 } }, shop.headers); // not subscribed to
    await system.ok(ADJUST, { input: { sku: 'OAT-2', storeId: shop.storeId, delta: 2 } }, shop.headers);
    await prices.waitFor(2);
    await stock.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(prices.results.map((r) => r.data.priceChanged.price.amount)).toEqual(['1.80', '1.95']);
    expect(prices.results[1]!.data.priceChanged).toEqual(expect.objectContaining({ previous: { amount: '1.80', currencyCode: 'EUR' }, version: 2 }));
    expect(stock.results.map((r) => [r.data.stockChanged.sku, r.data.stockChanged.onHand])).toEqual([['OAT-2', 5]]);
    await client.dispose();
  });

  it("never delivers another tenant's events, and refuses another tenant's store", async () => {
    const mine = liveClient(system.gatewayUrl, other.headers);
    const theirs = subscribe(mine, STOCK, { store: other.storeId, snapshot: false });
    const intruder = subscribe(mine, STOCK, { store: shop.storeId });
    await intruder.waitFor(1);
    expect(intruder.results).toEqual([]);
    expect(intruder.failure).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    // the same sku changes in the first tenant: nothing arrives here
    await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: 1 } }, shop.headers);
    await receiveStock(system, other, 'OAT-1', 2);
    await theirs.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(theirs.results.map((r) => r.data.stockChanged)).toEqual([
      expect.objectContaining({ sku: 'OAT-1', onHand: 2, variant: expect.objectContaining({ title: 'Other Oat OAT-1' }) }),
    ]);
    await mine.dispose();
  });

  it('answers bad subscriptions with an error and keeps the connection and its other subscriptions', async () => {
    const client = liveClient(system.gatewayUrl, shop.headers);
    const good = subscribe(client, STOCK, { store: shop.storeId, skus: ['OAT-1'], snapshot: false });
    const noField = subscribe(client, 'subscription { nothingChanged { id } }');
    const badArgs = subscribe(client, STOCK, { store: 'not-a-store' });
    const query = subscribe(client, '{ tenant { slug } }');
    await Promise.all([noField.waitFor(1), badArgs.waitFor(1), query.waitFor(1)]);
    expect(noField.failure).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED' }) })]);
    expect(badArgs.failure).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })]);
    expect(query.results).toEqual([{ data: { tenant: { slug: shop.slug } } }]);
    await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: 1 } }, shop.headers);
    await good.waitFor(1);
    expect(good.results[0]!.data.stockChanged.sku).toBe('OAT-1');
    await client.dispose();
  });

  it('refuses a connection without a tenant', async () => {
    const client = liveClient(system.gatewayUrl, {});
    const sub = subscribe(client, STOCK, { store: shop.storeId });
    const closed = await client.closed;
    expect(closed.code).toBe(4403);
    expect(closed.reason).toMatch(/tenant/i);
    expect(sub.results).toEqual([]);
    await client.dispose();
  });

  it('degrades when a subgraph stops mid-stream, and recovers', async () => {
    const client = liveClient(system.gatewayUrl, shop.headers);
    const stock = subscribe(client, STOCK, { store: shop.storeId, skus: ['OAT-1'], snapshot: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const port = Number(new URL(system.subgraphUrls.catalog).port);
    await system.subgraphs.catalog.stop();
    try {
      await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: 1 } }, shop.headers);
      const [degraded] = await stock.waitFor(1);
      expect(degraded!.data.stockChanged).toEqual(expect.objectContaining({ sku: 'OAT-1', variant: null }));
      expect(degraded!.errors).toEqual([expect.objectContaining({ extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) })]);
    } finally {
      await system.subgraphs.catalog.start(port);
    }
    await system.ok(ADJUST, { input: { sku: 'OAT-1', storeId: shop.storeId, delta: 1 } }, shop.headers);
    const results = await stock.waitFor(2);
    expect(results[1]!.data.stockChanged.variant.title).toBe('Oat Drink OAT-1');
    expect(results[1]!.data.stockChanged.version).toBe(results[0]!.data.stockChanged.version + 1);
    await client.dispose();
  });

  it('keeps delivering to others while one client does not read', async () => {
    // A raw client that subscribes and then stops reading its socket.
    const slow = new WebSocket(system.gatewayUrl.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init', payload: shop.headers }));
    await new Promise((resolve) => slow.once('message', resolve));
    slow.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: STOCK, variables: { store: shop.storeId, snapshot: false } } }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();

    const fast = liveClient(system.gatewayUrl, shop.headers);
    const fastSub = subscribe(fast, STOCK, { store: shop.storeId, snapshot: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (let i = 0; i < 5; i += 1) await system.ok(ADJUST, { input: { sku: 'OAT-2', storeId: shop.storeId, delta: 1 } }, shop.headers);
    const results = await fastSub.waitFor(5, 2_000);
    const versions = results.map((r) => r.data.stockChanged.version);
    expect(versions).toEqual([versions[0], versions[0] + 1, versions[0] + 2, versions[0] + 3, versions[0] + 4]);
    slow.terminate();
    await fast.dispose();
  });
});

describe('a client that stays too slow', () => {
  let system: TestSupergraph;
  let shop: Shop;
  beforeAll(async () => {
    // Every update counts as waiting, and three may wait: the fourth distinct sku closes the socket.
    system = await startSupergraph({ subscriptionLimits: { highWaterBytes: -1, maxPendingUpdates: 3 } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Granola', ['GRA-1', 'GRA-2', 'GRA-3', 'GRA-4']);
  });
  afterAll(() => system.stop());

  it('gets newer updates of a sku in place of older ones, then is closed with 4413', async () => {
    const client = liveClient(system.gatewayUrl, shop.headers);
    const stock = subscribe(client, STOCK, { store: shop.storeId, snapshot: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await receiveStock(system, shop, 'GRA-1', 1);
    await receiveStock(system, shop, 'GRA-1', 1); // coalesces with the first
    await receiveStock(system, shop, 'GRA-2', 1);
    await receiveStock(system, shop, 'GRA-3', 1);
    let closedEarly = false;
    void client.closed.then(() => (closedEarly = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closedEarly).toBe(false); // three waiting: GRA-1 (twice, coalesced), GRA-2, GRA-3
    await receiveStock(system, shop, 'GRA-4', 1);
    const closed = await client.closed;
    expect(closed).toEqual(expect.objectContaining({ code: 4413, reason: expect.stringMatching(/slow consumer/i) }));
    expect(stock.results).toEqual([]);
  });
});

describe('live stock over server-sent events', () => {
  let system: TestSupergraph;
  let shop: Shop;
  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Kombucha', ['KOM-1']);
    await receiveStock(system, shop, 'KOM-1', 4);
  });
  afterAll(() => system.stop());

  it('streams the same payloads as graphql-ws', async () => {
    const controller = new AbortController();
    const response = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...shop.headers },
      body: JSON.stringify({ query: STOCK, variables: { store: shop.storeId } }),
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    const events: any[] = [];
    let buffer = '';
    const read = async (count: number) => {
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = takeNextEvents(buffer + new TextDecoder().decode(value), events);
      }
    };
    await read(1);
    await system.ok(ADJUST, { input: { sku: 'KOM-1', storeId: shop.storeId, delta: -1 } }, shop.headers);
    await read(2);
    controller.abort();
    expect(events.map((e) => [e.data.stockChanged.onHand, e.data.stockChanged.version, e.data.stockChanged.variant.title])).toEqual([
      [4, 1, 'Kombucha KOM-1'],
      [3, 2, 'Kombucha KOM-1'],
    ]);
  });
});
