import { addProduct, createShop, receiveStock, RECEIVE_STOCK, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { startRedisProcess, type RedisProcess } from '../support/redis-process.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const SHELF = `query Shelf($store: ID!) { variant(sku: "OUT-1") { sku price(storeId: $store) { amount } stock(storeId: $store) { available } } }`;
const STOCK = `subscription ($store: ID!) { stockChanged(storeId: $store) { sku onHand version } }`;

/** One series of the gateway's /metrics, e.g. `redis_up{client="rate_limit"}`; undefined when absent. */
async function metric(system: TestSupergraph, series: string): Promise<number | undefined> {
  const text = await (await fetch(system.gatewayUrl.replace('/graphql', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// Its own redis-server, which the test freezes and kills: runs in both CI passes.
describe('a Redis outage', () => {
  let redis: RedisProcess;
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    redis = await startRedisProcess();
    // The test's client (127.0.0.1) acts as a proxy, so each part of the test can be a client of its own.
    system = await startSupergraph({ redisUrl: redis.url, trustedProxies: ['127.0.0.1'], rateLimitPerMinute: { authenticated: 1000, anonymous: 50 } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Outage', ['OUT-1']);
    await receiveStock(system, shop, 'OUT-1', 5);
  });
  afterAll(async () => {
    // A system stops cleanly only with its Redis there (the relays publish what is left).
    await redis?.ensureRunning();
    await system?.stop();
    await redis?.stop();
  });

  const shelf = async () => (await system.ok(SHELF, { store: shop.storeId }, shop.storefrontHeaders)).variant.stock;
  const receive = async (quantity: number) => {
    const answer = await system.request(RECEIVE_STOCK, { input: { sku: 'OUT-1', storeId: shop.storeId, quantity } }, shop.headers);
    expect(answer.errors).toBeUndefined();
    return answer.data!.receiveStock as { onHand: number; version: number };
  };
  /** The stockChanged payloads a subscriber has received, as data or error codes. */
  const seen = (results: { data?: any; errors?: { extensions?: Record<string, unknown> }[] }[]) =>
    results.map((r) => r.data?.stockChanged ?? r.errors?.map((e) => e.extensions?.code));

  it('while Redis is frozen: reads and writes answer, subscribers are told, metrics show it; then updates resume with fresh data', async () => {
    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    const live = subscribe(client, STOCK, { store: shop.storeId });
    await live.waitFor(1);
    expect(seen(live.results)).toEqual([{ sku: 'OUT-1', onHand: 5, version: 1 }]);
    // An anonymous read the storefront cache keeps (until a change event, which cannot come now).
    expect(await shelf()).toEqual({ available: 5 });
    expect(await shelf()).toEqual({ available: 5 });

    redis.freeze();
    // A read and a write answer; the write's event waits in the outbox.
    expect(await shelf()).toEqual({ available: 5 });
    expect(await receive(3)).toMatchObject({ onHand: 8, version: 2 });
    expect(await metric(system, 'outbox_backlog_events{service="inventory"}')).toBeGreaterThanOrEqual(1);

    // Once the gateway sees the bus gone, its subscribers are told, and the storefront cache (whose
    // change events cannot arrive) is out of the way: the anonymous read has the write in it.
    await live.waitFor(2, 10_000);
    expect(seen(live.results)).toEqual([{ sku: 'OUT-1', onHand: 5, version: 1 }, ['LIVE_UPDATES_INTERRUPTED']]);
    expect(live.results[1]!.errors![0]!.message).toMatch(/^Live updates are interrupted/);
    expect(await shelf()).toEqual({ available: 8 });
    expect(await shelf()).toEqual({ available: 8 });
    expect(await metric(system, 'gateway_bus_up')).toBe(0);
    expect(await metric(system, 'redis_up{client="rate_limit"}')).toBe(0);
    expect(await metric(system, 'rate_limit_fallback_total')).toBeGreaterThan(0);
    expect(await metric(system, 'gateway_live_update_interruptions_total')).toBeGreaterThanOrEqual(1);
    // Rate limits still hold, counted by this gateway alone: the 51st read of a client this minute is refused.
    const client50 = { ...shop.storefrontHeaders, 'x-forwarded-for': '203.0.113.50' };
    for (let i = 0; i < 50; i++) expect((await system.request(SHELF, { store: shop.storeId }, client50)).errors).toBeUndefined();
    expect((await system.request(SHELF, { store: shop.storeId }, client50)).errors?.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);

    redis.thaw();
    // Fresh state first (the write made during the outage), then live changes again.
    await eventually(async () => expect(seen(live.results).slice(2)).toContainEqual({ sku: 'OUT-1', onHand: 8, version: 2 }), 15_000);
    await eventually(async () => expect(await metric(system, 'outbox_backlog_events{service="inventory"}')).toBe(0), 10_000);
    expect(await receive(1)).toMatchObject({ onHand: 9, version: 3 });
    await eventually(async () => expect(seen(live.results).at(-1)).toEqual({ sku: 'OUT-1', onHand: 9, version: 3 }), 10_000);
    // The gateway's monitor says so at its next answered ping (live events may come back first).
    await eventually(async () => expect(await metric(system, 'gateway_bus_up')).toBe(1), 5_000);
    let n = 0;
    await eventually(async () => {
      await system.ok(SHELF, { store: shop.storeId }, { ...shop.storefrontHeaders, 'x-forwarded-for': `198.18.0.${++n % 250}` });
      expect(await metric(system, 'redis_up{client="rate_limit"}')).toBe(1);
    }, 10_000);
    await client.dispose();
  });

  it('while Redis is dead: reads and writes answer; when an empty Redis returns, subscribers get fresh data and live updates', async () => {
    // Starts from a bus the gateway knows to be up, whatever ran before.
    await eventually(async () => expect(await metric(system, 'gateway_bus_up')).toBe(1), 5_000);
    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    const live = subscribe(client, STOCK, { store: shop.storeId });
    await live.waitFor(1);
    // The truth, past any cache: an admin's read.
    const before = (await system.ok(SHELF, { store: shop.storeId }, shop.headers)).variant.stock as { available: number };
    expect(seen(live.results)).toEqual([{ sku: 'OUT-1', onHand: before.available, version: expect.any(Number) }]);
    const version = (live.results[0]!.data as { stockChanged: { version: number } }).stockChanged.version;

    await redis.kill();
    expect(await shelf()).toEqual({ available: before.available });
    expect(await receive(2)).toMatchObject({ onHand: before.available + 2, version: version + 1 });
    await live.waitFor(2, 10_000);
    expect(seen(live.results).slice(1)).toEqual([['LIVE_UPDATES_INTERRUPTED']]);
    expect(await shelf()).toEqual({ available: before.available + 2 });

    await redis.restart();
    await eventually(
      async () => expect(seen(live.results).slice(2)).toContainEqual({ sku: 'OUT-1', onHand: before.available + 2, version: version + 1 }),
      15_000,
    );
    await receive(1);
    await eventually(async () => expect(seen(live.results).at(-1)).toEqual({ sku: 'OUT-1', onHand: before.available + 3, version: version + 2 }), 10_000);
    await client.dispose();
  });
});
