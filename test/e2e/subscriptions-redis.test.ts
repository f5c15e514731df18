import { readFileSync } from 'node:fs';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import type { EventBus } from '../../lib/events/event-bus.js';
import { createRedisBus } from '../../lib/events/redis-bus.js';
import { SUPERGRAPH_PATH } from '../../schema/compose-supergraph.js';
import { CREATE_API_KEY, addProduct, bearer, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const STOCK = `subscription ($store: ID!) { stockChanged(storeId: $store, snapshot: false) { sku onHand version variant { title } } }`;

// Two gateways can only share events through Redis: this suite runs where REDIS_URL is set (CI's real-server pass).
const withRedis = process.env.REDIS_URL ? describe : describe.skip;

withRedis('two gateway processes sharing Redis', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let secondBus: EventBus;
  let second: Gateway;
  let secondUrl: string;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Lemonade', ['LEM-1']);
    secondBus = await createRedisBus({ url: process.env.REDIS_URL!, stream: system.redisStream, log: () => {} });
    second = await buildGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
      subgraphUrls: system.subgraphUrls,
      auth: { subgraphSecret: system.subgraphSecret, platformApiKey: system.platformApiKey },
      subscriptions: { bus: secondBus },
      log: () => {},
    });
    secondUrl = `${await second.start(0)}/graphql`;
  });
  afterAll(async () => {
    await second.stop();
    await secondBus.close();
    await system.stop();
  });

  it('both deliver every change to their own clients', async () => {
    const a = liveClient(system.gatewayUrl, shop.headers);
    const b = liveClient(secondUrl, shop.headers);
    const onA = subscribe(a, STOCK, { store: shop.storeId });
    const onB = subscribe(b, STOCK, { store: shop.storeId });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await receiveStock(system, shop, 'LEM-1', 5);
    await receiveStock(system, shop, 'LEM-1', 2);
    const expected = [
      { sku: 'LEM-1', onHand: 5, version: 1, variant: { title: 'Lemonade LEM-1' } },
      { sku: 'LEM-1', onHand: 7, version: 2, variant: { title: 'Lemonade LEM-1' } },
    ];
    expect((await onA.waitFor(2)).map((r) => r.data.stockChanged)).toEqual(expected);
    expect((await onB.waitFor(2)).map((r) => r.data.stockChanged)).toEqual(expected);
    await a.dispose();
    await b.dispose();
  });

  it("closes a key's sockets on every gateway when it is revoked through one of them", async () => {
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'till on b', role: 'POS' } }, shop.headers);
    const b = liveClient(secondUrl, bearer(createApiKey.key));
    const onB = subscribe(b, 'subscription ($store: ID!) { stockChanged(storeId: $store) { sku version } }', { store: shop.storeId });
    await onB.waitFor(1);
    await system.ok('mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: createApiKey.apiKey.id }, shop.headers);
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([b.closed, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 3_000)))]);
    clearTimeout(timer);
    expect(closed && { code: closed.code, reason: closed.reason }).toEqual({ code: 4403, reason: 'Forbidden: The API key was revoked.' });
    await b.dispose();
  });
});
