import { createShop, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

describe('graceful shutdown of the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('lets requests in flight finish and closes graphql-ws sockets with 1001 (going away)', async () => {
    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    const live = subscribe(client, 'subscription ($s: ID!) { stockChanged(storeId: $s, snapshot: false) { sku } }', { s: shop.storeId });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const inFlight = system.request('query Stores { stores { code } }', {}, shop.headers);
    const stopping = system.gateway.stop();
    const answer = await inFlight;
    expect(answer).toEqual({ data: { stores: [{ code: 'D1' }, { code: 'S1' }] } });
    await stopping;
    expect((await client.closed).code).toBe(1001);
    live.stop();
    await client.dispose();
    await expect(system.request('{ __typename }')).rejects.toThrow();
  });
});
