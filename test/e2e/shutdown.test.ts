import { createShop, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { FREE_PORTS } from '../../lib/subgraphs.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

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

describe('a start that fails', () => {
  it('rejects with the reason and leaves nothing running: the services that started, their databases and the gateway built meanwhile are released', async () => {
    // A port already taken: the catalog cannot listen, while the other services and the gateway start.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const running = () => process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap').sort();
    const before = running();
    try {
      await expect(startSupergraph({ ports: { ...FREE_PORTS, catalog: port } })).rejects.toThrow(/EADDRINUSE/);
      // Sockets and timers close asynchronously: what is left settles within a moment.
      await eventually(async () => expect(running()).toEqual(before), 5_000);
    } finally {
      taken.close();
    }
  });
});
