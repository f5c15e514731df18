import { DEFAULT_OUTBOUND_WEBHOOKS } from '../../subgraphs/tenant/src/webhooks/config.js';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id status } }';
const PAY = 'mutation ($id: ID!) { payOrder(id: $id) { id status } }';
const SET = 'mutation ($input: SetOrderHookInput!) { setOrderHook(input: $input) { event url timeoutMs failurePolicy } }';
const REMOVE = 'mutation ($event: OrderHookEvent!) { removeOrderHook(event: $event) }';
const DECISIONS = '{ orderHookDecisions(first: 10) { event orderId decidedBy allowed policyApplied reason latencyMs } }';
const ORDER = 'query ($id: ID!) { order(id: $id) { status } }';

describe('decision hooks at order transitions', () => {
  let system: TestSupergraph;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let shop: Shop;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // The hooks' calls go out under the outbound webhooks' policy: loopback allowed here.
    system = await startSupergraph({ subgraphOptions: { webhooks: { ...DEFAULT_OUTBOUND_WEBHOOKS, policy: { requireHttps: false, allowedCidrs: ['127.0.0.0/8'] } } } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Hooked Tea', ['HK-1']);
    await setPrice(system, shop, 'HK-1', '2.00');
    await receiveStock(system, shop, 'HK-1', 50);
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  const place = async () => system.request(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'HK-1', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders);

  it('a hook that rejects stops the transition; its answer and reason are recorded', async () => {
    receiver.on('/fraud', () => ({ status: 200, body: JSON.stringify({ allow: false, reason: 'fraud score 97' }) }));
    await system.ok(SET, { input: { event: 'PLACE', url: receiver.url('/fraud') } }, shop.headers);
    const refused = await place();
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'ORDER_HOOK_REJECTED', event: 'place', policyApplied: null });
    expect(refused.errors?.[0]?.message).toContain('fraud score 97');
    const [call] = receiver.at('/fraud');
    expect(JSON.parse(call!.body)).toMatchObject({ transition: 'place', storeId: shop.storeId, lines: [{ sku: 'HK-1', quantity: 1 }] });
    expect((await system.ok(DECISIONS, {}, shop.headers)).orderHookDecisions[0]).toMatchObject({
      event: 'PLACE', orderId: null, decidedBy: receiver.url('/fraud'), allowed: false, policyApplied: null, reason: 'fraud score 97',
    });
    expect((await system.ok(REMOVE, { event: 'PLACE' }, shop.headers)).removeOrderHook).toBe(true);
  }, 60_000);

  it('a hook that times out falls to its policy: CLOSED rejects, OPEN lets the order through; both recorded', async () => {
    receiver.on('/slow', () => 'hang');
    await system.ok(SET, { input: { event: 'PAY', url: receiver.url('/slow'), timeoutMs: 300, failurePolicy: 'CLOSED' } }, shop.headers);
    const placed = await place();
    const id = placed.data!.placeOrder.id as string;
    await eventually(async () => expect((await system.ok(ORDER, { id }, shop.headers)).order.status).toBe('RESERVED'), 10_000);

    const closed = await system.request(PAY, { id }, shop.posHeaders);
    expect(closed.errors?.[0]?.extensions).toMatchObject({ code: 'ORDER_HOOK_REJECTED', event: 'pay', policyApplied: 'CLOSED' });
    expect((await system.ok(ORDER, { id }, shop.headers)).order.status).toBe('RESERVED');

    await system.ok(SET, { input: { event: 'PAY', url: receiver.url('/slow'), timeoutMs: 300, failurePolicy: 'OPEN' } }, shop.headers);
    expect((await system.ok(PAY, { id }, shop.posHeaders)).payOrder.status).toBe('PAID');
    const [open, shut] = (await system.ok(DECISIONS, {}, shop.headers)).orderHookDecisions;
    expect([open, shut]).toEqual([
      expect.objectContaining({ event: 'PAY', orderId: id, allowed: true, policyApplied: 'OPEN', reason: 'timed out after 300 ms' }),
      expect.objectContaining({ event: 'PAY', orderId: id, allowed: false, policyApplied: 'CLOSED', reason: 'timed out after 300 ms' }),
    ]);
    // An invalid transition is refused before any hook is asked.
    expect((await system.request(PAY, { id }, shop.posHeaders)).errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
    expect(receiver.at('/slow')).toHaveLength(2);
  }, 60_000);

  it('refuses hook targets as webhooks are refused', async () => {
    const result = await system.request(SET, { input: { event: 'PAY', url: 'http://169.254.169.254/' } }, shop.headers);
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'WEBHOOK_TARGET_FORBIDDEN', field: 'url' });
  });
});
