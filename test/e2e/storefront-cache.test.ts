import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const READ = `query Shelf($store: ID!) {
  variant(sku: "CACHE-1") { sku title price(storeId: $store) { amount } stock(storeId: $store) { available } }
}`;

interface CacheStats {
  hits: number;
  misses: number;
  entries: number;
  rawEntries: number;
  bytes: number;
  maxBytes: number;
  evictions: number;
}

describe('the gateway keeps storefront answers until their tenant changes', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;
  const cacheStats = async () =>
    ((await (await fetch(`${new URL(system.gatewayUrl).origin}/debug/subscriptions`)).json()) as { storefrontCache: CacheStats }).storefrontCache;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    other = await createShop(system);
    await addProduct(system, shop, 'Cached Tea', ['CACHE-1']);
    await addProduct(system, other, 'Other Tea', ['CACHE-1']);
    await setPrice(system, shop, 'CACHE-1', '3.00');
    await receiveStock(system, shop, 'CACHE-1', 5);
  });
  afterAll(() => system.stop());

  it('serves a repeated anonymous read from the cache, and never an answer older than the last change', async () => {
    const read = () => system.ok(READ, { store: shop.storeId }, shop.storefrontHeaders);
    const first = await read();
    expect(first.variant).toEqual({ sku: 'CACHE-1', title: 'Cached Tea CACHE-1', price: { amount: '3.00' }, stock: { available: 5 } });
    // The set-up's price and stock changes also reach the catalog's search data, which announces
    // them (catalog.search.changed) a little later and drops the tenant's answers again: once the
    // tenant is quiet, a repeated read is a hit.
    const after = await eventually(async () => {
      const before = await cacheStats();
      expect(await read()).toEqual(first);
      const stats = await cacheStats();
      expect(stats.hits).toBe(before.hits + 1);
      return stats;
    });
    // Kept at both levels: the parsed result and the whole answer to those request bytes.
    expect(after).toEqual(expect.objectContaining({ entries: 1, rawEntries: 1 }));

    // A change of stock, then of price: the next read shows it (the event dropped the answer).
    await system.ok('mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { available } }', { i: { sku: 'CACHE-1', storeId: shop.storeId, delta: -2 } }, shop.headers);
    await eventually(async () => expect((await read()).variant.stock).toEqual({ available: 3 }));
    await setPrice(system, shop, 'CACHE-1', '3.50');
    await eventually(async () => expect((await read()).variant.price).toEqual({ amount: '3.50' }));

    // Another tenant's shoppers never get this tenant's answer; staff are never served from the cache.
    const theirs = await system.ok(READ, { store: other.storeId }, other.storefrontHeaders);
    expect(theirs.variant).toEqual({ sku: 'CACHE-1', title: 'Other Tea CACHE-1', price: null, stock: { available: 0 } });
    const staff = await cacheStats();
    await system.ok(READ, { store: shop.storeId }, shop.headers);
    await system.ok(READ, { store: shop.storeId }, shop.headers);
    expect((await cacheStats()).hits).toBe(staff.hits);

    // A quote is a shopper's own (an id and a token to be charged by): never served from the cache.
    const QUOTE = 'query ($i: QuoteInput!) { quote(input: $i) { id token } }';
    const lines = { i: { storeId: shop.storeId, lines: [{ sku: 'CACHE-1', quantity: 1 }] } };
    const quotes = await cacheStats();
    const one = (await system.ok(QUOTE, lines, shop.storefrontHeaders)).quote;
    const two = (await system.ok(QUOTE, lines, shop.storefrontHeaders)).quote;
    expect(two.id).not.toBe(one.id);
    expect(two.token).not.toBe(one.token);
    expect((await cacheStats()).hits).toBe(quotes.hits);
  });
});

describe('the storefront cache is bounded in bytes', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const MAX = 8 * 1024;

  beforeAll(async () => {
    system = await startSupergraph({ storefrontCache: { maxBytes: MAX } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Bounded Tea', ['BOUND-1']);
  });
  afterAll(() => system.stop());

  it('keeps no more than its bound however many distinct reads arrive, dropping the oldest', async () => {
    const stats = async () =>
      ((await (await fetch(`${new URL(system.gatewayUrl).origin}/debug/subscriptions`)).json()) as { storefrontCache: CacheStats }).storefrontCache;
    // Distinct reads: each its own answer (an alias makes each query text differ).
    for (let i = 0; i < 40; i++) {
      const data = await system.ok(`query Read${i} { v${i}: variant(sku: "BOUND-1") { sku title } }`, {}, shop.storefrontHeaders);
      expect(data[`v${i}`]).toEqual({ sku: 'BOUND-1', title: 'Bounded Tea BOUND-1' });
      const now = await stats();
      expect(now.bytes).toBeLessThanOrEqual(MAX);
    }
    const last = await stats();
    expect(last.maxBytes).toBe(MAX);
    expect(last.evictions).toBeGreaterThan(0);
    expect(last.entries).toBeGreaterThan(0);
    // The newest read is still kept and served.
    const hits = last.hits;
    await system.ok(`query Read39 { v39: variant(sku: "BOUND-1") { sku title } }`, {}, shop.storefrontHeaders);
    expect((await stats()).hits).toBe(hits + 1);
  });
});
