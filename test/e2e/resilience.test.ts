import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const QUERY = `query ($store: ID!) {
  products(first: 5) { edges { node { title variants { sku price(storeId: $store) { amount } stock(storeId: $store) { onHand } } } } }
}`;

describe('a subgraph that is down', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Honey', ['HON-1']);
    await setPrice(system, shop, 'HON-1', '6.00');
    await receiveStock(system, shop, 'HON-1', 4);
  });
  afterAll(() => system.stop());

  it('makes its fields null with an error, delivers the rest, and recovers when it is back', async () => {
    const port = Number(new URL(system.subgraphUrls.inventory).port);
    await system.subgraphs.inventory.stop();
    const degraded = await system.request(QUERY, { store: shop.storeId }, shop.headers);
    expect(degraded.data).toEqual({
      products: { edges: [{ node: { title: 'Honey', variants: [{ sku: 'HON-1', price: { amount: '6.00' }, stock: null }] } }] },
    });
    expect(degraded.errors).toEqual([
      expect.objectContaining({ message: 'The inventory service is unavailable.', extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) }),
    ]);
    expect(JSON.stringify(degraded.errors)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);

    const ready = await fetch(system.gatewayUrl.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(503);
    // Each dependency by name: every subgraph with its database and bus, and the gateway's bus.
    const up = { ready: true, database: true, bus: true };
    expect(await ready.json()).toEqual({
      status: 'unavailable',
      subgraphs: { catalog: up, inventory: { ready: false }, pricing: up, orders: up, tenant: up },
      bus: true,
    });

    await system.subgraphs.inventory.start(port);
    const recovered = await system.ok(QUERY, { store: shop.storeId }, shop.headers);
    expect(recovered.products.edges[0].node.variants[0].stock).toEqual({ onHand: 4 });
    expect((await fetch(system.gatewayUrl.replace('/graphql', '/readyz'))).status).toBe(200);
    expect((await fetch(system.gatewayUrl.replace('/graphql', '/healthz'))).status).toBe(200);
  });
});
