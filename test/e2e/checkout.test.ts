import { addProduct, cartQuoted, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Issue 17: from cart to doorstep and back, through the gateway, on whichever database and bus
 * the run uses (embedded by default; DATABASE_URL and REDIS_URL for PostgreSQL and Redis).
 */
const SESSION = 'accessToken refreshToken expiresAt customer { id email name }';
const REGISTER = `mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { ${SESSION} } }`;
const LOGIN = `mutation ($i: CustomerLoginInput!) { customerLogin(input: $i) { ${SESSION} } }`;
const REFRESH = `mutation ($t: String!) { refreshCustomerToken(refreshToken: $t) { ${SESSION} } }`;
const ME = '{ me { id email name addresses { city } } }';
const CART = 'id email subtotal { amount currencyCode } shippingTotal { amount } total { amount } lines { sku quantity unitPrice { amount } total { amount } } shippingMethod { name } order { id }';
const CREATE_CART = `mutation ($s: ID!) { createCart(input: { storeId: $s }) { ${CART} } }`;
const ADD = `mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { ${CART} } }`;
const READ_CART = `query ($c: ID!) { cart(id: $c) { ${CART} } }`;
const METHODS = 'query ($c: ID!) { availableShippingMethods(cartId: $c) { id name kind price { amount } } }';
const CHECKOUT = 'mutation ($i: CheckoutInput!) { checkout(input: $i) { id status total { amount } email shipping { name price { amount } } customer { id } lines { sku quantity } } }';
const LEVEL = 'query ($sku: ID!, $s: ID!) { variant(sku: $sku) { stock(storeId: $s) { onHand reserved available } } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const asCustomer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('customers, carts, checkout, payments, fulfilment and returns', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Tea', ['TEA-1', 'TEA-2', 'LAST-1']);
    await setPrice(system, shop, 'TEA-1', '4.50');
    await setPrice(system, shop, 'TEA-2', '12.00');
    await setPrice(system, shop, 'LAST-1', '9.99');
    await receiveStock(system, shop, 'TEA-1', 20);
    await receiveStock(system, shop, 'TEA-2', 5);
    await receiveStock(system, shop, 'LAST-1', 1);
    const method = (input: Record<string, unknown>) =>
      system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', ...input } }, shop.headers);
    await method({ name: 'Standard', kind: 'FREE_OVER', amount: '4.95', freeOver: '50.00' });
    await method({ name: 'By value', kind: 'SUBTOTAL_BANDS', bands: [{ upTo: '20.00', amount: '6.00' }, { amount: '3.00' }] });
    await method({ name: 'Pickup', kind: 'PICKUP' });
  });
  afterAll(() => system.stop());

  const level = async (sku: string) => (await system.ok(LEVEL, { sku, s: shop.storeId }, shop.headers)).variant.stock;
  /** A cart with lines, an email, an address and a shipping method, ready for checkout. */
  const readyCart = async (headers: Record<string, string>, lines: { sku: string; quantity: number }[], methodName = 'Standard') => {
    const { createCart } = await system.ok(CREATE_CART, { s: shop.storeId }, headers);
    // Prices and variants reach orders by events: wait until the lines are priced.
    await eventually(() => system.ok(ADD, { c: createCart.id, l: lines }, headers));
    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "shopper@example.com") { id } }', { c: createCart.id }, headers);
    await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: createCart.id, a: { name: 'Ann', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, headers);
    const { availableShippingMethods } = await system.ok(METHODS, { c: createCart.id }, headers);
    const chosen = availableShippingMethods.find((m: { name: string }) => m.name === methodName);
    await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: createCart.id, m: chosen.id }, headers);
    return createCart.id as string;
  };

  describe('customers', () => {
    it('registers, logs in, refreshes once, and reads only itself', async () => {
      const { registerCustomer: ann } = await system.ok(REGISTER, { i: { email: ' Ann@Example.com', password: 'correct horse 1', name: 'Ann' } }, shop.storefrontHeaders);
      expect(ann.customer).toEqual({ id: expect.any(String), email: 'ann@example.com', name: 'Ann' });
      const taken = await system.request(REGISTER, { i: { email: 'ann@example.com', password: 'another pass 1', name: 'Ann 2' } }, shop.storefrontHeaders);
      expect(codes(taken)).toEqual(['BAD_USER_INPUT']);

      const { customerLogin } = await system.ok(LOGIN, { i: { email: 'ann@example.com', password: 'correct horse 1' } }, shop.storefrontHeaders);
      const { me } = await system.ok(ME, {}, asCustomer(customerLogin.accessToken));
      expect(me).toEqual({ id: ann.customer.id, email: 'ann@example.com', name: 'Ann', addresses: [] });
      await system.ok('mutation ($a: AddressInput!) { addCustomerAddress(input: $a) { id } }', { a: { name: 'Ann', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, asCustomer(customerLogin.accessToken));
      expect((await system.ok(ME, {}, asCustomer(customerLogin.accessToken))).me.addresses).toEqual([{ city: 'Berlin' }]);

      // A refresh token works once.
      const { refreshCustomerToken } = await system.ok(REFRESH, { t: customerLogin.refreshToken }, shop.storefrontHeaders);
      expect(refreshCustomerToken.customer.id).toBe(ann.customer.id);
      expect(codes(await system.request(REFRESH, { t: customerLogin.refreshToken }, shop.storefrontHeaders))).toEqual(['UNAUTHENTICATED']);

      // Staff operations stay closed to a customer; anonymous callers have no `me`.
      expect(codes(await system.request('{ orders(first: 1) { edges { node { id } } } }', {}, asCustomer(ann.accessToken)))).toEqual(['FORBIDDEN']);
      expect(codes(await system.request(ME, {}, shop.storefrontHeaders))).toEqual(['FORBIDDEN']);
    });

    it('limits failed logins per email', async () => {
      await system.ok(REGISTER, { i: { email: 'bob@example.com', password: 'bob password 1', name: 'Bob' } }, shop.storefrontHeaders);
      for (let i = 0; i < 5; i++) {
        expect(codes(await system.request(LOGIN, { i: { email: 'bob@example.com', password: 'wrong password' } }, shop.storefrontHeaders))).toEqual(['UNAUTHENTICATED']);
      }
      // Even the right password waits now.
      expect(codes(await system.request(LOGIN, { i: { email: 'bob@example.com', password: 'bob password 1' } }, shop.storefrontHeaders))).toEqual(['RATE_LIMITED']);
    });
  });

  describe('carts and checkout', () => {
    it('prices a cart live, ships by method, and checks out into a reserved order of the customer', async () => {
      const { registerCustomer: cara } = await system.ok(REGISTER, { i: { email: 'cara@example.com', password: 'cara password 1', name: 'Cara' } }, shop.storefrontHeaders);
      const headers = asCustomer(cara.accessToken);
      const { createCart } = await system.ok(CREATE_CART, { s: shop.storeId }, headers);
      await eventually(() => system.ok(ADD, { c: createCart.id, l: [{ sku: 'TEA-1', quantity: 2 }, { sku: 'TEA-2', quantity: 1 }] }, headers));
      const { addCartLines } = await system.ok(ADD, { c: createCart.id, l: [{ sku: 'TEA-1', quantity: 1 }] }, headers);
      expect(addCartLines.lines).toEqual([
        { sku: 'TEA-1', quantity: 3, unitPrice: { amount: '4.50' }, total: { amount: '13.50' } },
        { sku: 'TEA-2', quantity: 1, unitPrice: { amount: '12.00' }, total: { amount: '12.00' } },
      ]);
      expect(addCartLines.subtotal).toEqual({ amount: '25.50', currencyCode: 'EUR' });
      // Each method priced for this cart: flat under the free threshold, the upper band, pickup free.
      const { availableShippingMethods } = await system.ok(METHODS, { c: createCart.id }, headers);
      expect(availableShippingMethods.map((m: { name: string; price: { amount: string } }) => [m.name, m.price.amount])).toEqual([
        ['Standard', '4.95'], ['By value', '3.00'], ['Pickup', '0.00'],
      ]);
      await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "Cara@Example.com") { id } }', { c: createCart.id }, headers);
      await system.ok('mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c: createCart.id, a: { name: 'Cara', line1: '2 Side St', city: 'Hamburg', postalCode: '20095', countryCode: 'DE' } }, headers);
      await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: createCart.id, m: availableShippingMethods[0].id }, headers);
      const { cart } = await system.ok(READ_CART, { c: createCart.id }, headers);
      expect({ shipping: cart.shippingTotal, total: cart.total, method: cart.shippingMethod }).toEqual({ shipping: { amount: '4.95' }, total: { amount: '30.45' }, method: { name: 'Standard' } });

      // Every checkout charges a pricing quote (decision 0044): without a token, nothing is placed.
      const tokenless = { cartId: createCart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'cara-1' };
      const refused = await system.request(CHECKOUT, { i: tokenless }, headers);
      expect(codes(refused)).toEqual(['QUOTE_REQUIRED']);
      expect(refused.errors?.[0]?.extensions?.couponCodes).toEqual([]);
      expect((await system.ok(READ_CART, { c: createCart.id }, headers)).cart.order).toBeNull();
      // The storefront charges the quote it showed: the cart's own.
      const input = await cartQuoted(system, tokenless, headers);
      const { checkout } = await system.ok(CHECKOUT, { i: input }, headers);
      expect(checkout).toEqual({
        id: expect.any(String), status: 'RESERVED', total: { amount: '30.45' }, email: 'cara@example.com',
        shipping: { name: 'Standard', price: { amount: '4.95' } }, customer: { id: cara.customer.id },
        lines: [{ sku: 'TEA-1', quantity: 3 }, { sku: 'TEA-2', quantity: 1 }],
      });
      // The same key answers the same order and reserves nothing more; the ledger holds the lines.
      expect((await system.ok(CHECKOUT, { i: input }, headers)).checkout.id).toBe(checkout.id);
      expect(await level('TEA-1')).toEqual({ onHand: 20, reserved: 3, available: 17 });
      expect((await system.ok(READ_CART, { c: createCart.id }, headers)).cart.order).toEqual({ id: checkout.id });
      expect(codes(await system.request(ADD, { c: createCart.id, l: [{ sku: 'TEA-1', quantity: 1 }] }, headers))).toEqual(['BAD_USER_INPUT']);

      // The customer's own orders, and staff marks a manual payment paid.
      const mine = await system.ok('{ me { orders(first: 5) { edges { node { id status } } } } }', {}, headers);
      expect(mine.me.orders.edges).toEqual([{ node: { id: checkout.id, status: 'RESERVED' } }]);
      const paid = await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: checkout.id }, shop.posHeaders);
      expect(paid.payOrder.status).toBe('PAID');
    });

    it('refuses another customer the cart and the order, in the database', async () => {
      const { registerCustomer: dan } = await system.ok(REGISTER, { i: { email: 'dan@example.com', password: 'dan password 1', name: 'Dan' } }, shop.storefrontHeaders);
      const { registerCustomer: eve } = await system.ok(REGISTER, { i: { email: 'eve@example.com', password: 'eve password 1', name: 'Eve' } }, shop.storefrontHeaders);
      const cartId = await readyCart(asCustomer(dan.accessToken), [{ sku: 'TEA-1', quantity: 1 }]);
      const { checkout } = await system.ok(CHECKOUT, { i: await cartQuoted(system, { cartId, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'dan-1' }, asCustomer(dan.accessToken)) }, asCustomer(dan.accessToken));
      const eveSees = asCustomer(eve.accessToken);
      expect((await system.ok(READ_CART, { c: cartId }, eveSees)).cart).toBeNull();
      expect((await system.ok('query ($id: ID!) { order(id: $id) { id } }', { id: checkout.id }, eveSees)).order).toBeNull();
      expect((await system.ok('{ me { orders(first: 5) { edges { node { id } } } } }', {}, eveSees)).me.orders.edges).toEqual([]);
      // Asking for Dan's orders through the entity does not help either: the rows stay invisible.
      expect(codes(await system.request(ADD, { c: cartId, l: [{ sku: 'TEA-1', quantity: 1 }] }, eveSees))).toEqual(['NOT_FOUND']);
      // Dan reads his own; an anonymous cart is readable by whoever holds its id.
      expect((await system.ok('query ($id: ID!) { order(id: $id) { id } }', { id: checkout.id }, asCustomer(dan.accessToken))).order).toEqual({ id: checkout.id });
      const guest = await readyCart(shop.storefrontHeaders, [{ sku: 'TEA-1', quantity: 1 }]);
      expect((await system.ok(READ_CART, { c: guest }, shop.storefrontHeaders)).cart.lines).toHaveLength(1);
    });

    it('gives the last unit to exactly one of two racing checkouts', async () => {
      const first = await readyCart(shop.storefrontHeaders, [{ sku: 'LAST-1', quantity: 1 }], 'Pickup');
      const second = await readyCart(shop.storefrontHeaders, [{ sku: 'LAST-1', quantity: 1 }], 'Pickup');
      const inputs = await Promise.all([first, second].map((cartId, i) => cartQuoted(system, { cartId, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: `race-${i}` }, shop.storefrontHeaders)));
      const results = await Promise.all(inputs.map((i) => system.request(CHECKOUT, { i }, shop.storefrontHeaders)));
      const won = results.filter((r) => r.data?.checkout?.status === 'RESERVED');
      const lost = results.filter((r) => codes(r).includes('INSUFFICIENT_STOCK'));
      expect([won.length, lost.length]).toEqual([1, 1]);
      expect(await level('LAST-1')).toEqual({ onHand: 1, reserved: 1, available: 0 });
      // The loser's cart is open again.
      const loserCart = results[0] === lost[0] ? first : second;
      expect((await system.ok(READ_CART, { c: loserCart }, shop.storefrontHeaders)).cart.order).toBeNull();
    });
  });
});
