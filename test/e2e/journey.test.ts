import { TEST_CARDS } from '../../lib/payments/test-card.js';
import { addProduct, bearer, cartQuoted, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Issue 17, the whole journey in one chain, through the gateway, on whichever database and bus
 * the run uses: a customer registers, fills a cart, checks out by card (the processor confirms by
 * its signed webhook), staff captures, ships in two parcels, takes a return back into stock with
 * its shipping refunded, and refunds part of the rest. After each step the stock ledger balances
 * (its accounts' balances are the stock levels, and a rebuild from it corrects nothing) and the
 * money adds up; the customer's own subscription saw every step. Then what completes a
 * 3-D-Secure-style payment, and what a full refund of unshipped goods gives back to stock.
 * (Declines, duplicated webhooks, other customers' carts and the last-unit race: payments and
 * checkout suites.)
 */
const REGISTER = 'mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { accessToken customer { id } } }';
const CART = 'id subtotal { amount } shippingTotal { amount } total { amount } lines { sku quantity total { amount } } order { id }';
const PAYMENT = 'state amount { amount } captured { amount } refunded { amount } refunds { amount { amount } reason }';
const ORDER = `id status total { amount } shipping { price { amount } } lines { sku quantity unitPrice { amount } } payments { ${PAYMENT} } history { event to }`;
const CHECKOUT = `mutation ($i: CheckoutInput!) { checkout(input: $i) { ${ORDER} } }`;
const READ_ORDER = `query ($id: ID!) { order(id: $id) { ${ORDER} } }`;
const SHIP = 'mutation ($i: CreateShipmentInput!) { createShipment(input: $i) { id } }';
const REQUEST = 'mutation ($i: RequestReturnInput!) { requestReturn(input: $i) { id status } }';
const RECEIVE = 'mutation ($i: ReceiveReturnInput!) { receiveReturn(input: $i) { status restocked shippingRefunded refund { amount } } }';
const CANCEL_RETURN = 'mutation ($i: CancelReturnInput!) { cancelReturn(input: $i) { status cancelReason } }';
const REFUND = `mutation ($i: RefundOrderInput!) { refundOrder(input: $i) { ${ORDER} } }`;
const COMPLETE = `mutation ($i: CompletePaymentActionInput!) { completePaymentAction(input: $i) { ${ORDER} } }`;
const LEVEL = 'query ($sku: ID!, $s: ID!) { variant(sku: $sku) { stock(storeId: $s) { onHand reserved available } } }';
const MOVEMENTS = 'query ($sku: ID!) { movements(sku: $sku, first: 100) { edges { node { kind quantity debitAccount creditAccount } } } }';
const REBUILD = 'mutation { rebuildStockLevels { corrected } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const asCustomer = (token: string) => ({ authorization: `Bearer ${token}` });
const cents = (amount: string) => Math.round(Number(amount) * 100);

describe('the journey from cart to doorstep and back', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Journey', ['JRN-1', 'JRN-2', 'JRN-3', 'JRN-4', 'JRN-5']);
    await setPrice(system, shop, 'JRN-1', '12.00');
    await setPrice(system, shop, 'JRN-2', '7.50');
    await setPrice(system, shop, 'JRN-3', '5.00');
    await setPrice(system, shop, 'JRN-4', '5.00');
    await setPrice(system, shop, 'JRN-5', '5.00');
    for (const sku of ['JRN-1', 'JRN-2', 'JRN-3', 'JRN-4', 'JRN-5']) await receiveStock(system, shop, sku, 10);
    await system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', name: 'Flat', kind: 'FLAT', amount: '4.00' } }, shop.headers);
  });
  afterAll(() => system.stop());

  const level = async (sku: string) => (await system.ok(LEVEL, { sku, s: shop.storeId }, shop.headers)).variant.stock as { onHand: number; reserved: number; available: number };
  const readOrder = async (id: string) => (await system.ok(READ_ORDER, { id }, shop.posHeaders)).order;
  const statusOf = (id: string, wanted: string) => eventually(async () => expect((await readOrder(id)).status).toBe(wanted), 10_000);
  /** Each account's balance (debits − credits) over the sku's movements. */
  const balances = async (sku: string) => {
    const nodes = (await system.ok(MOVEMENTS, { sku }, shop.headers)).movements.edges.map((e: { node: { quantity: number; debitAccount: string; creditAccount: string } }) => e.node);
    const balance = new Map<string, number>();
    for (const n of nodes) {
      balance.set(n.debitAccount, (balance.get(n.debitAccount) ?? 0) + n.quantity);
      balance.set(n.creditAccount, (balance.get(n.creditAccount) ?? 0) - n.quantity);
    }
    return balance;
  };
  /**
   * The ledger balances: every movement moves units between two accounts (the balances sum to
   * zero), the store's accounts are its stock level, the customers hold what was sold and not
   * returned, and a rebuild of the levels from the ledger corrects nothing.
   */
  const ledgerBalances = async (sku: string, expected: { onHand: number; reserved: number; withCustomers: number }) => {
    await eventually(async () => {
      const stock = await level(sku);
      expect(stock).toEqual({ onHand: expected.onHand, reserved: expected.reserved, available: expected.onHand - expected.reserved });
      const balance = await balances(sku);
      expect([...balance.values()].reduce((a, b) => a + b, 0)).toBe(0);
      expect(balance.get(`store:${shop.storeId}:on_hand`) ?? 0).toBe(stock.available);
      expect(balance.get(`store:${shop.storeId}:reserved`) ?? 0).toBe(stock.reserved);
      expect(balance.get('external:customer') ?? 0).toBe(expected.withCustomers);
    }, 10_000);
    expect((await system.ok(REBUILD, {}, bearer(system.platformApiKey))).rebuildStockLevels.corrected).toBe(0);
  };
  /** Totals add up: the order's lines and shipping are its total; the payment never refunds more than it captured. */
  const totalsAddUp = (order: { total: { amount: string }; shipping: { price: { amount: string } }; lines: { quantity: number; unitPrice: { amount: string } }[]; payments: { amount: { amount: string }; captured: { amount: string }; refunded: { amount: string }; refunds: { amount: { amount: string } }[] }[] }) => {
    const lines = order.lines.reduce((sum, l) => sum + l.quantity * cents(l.unitPrice.amount), 0);
    expect(lines + cents(order.shipping.price.amount)).toBe(cents(order.total.amount));
    const [payment] = order.payments;
    expect(cents(payment!.amount.amount)).toBe(cents(order.total.amount));
    expect(payment!.refunds.reduce((sum, r) => sum + cents(r.amount.amount), 0)).toBe(cents(payment!.refunded.amount));
    expect(cents(payment!.refunded.amount)).toBeLessThanOrEqual(cents(payment!.captured.amount));
  };
  const readyCart = async (headers: Record<string, string>, lines: { sku: string; quantity: number }[]) => {
    const { createCart } = await system.ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: shop.storeId }, headers);
    const c = createCart.id as string;
    await eventually(() => system.ok(`mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { id } }`, { c, l: lines }, headers));
    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "jo@example.com") { id } }', { c }, headers);
    await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c, a: { name: 'Jo', line1: '9 Quay St', city: 'Hamburg', postalCode: '20095', countryCode: 'DE' } }, headers);
    const { availableShippingMethods } = await system.ok('query ($c: ID!) { availableShippingMethods(cartId: $c) { id } }', { c }, headers);
    return (await system.ok(`mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { ${CART} } }`, { c, m: availableShippingMethods[0].id }, headers)).setShippingMethod;
  };

  it('register → cart → checkout by card → webhook → capture → two parcels → return with restock → partial refund', async () => {
    const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'jo@example.com', password: 'jo journey pass 1', name: 'Jo' } }, shop.storefrontHeaders);
    const jo = asCustomer(registerCustomer.accessToken);

    // A cart with two lines and a shipping method: 2 × 12.00 + 3 × 7.50 + 4.00.
    const cart = await readyCart(jo, [{ sku: 'JRN-1', quantity: 2 }, { sku: 'JRN-2', quantity: 3 }]);
    expect(cart).toMatchObject({ subtotal: { amount: '46.50' }, shippingTotal: { amount: '4.00' }, total: { amount: '50.50' }, order: null });

    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId: cart.id, paymentMethod: { provider: 'TEST_CARD', cardNumber: TEST_CARDS.SUCCESS }, idempotencyKey: 'jo-1' }, jo) }, jo);
    const orderId = checkout.id as string;
    expect(checkout.total).toEqual({ amount: '50.50' });
    totalsAddUp(checkout);
    // The customer follows its own order: the current state first, then every step.
    const client = liveClient(system.gatewayUrl, jo);
    const updates = subscribe(client, 'subscription ($id: ID!) { orderUpdated(orderId: $id) { status version } }', { id: orderId });
    await updates.waitFor(1);
    expect(updates.failure).toBeUndefined();

    // The processor's signed webhook reaches the gateway over HTTP: AUTHORIZED; the stock is held.
    await statusOf(orderId, 'AUTHORIZED');
    await ledgerBalances('JRN-1', { onHand: 10, reserved: 2, withCustomers: 0 });
    await ledgerBalances('JRN-2', { onHand: 10, reserved: 3, withCustomers: 0 });

    const paid = (await system.ok(`mutation ($id: ID!) { capturePayment(orderId: $id) { ${ORDER} } }`, { id: orderId }, shop.posHeaders)).capturePayment;
    expect(paid.status).toBe('PAID');
    expect(paid.payments[0]).toMatchObject({ state: 'CAPTURED', captured: { amount: '50.50' }, refunded: { amount: '0.00' } });
    totalsAddUp(paid);

    // Two parcels: each shipped unit leaves the ledger once, as a SALE out of the reservation.
    await system.ok(SHIP, { i: { orderId, lines: [{ sku: 'JRN-1', quantity: 2 }, { sku: 'JRN-2', quantity: 1 }], carrier: 'DHL', trackingNumber: 'J1' } }, shop.posHeaders);
    expect((await readOrder(orderId)).status).toBe('PARTIALLY_FULFILLED');
    await ledgerBalances('JRN-1', { onHand: 8, reserved: 0, withCustomers: 2 });
    await ledgerBalances('JRN-2', { onHand: 9, reserved: 2, withCustomers: 1 });
    await system.ok(SHIP, { i: { orderId, lines: [{ sku: 'JRN-2', quantity: 2 }], carrier: 'UPS', trackingNumber: 'J2' } }, shop.posHeaders);
    expect((await readOrder(orderId)).status).toBe('FULFILLED');
    await ledgerBalances('JRN-2', { onHand: 7, reserved: 0, withCustomers: 3 });

    // Jo asks to return a JRN-1, thinks better of it and withdraws; then returns a JRN-2.
    const { requestReturn: changedMind } = await system.ok(REQUEST, { i: { orderId, lines: [{ sku: 'JRN-1', quantity: 2 }], reason: 'too many' } }, jo);
    expect((await system.ok(CANCEL_RETURN, { i: { returnId: changedMind.id, reason: 'kept them' } }, jo)).cancelReturn).toEqual({ status: 'CANCELLED', cancelReason: 'kept them' });
    expect(codes(await system.request(RECEIVE, { i: { returnId: changedMind.id, restock: true } }, shop.posHeaders))).toEqual(['INVALID_TRANSITION']);
    expect(codes(await system.request(CANCEL_RETURN, { i: { returnId: changedMind.id } }, jo))).toEqual(['INVALID_TRANSITION']);
    const { requestReturn } = await system.ok(REQUEST, { i: { orderId, lines: [{ sku: 'JRN-2', quantity: 1 }], reason: 'wrong size' } }, jo);
    // Received with restock, its shipping refunded too: 7.50 + 4.00 back through the provider.
    const { receiveReturn } = await system.ok(RECEIVE, { i: { returnId: requestReturn.id, restock: true, refundShipping: true } }, shop.posHeaders);
    expect(receiveReturn).toEqual({ status: 'RECEIVED', restocked: true, shippingRefunded: true, refund: { amount: '11.50' } });
    await ledgerBalances('JRN-2', { onHand: 8, reserved: 0, withCustomers: 2 });
    await ledgerBalances('JRN-1', { onHand: 8, reserved: 0, withCustomers: 2 });
    // The shipping is refunded once per order.
    const { requestReturn: second } = await system.ok(REQUEST, { i: { orderId, lines: [{ sku: 'JRN-1', quantity: 1 }] } }, jo);
    expect(codes(await system.request(RECEIVE, { i: { returnId: second.id, restock: true, refundShipping: true } }, shop.posHeaders))).toEqual(['BAD_USER_INPUT']);
    await system.ok(CANCEL_RETURN, { i: { returnId: second.id, reason: 'refused at the desk' } }, shop.posHeaders);

    // A partial refund, for a scratch on the other parcel.
    const { refundOrder } = await system.ok(REFUND, { i: { orderId, amount: '5.00', reason: 'scratched' } }, shop.posHeaders);
    expect(refundOrder.status).toBe('PARTIALLY_REFUNDED');
    expect(refundOrder.payments[0]).toMatchObject({ captured: { amount: '50.50' }, refunded: { amount: '16.50' } });
    expect(refundOrder.payments[0].refunds.map((r: { amount: { amount: string } }) => r.amount.amount)).toEqual(['11.50', '5.00']);
    totalsAddUp(refundOrder);
    expect(refundOrder.history.map((h: { event: string }) => h.event)).toEqual([
      'place', 'reservation.confirmed', 'authorize', 'capture', 'ship.partial', 'ship.complete', 'refund.partial', 'refund.partial',
    ]);
    await ledgerBalances('JRN-1', { onHand: 8, reserved: 0, withCustomers: 2 });

    // Jo's subscription saw every step, versions one apart, nothing skipped.
    const seen = await eventually(async () => {
      const results = updates.results.map((r) => r.data!.orderUpdated as { status: string; version: number });
      expect(results.at(-1)?.version).toBe(8);
      return results;
    }, 10_000);
    expect(seen.map((u) => u.version)).toEqual([...seen.keys()].map((i) => seen[0]!.version + i));
    expect(seen.map((u) => u.status).slice(-5)).toEqual(['PAID', 'PARTIALLY_FULFILLED', 'FULFILLED', 'PARTIALLY_REFUNDED', 'PARTIALLY_REFUNDED']);
    await client.dispose();

    // Another customer cannot follow Jo's order, and no customer follows a whole store.
    const { registerCustomer: kim } = await system.ok(REGISTER, { i: { email: 'kim@example.com', password: 'kim journey pass 1', name: 'Kim' } }, shop.storefrontHeaders);
    const kimClient = liveClient(system.gatewayUrl, asCustomer(kim.accessToken));
    const spying = subscribe(kimClient, 'subscription ($id: ID!) { orderUpdated(orderId: $id) { status } }', { id: orderId });
    const storeWide = subscribe(kimClient, 'subscription ($s: ID!) { orderUpdated(storeId: $s) { status } }', { s: shop.storeId });
    await Promise.all([spying.waitFor(1), storeWide.waitFor(1)]);
    expect((spying.failure as { extensions?: { code?: string } }[])?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((storeWide.failure as { extensions?: { code?: string } }[])?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(spying.results).toEqual([]);
    await kimClient.dispose();
  });

  it('merges an anonymous cart into the customer\'s cart when it signs in', async () => {
    const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'lee@example.com', password: 'lee journey pass 1', name: 'Lee' } }, shop.storefrontHeaders);
    const own = (await system.ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: shop.storeId }, asCustomer(registerCustomer.accessToken))).createCart.id;
    await system.ok('mutation ($c: ID!) { addCartLines(cartId: $c, lines: [{ sku: "JRN-3", quantity: 1 }]) { id } }', { c: own }, asCustomer(registerCustomer.accessToken));
    // Signed out, Lee fills another cart, then signs in.
    const anonymous = await readyCart(shop.storefrontHeaders, [{ sku: 'JRN-3', quantity: 2 }, { sku: 'JRN-4', quantity: 1 }]);
    const { customerLogin } = await system.ok('mutation { customerLogin(input: { email: "lee@example.com", password: "lee journey pass 1" }) { accessToken } }', {}, shop.storefrontHeaders);
    const lee = asCustomer(customerLogin.accessToken);
    // Nobody else merges it: not an anonymous caller, not another customer's cart.
    expect(codes(await system.request('mutation ($c: ID!) { mergeCart(cartId: $c) { id } }', { c: anonymous.id }, shop.storefrontHeaders))).toEqual(['FORBIDDEN']);
    const { mergeCart } = await system.ok(`mutation ($c: ID!) { mergeCart(cartId: $c) { ${CART} shippingMethod { name } } }`, { c: anonymous.id }, lee);
    // Quantities add up; the address and method Lee chose signed out fill what its cart lacked.
    expect(mergeCart).toMatchObject({ id: own, lines: [{ sku: 'JRN-3', quantity: 3 }, { sku: 'JRN-4', quantity: 1 }], subtotal: { amount: '20.00' }, total: { amount: '24.00' }, shippingMethod: { name: 'Flat' } });
    expect((await system.ok(`query ($c: ID!) { cart(id: $c) { id } }`, { c: anonymous.id }, shop.storefrontHeaders)).cart).toBeNull();
    // With no open cart of its own in the store, the anonymous cart becomes Lee's.
    const { registerCustomer: max } = await system.ok(REGISTER, { i: { email: 'max@example.com', password: 'max journey pass 1', name: 'Max' } }, shop.storefrontHeaders);
    const adopted = await readyCart(shop.storefrontHeaders, [{ sku: 'JRN-4', quantity: 2 }]);
    expect((await system.ok('mutation ($c: ID!) { mergeCart(cartId: $c) { id customer { id } } }', { c: adopted.id }, asCustomer(max.accessToken))).mergeCart).toEqual({ id: adopted.id, customer: { id: max.customer.id } });
    // Now Max's: Lee cannot merge it, nor read it.
    expect(codes(await system.request('mutation ($c: ID!) { mergeCart(cartId: $c) { id } }', { c: adopted.id }, lee))).toEqual(['NOT_FOUND']);
    expect((await system.ok('query ($c: ID!) { cart(id: $c) { id } }', { c: adopted.id }, lee)).cart).toBeNull();
    // Nor does whoever still holds its id signed out (it names Max's address once set); staff do.
    expect((await system.ok('query ($c: ID!) { cart(id: $c) { id } }', { c: adopted.id }, shop.storefrontHeaders)).cart).toBeNull();
    expect(codes(await system.request('mutation ($c: ID!) { addCartLines(cartId: $c, lines: [{ sku: "JRN-4", quantity: 1 }]) { id } }', { c: adopted.id }, shop.storefrontHeaders))).toEqual(['NOT_FOUND']);
    expect((await system.ok('query ($c: ID!) { cart(id: $c) { id } }', { c: adopted.id }, shop.posHeaders)).cart).toEqual({ id: adopted.id });
  });

  it('prices a coupon on the cart through pricing\'s quote, and charges it only through a claimed quote', async () => {
    await system.ok('mutation { createPromotion(input: { name: "Ten off", kind: PERCENT_OFF, value: "10", couponCode: "JOURNEY10", usageLimit: 1 }) { id } }', {}, shop.headers);
    const { registerCustomer } = await system.ok(REGISTER, { i: { email: 'ada@example.com', password: 'ada journey pass 1', name: 'Ada' } }, shop.storefrontHeaders);
    const ada = asCustomer(registerCustomer.accessToken);
    const cart = await readyCart(ada, [{ sku: 'JRN-5', quantity: 2 }, { sku: 'JRN-4', quantity: 2 }]);
    // The shopper applies the coupon (any case) and a code that does not exist, then reads the cart priced by pricing.
    const QUOTED = 'id couponCodes quote { subtotal { amount } discountTotal { amount } total { amount } lines { sku listPrice { amount } adjustments { label amount { amount } } total { amount } } rejectedCoupons { code reason } }';
    const APPLY = `mutation ($c: ID!, $code: String!) { applyCouponCode(cartId: $c, code: $code) { ${QUOTED} } }`;
    await system.ok(APPLY, { c: cart.id, code: ' journey10 ' }, ada);
    const { applyCouponCode } = await system.ok(APPLY, { c: cart.id, code: 'NOPE' }, ada);
    expect(applyCouponCode).toEqual({
      id: cart.id,
      couponCodes: ['JOURNEY10', 'NOPE'],
      quote: {
        subtotal: { amount: '20.00' }, discountTotal: { amount: '2.00' }, total: { amount: '18.00' },
        lines: [
          { sku: 'JRN-4', listPrice: { amount: '5.00' }, adjustments: [{ label: 'Ten off', amount: { amount: '1.00' } }], total: { amount: '9.00' } },
          { sku: 'JRN-5', listPrice: { amount: '5.00' }, adjustments: [{ label: 'Ten off', amount: { amount: '1.00' } }], total: { amount: '9.00' } },
        ],
        rejectedCoupons: [{ code: 'NOPE', reason: 'UNKNOWN' }],
      },
    });
    const { removeCouponCode } = await system.ok(`mutation ($c: ID!) { removeCouponCode(cartId: $c, code: "nope") { ${QUOTED} } }`, { c: cart.id }, ada);
    expect(removeCouponCode).toMatchObject({ couponCodes: ['JOURNEY10'], quote: { total: { amount: '18.00' }, rejectedCoupons: [] } });
    expect(codes(await system.request('mutation ($c: ID!) { removeCouponCode(cartId: $c, code: "NOPE") { id } }', { c: cart.id }, ada))).toEqual(['NOT_FOUND']);
    expect(codes(await system.request(APPLY, { c: cart.id, code: 'no spaces!' }, ada))).toEqual(['BAD_USER_INPUT']);
    // A cart with a coupon is never charged without it: checkout wants a claimed quote of its codes.
    expect(codes(await system.request(CHECKOUT, { i: { cartId: cart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'ada-q' } }, ada))).toEqual(['QUOTE_REQUIRED']);
    const CLAIM = 'mutation ($i: QuoteInput!) { claimQuote(input: $i) { subtotal { amount } discountTotal { amount } total { amount } rejectedCoupons { code } token } }';
    const lines = cart.lines.map((l: { sku: string; quantity: number }) => ({ sku: l.sku, quantity: l.quantity }));
    const { quote: plain } = await system.ok('query ($i: QuoteInput!) { quote(input: $i) { token } }', { i: { storeId: shop.storeId, lines } }, ada);
    expect(codes(await system.request(CHECKOUT, { i: { cartId: cart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'ada-p', quoteToken: plain.token } }, ada))).toEqual(['QUOTE_INVALID']);
    // A customer claims as itself only; anonymous shoppers cannot claim.
    expect(codes(await system.request(CLAIM, { i: { storeId: shop.storeId, lines, couponCodes: ['journey10'], customerId: '00000000-0000-4000-8000-000000000000' } }, ada))).toEqual(['FORBIDDEN']);
    expect(codes(await system.request(CLAIM, { i: { storeId: shop.storeId, lines, couponCodes: ['journey10'] } }, shop.storefrontHeaders))).toEqual(['FORBIDDEN']);
    const { claimQuote } = await system.ok(CLAIM, { i: { storeId: shop.storeId, lines, couponCodes: applyCouponCode.couponCodes.slice(0, 1) } }, ada);
    expect(claimQuote).toMatchObject({ subtotal: { amount: '20.00' }, discountTotal: { amount: '2.00' }, total: { amount: '18.00' }, rejectedCoupons: [] });
    // The coupon's one use is taken: a second claim is refused.
    expect(codes(await system.request(CLAIM, { i: { storeId: shop.storeId, lines, couponCodes: ['journey10'] } }, ada))).toEqual(['COUPON_EXHAUSTED']);
    // A quote of other lines does not charge this cart.
    const other = await readyCart(ada, [{ sku: 'JRN-5', quantity: 1 }]);
    expect(codes(await system.request(CHECKOUT, { i: { cartId: other.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'ada-0', quoteToken: claimQuote.token } }, ada))).toEqual(['QUOTE_INVALID']);
    // The order charges the quote and the shipping: 18.00 + 4.00.
    const { checkout } = await system.ok(CHECKOUT.replace('history { event to }', 'history { event to } quote { discountTotal { amount } total { amount } }'), { i: { cartId: cart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'ada-1', quoteToken: claimQuote.token } }, ada);
    expect(checkout).toMatchObject({ status: 'RESERVED', total: { amount: '22.00' }, quote: { discountTotal: { amount: '2.00' }, total: { amount: '18.00' } }, payments: [{ amount: { amount: '22.00' } }] });
    // The same quote charges no second order.
    const again = await readyCart(ada, [{ sku: 'JRN-5', quantity: 2 }, { sku: 'JRN-4', quantity: 2 }]);
    await system.ok(APPLY, { c: again.id, code: 'JOURNEY10' }, ada);
    expect(codes(await system.request(CHECKOUT, { i: { cartId: again.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'ada-2', quoteToken: claimQuote.token } }, ada))).toEqual(['QUOTE_INVALID']);
    const { promotions } = await system.ok('{ promotions { couponCode usageCount } }', {}, shop.headers);
    expect(promotions.find((p: { couponCode: string | null }) => p.couponCode === 'JOURNEY10')).toEqual({ couponCode: 'JOURNEY10', usageCount: 1 });
    // A returned unit refunds what was paid for it: 5.00 less 10%.
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: checkout.id }, shop.posHeaders);
    await system.ok(SHIP, { i: { orderId: checkout.id, lines: [{ sku: 'JRN-5', quantity: 2 }], carrier: 'DHL', trackingNumber: 'C1' } }, shop.posHeaders);
    const { requestReturn } = await system.ok(REQUEST, { i: { orderId: checkout.id, lines: [{ sku: 'JRN-5', quantity: 1 }] } }, ada);
    expect((await system.ok(RECEIVE, { i: { returnId: requestReturn.id, restock: true } }, shop.posHeaders)).receiveReturn.refund).toEqual({ amount: '4.50' });
  });

  it('completes a 3-D-Secure-style payment after the challenge, and cancels the order when it fails', async () => {
    const before = await level('JRN-3');
    const passing = await readyCart(shop.storefrontHeaders, [{ sku: 'JRN-3', quantity: 2 }]);
    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId: passing.id, paymentMethod: { provider: 'TEST_CARD', cardNumber: TEST_CARDS.ACTION_REQUIRED }, idempotencyKey: 'challenge-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    expect(checkout.status).toBe('RESERVED');
    expect(checkout.payments[0].state).toBe('ACTION_REQUIRED');
    // Only the cart's holder can complete it; the cart id is the capability.
    expect(codes(await system.request(COMPLETE, { i: { cartId: 'cart_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', actionResult: 'authenticated' } }, shop.storefrontHeaders))).toEqual(['NOT_FOUND']);
    expect(codes(await system.request(COMPLETE, { i: { cartId: passing.id, actionResult: ' ' } }, shop.storefrontHeaders))).toEqual(['BAD_USER_INPUT']);
    const { completePaymentAction } = await system.ok(COMPLETE, { i: { cartId: passing.id, actionResult: 'authenticated' } }, shop.storefrontHeaders);
    expect(completePaymentAction.payments[0].state).toBe('PENDING');
    // The processor confirms by its signed webhook; completing again finds nothing waiting.
    await statusOf(checkout.id, 'AUTHORIZED');
    expect(codes(await system.request(COMPLETE, { i: { cartId: passing.id, actionResult: 'authenticated' } }, shop.storefrontHeaders))).toEqual(['INVALID_TRANSITION']);
    await ledgerBalances('JRN-3', { onHand: before.onHand, reserved: before.reserved + 2, withCustomers: 0 });

    // A failed challenge: the processor declines, the order is cancelled, its stock released and the cart open again.
    const failing = await readyCart(shop.storefrontHeaders, [{ sku: 'JRN-3', quantity: 1 }]);
    const { checkout: second } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId: failing.id, paymentMethod: { provider: 'TEST_CARD', cardNumber: TEST_CARDS.ACTION_REQUIRED }, idempotencyKey: 'challenge-2' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    await system.ok(COMPLETE, { i: { cartId: failing.id, actionResult: 'failed' } }, shop.storefrontHeaders);
    await statusOf(second.id, 'CANCELLED');
    const cancelled = await readOrder(second.id);
    expect(cancelled.payments[0]).toMatchObject({ state: 'DECLINED', captured: { amount: '0.00' } });
    await ledgerBalances('JRN-3', { onHand: before.onHand, reserved: before.reserved + 2, withCustomers: 0 });
    expect((await system.ok(`query ($c: ID!) { cart(id: $c) { ${CART} } }`, { c: failing.id }, shop.storefrontHeaders)).cart.order).toBeNull();
  });

  it('gives the stock back when an order is refunded in full before all of it shipped', async () => {
    const before = await level('JRN-4');
    const cart = await readyCart(shop.storefrontHeaders, [{ sku: 'JRN-4', quantity: 3 }]);
    const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId: cart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'refund-all-1' }, shop.storefrontHeaders) }, shop.storefrontHeaders);
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: checkout.id }, shop.posHeaders);
    await system.ok(SHIP, { i: { orderId: checkout.id, lines: [{ sku: 'JRN-4', quantity: 1 }], carrier: 'DHL', trackingNumber: 'R1' } }, shop.posHeaders);
    await ledgerBalances('JRN-4', { onHand: before.onHand - 1, reserved: before.reserved + 2, withCustomers: 1 });
    // The rest will never ship: the full refund releases what the order still holds.
    const { refundOrder } = await system.ok(REFUND, { i: { orderId: checkout.id, reason: 'out of time' } }, shop.posHeaders);
    expect(refundOrder.status).toBe('REFUNDED');
    expect(refundOrder.payments[0]).toMatchObject({ captured: { amount: '19.00' }, refunded: { amount: '19.00' } });
    await ledgerBalances('JRN-4', { onHand: before.onHand - 1, reserved: before.reserved, withCustomers: 1 });
  });
});
