import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/** The value of one series in Prometheus text format (labels in any order), or undefined. */
function valueOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.split(' ').at(-1));
  }
  return undefined;
}

describe('Prometheus metrics at /metrics on the gateway and every subgraph', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const scrape = async (base: string) => {
    const response = await fetch(`${new URL(base).origin}/metrics`);
    expect(response.headers.get('content-type')).toContain('text/plain');
    return response.text();
  };

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Metered Tea', ['MET-1']);
    await receiveStock(system, shop, 'MET-1', 2);
  });
  afterAll(() => system.stop());

  it('counts operations by name and outcome, subgraph fetches, events, refusals and webhook acks', async () => {
    await system.ok('query Shelf($s: ID!) { variant(sku: "MET-1") { title stock(storeId: $s) { available } } }', { s: shop.storeId }, shop.headers);
    const refused = await system.request(
      'mutation Hold($i: ReserveStockInput!) { reserveStock(input: $i) { id } }',
      { i: { sku: 'MET-1', storeId: shop.storeId, quantity: 5 } },
      shop.headers,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('INSUFFICIENT_STOCK');
    await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/pos/${shop.slug}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    const gateway = await scrape(system.gatewayUrl);
    expect(valueOf(gateway, 'graphql_requests_total', { service: 'gateway', operation: 'Shelf', code: 'OK' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(gateway, 'graphql_requests_total', { service: 'gateway', operation: 'Hold', code: 'INSUFFICIENT_STOCK' })).toBe(1);
    expect(valueOf(gateway, 'graphql_request_duration_seconds_count', { service: 'gateway', operation: 'Shelf' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(gateway, 'gateway_subgraph_fetch_duration_seconds_count', { subgraph: 'inventory', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(gateway, 'webhook_acks_total', { source: 'pos', status: '404' })).toBe(1);
    expect(valueOf(gateway, 'gateway_websockets_open')).toBe(0);
    expect(valueOf(gateway, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    // Each subgraph serves its own /metrics (in one process they share a registry, labelled by service).
    const inventory = await scrape(system.subgraphUrls.inventory);
    expect(valueOf(inventory, 'graphql_requests_total', { service: 'inventory', code: 'INSUFFICIENT_STOCK' })).toBe(1);
    expect(valueOf(inventory, 'inventory_oversell_refusals_total')).toBe(1);
    expect(valueOf(inventory, 'inventory_reservations_total', { outcome: 'insufficient_stock' })).toBe(1);
    expect(valueOf(inventory, 'events_published_total', { service: 'inventory', type: 'inventory.stock-level.changed' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(inventory, 'events_consumed_total', { service: 'inventory', type: 'catalog.variant.upserted' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(inventory, 'outbox_backlog_events', { service: 'inventory' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(inventory, 'outbox_oldest_unpublished_age_seconds', { service: 'inventory' })).toBeGreaterThanOrEqual(0);
    const orders = await scrape(system.subgraphUrls.orders);
    expect(orders).toContain('graphql_requests_total');
  });
});
