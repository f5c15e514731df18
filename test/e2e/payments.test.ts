import { signTestCard, TEST_CARDS, testCardWebhookKey } from '../../lib/payments/test-card.js';
import { addProduct, cartQuoted, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Issue 17, payments and refunds: the `test-card` processor authorises and confirms by a signed
 * webhook POSTed to the gateway over real HTTP; capture makes the order PAID; refunds through the
 * provider, never past what was captured. On whichever database and bus the run uses.
 */
const REGISTER = 'mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { accessToken customer { id } } }';
const CREATE_CART = 'mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }';
const ADD = 'mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { id } }';
const METHODS = 'query ($c: ID!) { availableShippingMethods(cartId: $c) { id name } }';
const PAYMENT = 'provider state amount { amount currencyCode } captured { amount } refunded { amount } reference declineReason refunds { amount { amount } reason reference }';
const ORDER = `id status total { amount } payments { ${PAYMENT} } history { event to }`;
const CHECKOUT = `mutation ($i: CheckoutInput!) { checkout(input: $i) { ${ORDER} } }`;
const READ_ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER} } }`;
const CAPTURE = `mutation ($id: ID!) { capturePayment(orderId: $id) { ${ORDER} } }`;
const REFUND = `mutation ($i: RefundOrderInput!) { refundOrder(input: $i) { ${ORDER} } }`;
const LEVEL = 'query ($sku: ID!, $s: ID!) { variant(sku: $sku) { stock(storeId: $s) { onHand reserved available } } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
/** The row id in a shipment's or return's `Node` id (`<Type>:<orderId>:<uuid>`, decision 0026): ledger references name the row. */
const rowId = (id: string) => Buffer.from(id, 'base64url').toString('utf8').split(':')[2];
const asCustomer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('payments and refunds (test-card, manual)', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Coffee', ['BEAN-1', 'BEAN-2', 'BEAN-3']);
    await setPrice(system, shop, 'BEAN-1', '8.00');
    await setPrice(system, shop, 'BEAN-2', '15.50');
    await receiveStock(system, shop, 'BEAN-1', 50);
    await receiveStock(system, shop, 'BEAN-2', 50);
    await setPrice(system, shop, 'BEAN-3', '6.00');
    await receiveStock(system, shop, 'BEAN-3', 50);
    await system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', name: 'Flat', kind: 'FLAT', amount: '4.00' } }, shop.headers);
    await system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', name: 'Pickup', kind: 'PICKUP' } }, shop.headers);
  });
  afterAll(() => system.stop());

  const level = async (sku: string) => (await system.ok(LEVEL, { sku, s: shop.storeId }, shop.headers)).variant.stock;
  const readOrder = async (id: string) => (await system.ok(READ_ORDER, { id }, shop.posHeaders)).order;
  const readyCart = async (headers: Record<string, string>, lines: { sku: string; quantity: number }[], methodName = 'Flat') => {
    const { createCart } = await system.ok(CREATE_CART, { s: shop.storeId }, headers);
    await eventually(() => system.ok(ADD, { c: createCart.id, l: lines }, headers));
    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "payer@example.com") { id } }', { c: createCart.id }, headers);
    await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: createCart.id, a: { name: 'Pat', line1: '3 Hill Rd', city: 'Munich', postalCode: '80331', countryCode: 'DE' } }, headers);
    const { availableShippingMethods } = await system.ok(METHODS, { c: createCart.id }, headers);
    const method = availableShippingMethods.find((m: { name: string }) => m.name === methodName);
    await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: createCart.id, m: method.id }, headers);
    return createCart.id as string;
  };
  const card = (cardNumber: string) => ({ provider: 'TEST_CARD', cardNumber });
  /** POSTs a processor event to the gateway's webhook endpoint, signed as the test-card processor signs. */
  const deliver = async (event: object, key = testCardWebhookKey(system.subgraphSecret, shop.tenantId)) => {
    const body = JSON.stringify(event);
    const response = await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/test-card/${shop.tenantId}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...signTestCard(body, key) }, body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('authorises by card, hears the processor\'s webhook, captures, then refunds in parts up to what was captured', async () => {
    const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'payer@example.com', password: 'payer password 1', name: 'Pat' } }, shop.storefrontHeaders);
    const headers = asCustomer(registerCustomer.accessToken);
    const cartId = await readyCart(headers, [{ sku: 'BEAN-1', quantity: 2 }, { sku: 'BEAN-2', quantity: 1 }]);
    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card('4242 4242 4242 4242'), idempotencyKey: 'pat-1' }, headers) }, headers);
    // 2 × 8.00 + 15.50 + 4.00 shipping: held, not taken; the processor confirms asynchronously.
    expect(checkout.total).toEqual({ amount: '35.50' });
    expect(['RESERVED', 'AUTHORIZED']).toContain(checkout.status);
    expect(checkout.payments).toHaveLength(1);
    expect(checkout.payments[0]).toMatchObject({ provider: 'TEST_CARD', amount: { amount: '35.50', currencyCode: 'EUR' }, captured: { amount: '0.00' }, reference: expect.stringMatching(/^tc_pay_/) });

    // The signed webhook reached the gateway over HTTP and orders applied it.
    const authorized = await eventually(async () => {
      const order = await readOrder(checkout.id);
      if (order.status !== 'AUTHORIZED') throw new Error(`still ${order.status}`);
      return order;
    }, 10_000);
    expect(authorized.payments[0].state).toBe('AUTHORIZED');
    expect(await level('BEAN-1')).toEqual({ onHand: 50, reserved: 2, available: 48 });
    // Not PAID before the capture: staff cannot mark a card order paid.
    expect(codes(await system.request('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: checkout.id }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);

    const { capturePayment } = await system.ok(CAPTURE, { id: checkout.id }, shop.posHeaders);
    expect(capturePayment.status).toBe('PAID');
    expect(capturePayment.payments[0]).toMatchObject({ state: 'CAPTURED', captured: { amount: '35.50' }, refunded: { amount: '0.00' } });
    // A second capture finds nothing to take.
    expect(codes(await system.request(CAPTURE, { id: checkout.id }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);
    // The customer sees its own order's payment.
    expect((await system.ok(READ_ORDER, { id: checkout.id }, headers)).order.payments[0].state).toBe('CAPTURED');

    const partial = (await system.ok(REFUND, { i: { orderId: checkout.id, amount: '10.25', reason: 'one bag damaged' } }, shop.posHeaders)).refundOrder;
    expect(partial.status).toBe('PARTIALLY_REFUNDED');
    expect(partial.payments[0]).toMatchObject({ refunded: { amount: '10.25' }, refunds: [{ amount: { amount: '10.25' }, reason: 'one bag damaged', reference: expect.stringMatching(/^tc_ref_/) }] });
    // Never more than what is left of the capture.
    const tooMuch = await system.request(REFUND, { i: { orderId: checkout.id, amount: '25.26' } }, shop.posHeaders);
    expect(codes(tooMuch)).toEqual(['REFUND_EXCEEDS_CAPTURED']);
    expect(tooMuch.errors?.[0]?.extensions?.refundable).toBe('25.25');
    expect(codes(await system.request(REFUND, { i: { orderId: checkout.id, amount: '0' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await system.request(REFUND, { i: { orderId: checkout.id, amount: '1.001' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
    // Omitted amount: the rest.
    const full = (await system.ok(REFUND, { i: { orderId: checkout.id } }, shop.posHeaders)).refundOrder;
    expect(full.status).toBe('REFUNDED');
    expect(full.payments[0]).toMatchObject({ captured: { amount: '35.50' }, refunded: { amount: '35.50' } });
    expect(full.payments[0].refunds.map((r: { amount: { amount: string } }) => r.amount.amount)).toEqual(['10.25', '25.25']);
    expect(codes(await system.request(REFUND, { i: { orderId: checkout.id, amount: '0.01' } }, shop.posHeaders))).toEqual(['REFUND_EXCEEDS_CAPTURED']);
    expect(full.history.map((h: { event: string }) => h.event)).toEqual(['place', 'reservation.confirmed', 'authorize', 'capture', 'refund.partial', 'refund.full']);
  });

  it('declines a card: nothing captured, the stock released, the cart open again', async () => {
    const cartId = await readyCart(shop.storefrontHeaders, [{ sku: 'BEAN-3', quantity: 3 }]);
    const declined = await system.request(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.DECLINE), idempotencyKey: 'decline-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    expect(codes(declined)).toEqual(['PAYMENT_DECLINED']);
    expect(declined.errors?.[0]?.extensions?.reason).toBe('card_declined');
    const orderId = declined.errors?.[0]?.extensions?.orderId as string;
    const order = await readOrder(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.payments).toEqual([expect.objectContaining({ state: 'DECLINED', captured: { amount: '0.00' }, declineReason: 'card_declined' })]);
    // Inventory learns of the cancellation by event and releases the reservation.
    await eventually(async () => expect(await level('BEAN-3')).toEqual({ onHand: 50, reserved: 0, available: 50 }));
    // The same key answers the same refusal; the shopper retries with another card and key.
    expect(codes(await system.request(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.DECLINE), idempotencyKey: 'decline-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders))).toEqual(['PAYMENT_DECLINED']);
    const poor = await system.request(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.INSUFFICIENT_FUNDS), idempotencyKey: 'decline-2' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    expect(poor.errors?.[0]?.extensions).toMatchObject({ code: 'PAYMENT_DECLINED', reason: 'insufficient_funds' });
    await eventually(async () => expect(await level('BEAN-3')).toEqual({ onHand: 50, reserved: 0, available: 50 }));
    // A malformed card number is refused before anything is placed.
    expect(codes(await system.request(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card('4242-abc'), idempotencyKey: 'decline-3' }, shop.storefrontHeaders) }, shop.storefrontHeaders))).toEqual(['BAD_USER_INPUT']);
  });

  it('applies a duplicated processor webhook once, and refuses a forged one', async () => {
    const cartId = await readyCart(shop.storefrontHeaders, [{ sku: 'BEAN-1', quantity: 1 }]);
    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.ACTION_REQUIRED), idempotencyKey: 'action-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    // 3-D-Secure-style: the payment waits for the shopper's challenge; no webhook has come yet.
    expect(checkout.status).toBe('RESERVED');
    expect(checkout.payments[0].state).toBe('ACTION_REQUIRED');
    const event = { id: 'evt_dup_1', type: 'payment.authorized', data: { payment: checkout.payments[0].reference } };

    expect((await deliver(event, 'not the key')).status).toBe(401);
    expect((await readOrder(checkout.id)).status).toBe('RESERVED');
    const first = await deliver(event);
    expect(first).toEqual({ status: 202, body: { id: 'evt_dup_1', status: 'accepted' } });
    const again = await deliver(event);
    expect(again).toEqual({ status: 200, body: { id: 'evt_dup_1', status: 'duplicate' } });
    const order = await readOrder(checkout.id);
    expect(order.status).toBe('AUTHORIZED');
    expect(order.history.filter((h: { event: string }) => h.event === 'authorize')).toHaveLength(1);
    // A body that is no event is refused after its signature checks out.
    expect((await deliver({ id: 'evt_x', type: 'payment.refunded', data: {} })).status).toBe(400);

    // Cancelling an authorised order voids the hold and releases the stock.
    const { cancelOrder } = await system.ok('mutation ($id: ID!) { cancelOrder(id: $id) { status payments { state captured { amount } } } }', { id: checkout.id }, shop.posHeaders);
    expect(cancelOrder).toEqual({ status: 'CANCELLED', payments: [{ state: 'VOIDED', captured: { amount: '0.00' } }] });
  });

  it('records a manual payment as captured when staff marks the order paid', async () => {
    const cartId = await readyCart(shop.storefrontHeaders, [{ sku: 'BEAN-1', quantity: 1 }]);
    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'till-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    expect(checkout.status).toBe('RESERVED');
    expect(checkout.payments).toEqual([expect.objectContaining({ provider: 'MANUAL', state: 'PENDING', captured: { amount: '0.00' } })]);
    const { payOrder } = await system.ok(`mutation ($id: ID!) { payOrder(id: $id) { ${ORDER} } }`, { id: checkout.id }, shop.posHeaders);
    expect(payOrder.status).toBe('PAID');
    expect(payOrder.payments).toEqual([expect.objectContaining({ provider: 'MANUAL', state: 'CAPTURED', captured: { amount: '12.00' } })]);
    const { refundOrder } = await system.ok(REFUND, { i: { orderId: checkout.id, amount: '2.00', reason: 'goodwill' } }, shop.posHeaders);
    expect(refundOrder.status).toBe('PARTIALLY_REFUNDED');
  });

  describe('shipments and pickup', () => {
    const SHIP = 'mutation ($i: CreateShipmentInput!) { createShipment(input: $i) { id carrier trackingNumber lines { sku quantity } } }';
    const SALES = 'query ($sku: ID!) { movements(sku: $sku, first: 50) { edges { node { kind quantity reference } } } }';
    const sales = async (sku: string, reference: string) =>
      (await system.ok(SALES, { sku }, shop.headers)).movements.edges.map((e: { node: { kind: string; quantity: number; reference: string } }) => e.node).filter((n: { kind: string; reference: string }) => n.kind === 'SALE' && n.reference === reference);
    /** A card order, authorised by the processor's webhook and captured: PAID. */
    const paidOrder = async (lines: { sku: string; quantity: number }[], key: string) => {
      const cartId = await readyCart(shop.storefrontHeaders, lines);
      const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.SUCCESS), idempotencyKey: key }, shop.storefrontHeaders) }, shop.storefrontHeaders);
      await eventually(async () => expect((await readOrder(checkout.id)).status).toBe('AUTHORIZED'), 10_000);
      await system.ok(CAPTURE, { id: checkout.id }, shop.posHeaders);
      return checkout.id as string;
    };

    it('ships an order in two parcels: each line leaves the ledger as a SALE once, PARTIALLY_FULFILLED then FULFILLED', async () => {
      const before = { one: await level('BEAN-1'), three: await level('BEAN-3') };
      const orderId = await paidOrder([{ sku: 'BEAN-1', quantity: 3 }, { sku: 'BEAN-3', quantity: 2 }], 'ship-1');
      expect(await level('BEAN-1')).toEqual({ onHand: before.one.onHand, reserved: before.one.reserved + 3, available: before.one.available - 3 });
      // Not every line, and not more than was ordered.
      expect(codes(await system.request(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 4 }], carrier: 'DHL', trackingNumber: 'T1' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await system.request(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-2', quantity: 1 }], carrier: 'DHL', trackingNumber: 'T1' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
      const first = (await system.ok(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 2 }], carrier: 'DHL', trackingNumber: 'JJD0001' } }, shop.posHeaders)).createShipment;
      expect(first).toEqual({ id: expect.any(String), carrier: 'DHL', trackingNumber: 'JJD0001', lines: [{ sku: 'BEAN-1', quantity: 2 }] });
      expect((await readOrder(orderId)).status).toBe('PARTIALLY_FULFILLED');
      // Inventory learns by event: two units leave on hand and reserved; one stays reserved.
      await eventually(async () => expect(await level('BEAN-1')).toEqual({ onHand: before.one.onHand - 2, reserved: before.one.reserved + 1, available: before.one.available - 3 }));
      expect(await sales('BEAN-1', `shipment:${rowId(first.id)}`)).toEqual([{ kind: 'SALE', quantity: 2, reference: `shipment:${rowId(first.id)}` }]);
      expect(codes(await system.request(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 2 }], carrier: 'DHL', trackingNumber: 'JJD0002' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);

      const second = (await system.ok(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 1 }, { sku: 'BEAN-3', quantity: 2 }], carrier: 'UPS', trackingNumber: '1Z999' } }, shop.posHeaders)).createShipment;
      const order = (await system.ok(`query ($id: ID!) { order(id: $id) { status shipments { carrier lines { sku quantity } } history { event } } }`, { id: orderId }, shop.posHeaders)).order;
      expect(order.status).toBe('FULFILLED');
      expect(order.shipments).toEqual([
        { carrier: 'DHL', lines: [{ sku: 'BEAN-1', quantity: 2 }] },
        { carrier: 'UPS', lines: [{ sku: 'BEAN-1', quantity: 1 }, { sku: 'BEAN-3', quantity: 2 }] },
      ]);
      expect(order.history.map((h: { event: string }) => h.event).slice(-2)).toEqual(['ship.partial', 'ship.complete']);
      await eventually(async () => expect(await level('BEAN-3')).toEqual({ onHand: before.three.onHand - 2, reserved: before.three.reserved, available: before.three.available - 2 }));
      expect(await level('BEAN-1')).toEqual({ onHand: before.one.onHand - 3, reserved: before.one.reserved, available: before.one.available - 3 });
      expect(await sales('BEAN-3', `shipment:${rowId(second.id)}`)).toHaveLength(1);
      // Nothing is left to ship; a refund still works on a fulfilled order.
      expect(codes(await system.request(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-3', quantity: 1 }], carrier: 'UPS', trackingNumber: '1Z9' } }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);
      expect((await system.ok(REFUND, { i: { orderId, amount: '6.00' } }, shop.posHeaders)).refundOrder.status).toBe('PARTIALLY_REFUNDED');
    });

    it('hands a pickup order over in its store: READY_FOR_PICKUP, then FULFILLED with its stock sold', async () => {
      const before = await level('BEAN-2');
      const cartId = await readyCart(shop.storefrontHeaders, [{ sku: 'BEAN-2', quantity: 2 }], 'Pickup');
      const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'pickup-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
      expect(codes(await system.request('mutation ($id: ID!) { markReadyForPickup(orderId: $id) { status } }', { id: checkout.id }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);
      await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: checkout.id }, shop.posHeaders);
      expect(codes(await system.request(SHIP, { i: { orderId: checkout.id, lines: [{ sku: 'BEAN-2', quantity: 2 }], carrier: 'DHL', trackingNumber: 'X' } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
      expect((await system.ok('mutation ($id: ID!) { markReadyForPickup(orderId: $id) { status } }', { id: checkout.id }, shop.posHeaders)).markReadyForPickup.status).toBe('READY_FOR_PICKUP');
      expect((await system.ok('mutation ($id: ID!) { markPickedUp(orderId: $id) { status } }', { id: checkout.id }, shop.posHeaders)).markPickedUp.status).toBe('FULFILLED');
      await eventually(async () => expect(await level('BEAN-2')).toEqual({ onHand: before.onHand - 2, reserved: before.reserved, available: before.available - 2 }));
      expect(await sales('BEAN-2', `order:${checkout.id}`)).toEqual([{ kind: 'SALE', quantity: 2, reference: `order:${checkout.id}` }]);
    });

    it('takes shipped units back: restocked through the ledger (RETURN), refunded through the provider', async () => {
      const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'returner@example.com', password: 'returner password 1', name: 'Rita' } }, shop.storefrontHeaders);
      const rita = asCustomer(registerCustomer.accessToken);
      const cartId = await readyCart(rita, [{ sku: 'BEAN-1', quantity: 2 }, { sku: 'BEAN-3', quantity: 1 }]);
      const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: card(TEST_CARDS.SUCCESS), idempotencyKey: 'rita-1' }, rita) }, rita);
      await eventually(async () => expect((await readOrder(checkout.id)).status).toBe('AUTHORIZED'), 10_000);
      await system.ok(CAPTURE, { id: checkout.id }, shop.posHeaders);
      const orderId = checkout.id as string;
      // Nothing shipped yet: nothing to return.
      const REQUEST = 'mutation ($i: RequestReturnInput!) { requestReturn(input: $i) { id status reason lines { sku quantity } refund { amount } } }';
      const RECEIVE = 'mutation ($i: ReceiveReturnInput!) { receiveReturn(input: $i) { id status restocked refund { amount currencyCode } receivedAt } }';
      expect(codes(await system.request(REQUEST, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 1 }] } }, rita))).toEqual(['BAD_USER_INPUT']);
      const parcel = (await system.ok(SHIP, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 2 }, { sku: 'BEAN-3', quantity: 1 }], carrier: 'DHL', trackingNumber: 'R1' } }, shop.posHeaders)).createShipment;
      await eventually(async () => expect(await sales('BEAN-1', `shipment:${rowId(parcel.id)}`)).toHaveLength(1));
      const shippedLevel = await level('BEAN-1');

      // The customer asks to send one bag back; more than was shipped is refused.
      expect(codes(await system.request(REQUEST, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 3 }] } }, rita))).toEqual(['BAD_USER_INPUT']);
      const { requestReturn } = await system.ok(REQUEST, { i: { orderId, lines: [{ sku: 'BEAN-1', quantity: 1 }], reason: 'wrong roast' } }, rita);
      expect(requestReturn).toEqual({ id: expect.any(String), status: 'REQUESTED', reason: 'wrong roast', lines: [{ sku: 'BEAN-1', quantity: 1 }], refund: null });
      // Another customer cannot return Rita's order.
      const { registerCustomer: other } = await system.ok(REGISTER, { i: { email: 'other@example.com', password: 'other password 1', name: 'Otto' } }, shop.storefrontHeaders);
      expect(codes(await system.request(REQUEST, { i: { orderId, lines: [{ sku: 'BEAN-3', quantity: 1 }] } }, asCustomer(other.accessToken)))).toEqual(['NOT_FOUND']);

      const { receiveReturn } = await system.ok(RECEIVE, { i: { returnId: requestReturn.id, restock: true } }, shop.posHeaders);
      expect(receiveReturn).toMatchObject({ status: 'RECEIVED', restocked: true, refund: { amount: '8.00', currencyCode: 'EUR' } });
      expect(codes(await system.request(RECEIVE, { i: { returnId: requestReturn.id, restock: true } }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);
      // The unit is back on hand by a RETURN movement; the order is partly refunded.
      await eventually(async () => expect(await level('BEAN-1')).toEqual({ onHand: shippedLevel.onHand + 1, reserved: shippedLevel.reserved, available: shippedLevel.available + 1 }));
      const back = (await system.ok(SALES.replace('kind quantity reference', 'kind quantity reference debitAccount creditAccount'), { sku: 'BEAN-1' }, shop.headers)).movements.edges
        .map((e: { node: object }) => e.node).filter((n: { reference: string }) => n.reference === `return:${rowId(requestReturn.id)}`);
      expect(back).toEqual([{ kind: 'RETURN', quantity: 1, reference: `return:${rowId(requestReturn.id)}`, debitAccount: `store:${shop.storeId}:on_hand`, creditAccount: 'external:customer' }]);
      const order = await readOrder(orderId);
      expect(order.status).toBe('PARTIALLY_REFUNDED');
      expect(order.payments[0]).toMatchObject({ captured: { amount: '26.00' }, refunded: { amount: '8.00' } });

      // A damaged bag: refunded, not restocked.
      const { requestReturn: damaged } = await system.ok(REQUEST, { i: { orderId, lines: [{ sku: 'BEAN-3', quantity: 1 }], reason: 'torn' } }, shop.posHeaders);
      const before3 = await level('BEAN-3');
      expect((await system.ok(RECEIVE, { i: { returnId: damaged.id, restock: false } }, shop.posHeaders)).receiveReturn).toMatchObject({ restocked: false, refund: { amount: '6.00' } });
      const after = await readOrder(orderId);
      expect(after.payments[0].refunded).toEqual({ amount: '14.00' });
      expect(await level('BEAN-3')).toEqual(before3);
    });
  });
});
