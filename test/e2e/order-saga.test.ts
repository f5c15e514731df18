import { randomUUID } from 'node:crypto';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id number status workflowVersion } }';
const ORDER = 'query ($id: ID!) { order(id: $id) { status version workflowVersion history { from to event cause } } }';
const LEVEL = 'query ($sku: ID!, $s: ID!) { variant(sku: $sku) { stock(storeId: $s) { onHand reserved available } } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

describe('orders as a versioned workflow driven by events', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { orderWorkflowVersion: 1 } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Butter', ['BUT-1', 'BUT-2']);
    await setPrice(system, shop, 'BUT-1', '2.00');
    await setPrice(system, shop, 'BUT-2', '3.00');
    await receiveStock(system, shop, 'BUT-1', 10);
    await receiveStock(system, shop, 'BUT-2', 1);
  });
  afterAll(() => system.stop());

  const place = async (lines: { sku: string; quantity: number }[]) =>
    eventually(async () => {
      const result = await system.request(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines }, shop.posHeaders) }, shop.posHeaders);
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return result.data!.placeOrder as { id: string; status: string; workflowVersion: number };
    });
  const statusOf = (id: string, wanted: string) =>
    eventually(async () => {
      const { order } = await system.ok(ORDER, { id }, shop.posHeaders);
      if (order.status !== wanted) throw new Error(`${order.status}, waiting for ${wanted}`);
      return order;
    });
  const level = async (sku: string) => (await system.ok(LEVEL, { sku, s: shop.storeId }, shop.headers)).variant.stock;

  it('places at once, reserves every line by event, then pays and fulfils into sales', async () => {
    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    const placed = await place([{ sku: 'BUT-1', quantity: 3 }]);
    const updates = subscribe(client, 'subscription ($id: ID!) { orderUpdated(orderId: $id) { status version history { to } } }', { id: placed.id });
    expect(placed).toEqual({ id: expect.any(String), number: 1, status: 'PLACED', workflowVersion: 1 });
    const reserved = await statusOf(placed.id, 'RESERVED');
    expect(reserved.history).toEqual([
      { from: null, to: 'PLACED', event: 'place', cause: null },
      { from: 'PLACED', to: 'RESERVED', event: 'reservation.confirmed', cause: expect.stringMatching(/^inventory event /) },
    ]);
    expect(await level('BUT-1')).toEqual({ onHand: 10, reserved: 3, available: 7 });
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: placed.id }, shop.posHeaders);
    const fulfilled = await system.ok('mutation ($id: ID!) { fulfillOrder(id: $id) { status version } }', { id: placed.id }, shop.posHeaders);
    expect(fulfilled.fulfillOrder).toEqual({ status: 'FULFILLED', version: 4 });
    await eventually(async () => expect(await level('BUT-1')).toEqual({ onHand: 7, reserved: 0, available: 7 }));
    // The subscriber saw the current state first, then every transition after it.
    const seen = await updates.waitFor(3);
    const statuses = seen.map((r) => r.data.orderUpdated.status);
    expect(statuses.slice(-2)).toEqual(['PAID', 'FULFILLED']);
    expect(seen.map((r) => r.data.orderUpdated.version)).toEqual([...seen.keys()].map((i) => seen[0]!.data.orderUpdated.version + i));
    await client.dispose();
  });

  it('rejects an order it cannot reserve in full, reserving none of it', async () => {
    const placed = await place([{ sku: 'BUT-1', quantity: 1 }, { sku: 'BUT-2', quantity: 5 }]);
    const rejected = await statusOf(placed.id, 'REJECTED');
    expect(rejected.history.at(-1)).toEqual({ from: 'PLACED', to: 'REJECTED', event: 'reservation.rejected', cause: expect.stringMatching(/insufficient stock/) });
    expect(await level('BUT-1')).toEqual({ onHand: 7, reserved: 0, available: 7 });
    const pay = await system.request('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: placed.id }, shop.posHeaders);
    expect(pay.errors?.[0]).toEqual(expect.objectContaining({
      message: 'An order in REJECTED does not accept "pay" (order workflow v1).',
      extensions: expect.objectContaining({ code: 'INVALID_TRANSITION', status: 'REJECTED', event: 'pay' }),
    }));
  });

  it('releases the reservations of a cancelled order', async () => {
    const placed = await place([{ sku: 'BUT-1', quantity: 2 }]);
    await statusOf(placed.id, 'RESERVED');
    expect((await level('BUT-1')).reserved).toBe(2);
    await system.ok('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', { id: placed.id }, shop.posHeaders);
    await eventually(async () => expect(await level('BUT-1')).toEqual({ onHand: 7, reserved: 0, available: 7 }));
  });

  it('keeps each order on the workflow version it started on, with two versions live', async () => {
    const old = await place([{ sku: 'BUT-1', quantity: 1 }]);
    await statusOf(old.id, 'RESERVED');
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: old.id }, shop.posHeaders);
    // A new deployment makes v2 (no cancelling once paid) the version new orders start on.
    await system.redeploy('orders', { orderWorkflowVersion: 2 });
    const fresh = await place([{ sku: 'BUT-1', quantity: 1 }]);
    expect(fresh.workflowVersion).toBe(2);
    await statusOf(fresh.id, 'RESERVED');
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: fresh.id }, shop.posHeaders);
    const cancelOld = await system.ok('mutation ($id: ID!) { cancelOrder(id: $id) { status workflowVersion } }', { id: old.id }, shop.posHeaders);
    expect(cancelOld.cancelOrder).toEqual({ status: 'CANCELLED', workflowVersion: 1 });
    const cancelFresh = await system.request('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', { id: fresh.id }, shop.posHeaders);
    expect(codes(cancelFresh)).toEqual(['INVALID_TRANSITION']);
    expect(cancelFresh.errors?.[0]?.message).toMatch(/PAID .*"cancel".*v2/);
  });

  it('applies an order event delivered twice only once', async () => {
    const orderId = randomUUID();
    const event = {
      eventId: randomUUID(), type: 'orders.order.placed', occurredAt: new Date().toISOString(), tenantId: shop.tenantId, source: 'orders', version: 1,
      payload: { id: orderId, number: 999, storeId: shop.storeId, lines: [{ sku: 'BUT-1', quantity: 1 }] },
    };
    await system.bus.publish(event);
    await system.bus.publish(event);
    const reservations = async () =>
      (await system.ok('{ movements(sku: "BUT-1", first: 100) { edges { node { kind reference } } } }', {}, shop.headers)).movements.edges.filter(
        (e: { node: { kind: string; reference: string } }) => e.node.kind === 'RESERVATION' && e.node.reference === `order:${orderId}`,
      );
    await eventually(async () => expect(await reservations()).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await reservations()).toHaveLength(1);
  });
});
