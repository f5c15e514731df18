import { randomUUID } from 'node:crypto';
import { signJson } from '../../lib/webhooks/signatures.js';
import { addProduct, createShop, quoted, quoteLinesOf, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const SET_GROUPS = `mutation ($p: ID!, $g: [ModifierGroupInput!]!) {
  setModifierGroups(productId: $p, groups: $g) { id modifierGroups { name minSelections maxSelections modifiers { sku name } } }
}`;
const MENU = `query ($sku: ID!, $s: ID!) {
  variant(sku: $sku) { product { modifierGroups { name minSelections maxSelections modifiers { sku name price(storeId: $s) { amount currencyCode } } } } }
}`;
const PLACE = `mutation ($i: PlaceOrderInput!) {
  placeOrder(input: $i) { id lines { sku quantity unitPrice { amount } modifiers { sku name unitPrice { amount } } } total { amount } }
}`;
const WINDOWS = `mutation ($i: SetAvailabilityWindowsInput!, $s: ID!) {
  setAvailabilityWindows(input: $i) { id availability(storeId: $s) { timeZone windows { from to } } }
}`;
const ORDERABLE = 'query ($sku: ID!, $s: ID!) { variant(sku: $sku) { product { orderable(storeId: $s) } } }';
/** `HH:00` of the hour `offset` hours from now, in UTC. */
const hourFromNow = (offset: number) => `${String((new Date().getUTCHours() + offset + 24) % 24).padStart(2, '0')}:00`;
const POS_SECRET = 'menu-pos-secret-0123456789abcdef';
const CART_LINES = 'lines { sku quantity unitPrice { amount } total { amount } modifiers { sku name unitPrice { amount } } } subtotal { amount }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

describe('restaurant menus: modifier groups, priced order lines', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let latte: string;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    latte = (await addProduct(system, shop, 'Latte', ['LATTE'])).id;
    // Modifiers are skus of add-on products, priced in pricing like any sku.
    await addProduct(system, shop, 'Milk', ['MILK-OAT', 'MILK-SOY']);
    await addProduct(system, shop, 'Extra shot', ['SHOT']);
    await setPrice(system, shop, 'LATTE', '3.20');
    await setPrice(system, shop, 'MILK-OAT', '0.40');
    await setPrice(system, shop, 'MILK-SOY', '0.30');
    await setPrice(system, shop, 'SHOT', '0.60');
    const groups = [
      { name: 'Milk', minSelections: 1, maxSelections: 1, modifiers: [{ sku: 'MILK-OAT', name: 'Oat milk' }, { sku: 'MILK-SOY', name: 'Soy milk' }] },
      { name: 'Extra shot', minSelections: 0, maxSelections: 1, modifiers: [{ sku: 'SHOT', name: 'Extra shot' }] },
    ];
    const { setModifierGroups } = await system.ok(SET_GROUPS, { p: latte, g: groups }, shop.headers);
    expect(setModifierGroups.modifierGroups).toEqual(groups);
  });
  afterAll(() => system.stop());

  /** A till's sale: the quote prices each line's sku and its modifiers (quantities summed per sku), the order charges it. */
  const place = async (lines: { sku: string; quantity: number; modifiers?: string[] }[]) =>
    system.request(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines }, shop.posHeaders) }, shop.posHeaders);

  it('shows the groups with prices from pricing, and refuses groups it cannot keep', async () => {
    const { variant } = await system.ok(MENU, { sku: 'LATTE', s: shop.storeId }, shop.storefrontHeaders);
    expect(variant.product.modifierGroups[0].modifiers).toEqual([
      { sku: 'MILK-OAT', name: 'Oat milk', price: { amount: '0.40', currencyCode: 'EUR' } },
      { sku: 'MILK-SOY', name: 'Soy milk', price: { amount: '0.30', currencyCode: 'EUR' } },
    ]);
    const unknown = await system.request(SET_GROUPS, { p: latte, g: [{ name: 'X', minSelections: 0, maxSelections: 1, modifiers: [{ sku: 'NOPE', name: 'n' }] }] }, shop.headers);
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
    const inverted = await system.request(SET_GROUPS, { p: latte, g: [{ name: 'X', minSelections: 2, maxSelections: 1, modifiers: [{ sku: 'SHOT', name: 's' }] }] }, shop.headers);
    expect(codes(inverted)).toEqual(['BAD_USER_INPUT']);
  });

  it('checks each line against the group limits and adds the modifiers to its price', async () => {
    // Orders learn the groups by event: wait until a line without its required milk is refused.
    await eventually(async () => expect(codes(await place([{ sku: 'LATTE', quantity: 1 }]))).toEqual(['MODIFIERS_INVALID']));
    expect(codes(await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT', 'MILK-SOY'] }]))).toEqual(['MODIFIERS_INVALID']);
    expect(codes(await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT', 'LATTE'] }]))).toEqual(['MODIFIERS_INVALID']);
    const placed = await place([{ sku: 'LATTE', quantity: 2, modifiers: ['MILK-OAT', 'SHOT'] }]);
    expect(placed.errors).toBeUndefined();
    expect(placed.data!.placeOrder.lines).toEqual([{
      sku: 'LATTE', quantity: 2, unitPrice: { amount: '4.20' },
      modifiers: [{ sku: 'MILK-OAT', name: 'Oat milk', unitPrice: { amount: '0.40' } }, { sku: 'SHOT', name: 'Extra shot', unitPrice: { amount: '0.60' } }],
    }]);
    expect(placed.data!.placeOrder.total).toEqual({ amount: '8.40' });
    // The quote must price the modifiers too: a quote of the latte alone does not charge a latte with oat milk.
    const lines = [{ sku: 'LATTE', quantity: 2, modifiers: ['MILK-OAT'] }];
    expect(quoteLinesOf(lines)).toEqual([{ sku: 'LATTE', quantity: 2 }, { sku: 'MILK-OAT', quantity: 2 }]);
    const { quote } = await system.ok('query ($i: QuoteInput!) { quote(input: $i) { token } }', { i: { storeId: shop.storeId, lines: [{ sku: 'LATTE', quantity: 2 }] } }, shop.posHeaders);
    const partial = await system.request(PLACE, { i: { storeId: shop.storeId, lines, quoteToken: quote.token } }, shop.posHeaders);
    expect(partial.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['QUOTE_INVALID', "the order's lines are not the quote's lines: MILK-OAT is 2 in the order (its lines and their modifiers) and 0 in the quote"],
    ]);
  });

  it('takes a sku on two lines with other modifiers (one reservation of their sum), not twice with the same', async () => {
    await receiveStock(system, shop, 'LATTE', 4);
    await eventually(async () => expect((await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT'] }])).errors).toBeUndefined());
    const same = await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT', 'SHOT'] }, { sku: 'LATTE', quantity: 1, modifiers: ['SHOT', 'MILK-OAT'] }]);
    expect(codes(same)).toEqual(['BAD_USER_INPUT']);
    const two = await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT'] }, { sku: 'LATTE', quantity: 1, modifiers: ['MILK-SOY'] }]);
    expect(two.errors).toBeUndefined();
    expect(two.data!.placeOrder.lines.map((l: { modifiers: { sku: string }[]; unitPrice: { amount: string } }) => [l.modifiers.map((x) => x.sku), l.unitPrice.amount])).toEqual([[['MILK-OAT'], '3.60'], [['MILK-SOY'], '3.50']]);
    // Inventory reserves the sku once for both lines: with the first order's, 3 of the 4 received.
    const status = (id: string) => system.ok('query ($id: ID!) { order(id: $id) { status } }', { id }, shop.posHeaders);
    await eventually(async () => expect((await status(two.data!.placeOrder.id)).order.status).toBe('RESERVED'));
    await eventually(async () => expect((await system.ok('query ($s: ID!) { variant(sku: "LATTE") { stock(storeId: $s) { reserved } } }', { s: shop.storeId }, shop.headers)).variant.stock.reserved).toBe(3));
    // One left: two lines of one each need two, though each alone would fit.
    const over = await place([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT'] }, { sku: 'LATTE', quantity: 1, modifiers: ['MILK-SOY', 'SHOT'] }]);
    await eventually(async () => expect((await status(over.data!.placeOrder.id)).order.status).toBe('REJECTED'));

    // Returned, one LATTE of the two lines (3.60 and 3.50) refunds their average, not the first line's price.
    const orderId = two.data!.placeOrder.id;
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { id } }', { id: orderId }, shop.posHeaders);
    await system.ok('mutation ($id: ID!) { fulfillOrder(id: $id) { id } }', { id: orderId }, shop.posHeaders);
    const { requestReturn } = await system.ok('mutation ($id: ID!) { requestReturn(input: { orderId: $id, lines: [{ sku: "LATTE", quantity: 1 }] }) { id } }', { id: orderId }, shop.posHeaders);
    const { receiveReturn } = await system.ok('mutation ($id: ID!) { receiveReturn(input: { returnId: $id, restock: false }) { refund { amount } } }', { id: requestReturn.id }, shop.posHeaders);
    expect(receiveReturn.refund.amount).toBe('3.55');
  });

  it('keeps modifiers on cart lines, priced as order lines are, through checkout into the order', async () => {
    await receiveStock(system, shop, 'LATTE', 5);
    const { createShippingMethod } = await system.ok('mutation ($i: CreateShippingMethodInput!) { createShippingMethod(input: $i) { id } }', { i: { storeId: shop.storeId, currencyCode: 'EUR', name: 'Counter', kind: 'PICKUP' } }, shop.headers);
    const headers = shop.storefrontHeaders;
    const { createCart } = await system.ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: shop.storeId }, headers);
    const add = (lines: unknown[]) => system.request(`mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { ${CART_LINES} } }`, { c: createCart.id, l: lines }, headers);
    expect(codes(await add([{ sku: 'LATTE', quantity: 1 }]))).toEqual(['MODIFIERS_INVALID']);
    expect(codes(await add([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT', 'MILK-SOY'] }]))).toEqual(['MODIFIERS_INVALID']);
    await add([{ sku: 'LATTE', quantity: 1, modifiers: ['SHOT', 'MILK-OAT'] }, { sku: 'LATTE', quantity: 1, modifiers: ['MILK-SOY'] }]);
    // The same sku with the same modifiers (in any order) adds to its line.
    const again = await add([{ sku: 'LATTE', quantity: 1, modifiers: ['MILK-OAT', 'SHOT'] }]);
    expect(again.errors).toBeUndefined();
    const oatShot = [{ sku: 'MILK-OAT', name: 'Oat milk', unitPrice: { amount: '0.40' } }, { sku: 'SHOT', name: 'Extra shot', unitPrice: { amount: '0.60' } }];
    expect(again.data!.addCartLines).toEqual({
      lines: [
        { sku: 'LATTE', quantity: 2, unitPrice: { amount: '4.20' }, total: { amount: '8.40' }, modifiers: oatShot },
        { sku: 'LATTE', quantity: 1, unitPrice: { amount: '3.50' }, total: { amount: '3.50' }, modifiers: [{ sku: 'MILK-SOY', name: 'Soy milk', unitPrice: { amount: '0.30' } }] },
      ],
      subtotal: { amount: '11.90' },
    });
    const update = (lines: unknown[]) => system.request(`mutation ($c: ID!, $l: [CartLineInput!]!) { updateCartLines(cartId: $c, lines: $l) { ${CART_LINES} } }`, { c: createCart.id, l: lines }, headers);
    expect(codes(await update([{ sku: 'LATTE', quantity: 3 }]))).toEqual(['NOT_FOUND']);
    expect((await update([{ sku: 'LATTE', quantity: 3, modifiers: ['MILK-SOY'] }])).data!.updateCartLines.subtotal).toEqual({ amount: '18.90' });

    await system.ok('mutation ($c: ID!) { setCartEmail(cartId: $c, email: "latte@example.com") { id } }', { c: createCart.id }, headers);
    await system.ok('mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c: createCart.id, m: createShippingMethod.id }, headers);
    // The cart's quote prices its modifiers as quote lines of their own (per sku, at their lines'
    // quantities), and its token is what the checkout charges (decision 0044).
    const { cart } = await system.ok('query ($c: ID!) { cart(id: $c) { quote { lines { sku quantity } total { amount } token } } }', { c: createCart.id }, headers);
    expect(cart.quote.lines).toEqual([{ sku: 'LATTE', quantity: 5 }, { sku: 'MILK-OAT', quantity: 2 }, { sku: 'SHOT', quantity: 2 }, { sku: 'MILK-SOY', quantity: 3 }]);
    expect(cart.quote.total).toEqual({ amount: '18.90' });
    const { checkout } = await system.ok(
      'mutation ($i: CheckoutInput!) { checkout(input: $i) { total { amount } lines { sku quantity unitPrice { amount } modifiers { sku name unitPrice { amount } } } } }',
      { i: { cartId: createCart.id, paymentMethod: { provider: 'MANUAL' }, idempotencyKey: `latte-${randomUUID()}`, quoteToken: cart.quote.token } },
      headers,
    );
    expect(checkout).toEqual({
      total: { amount: '18.90' },
      lines: [
        { sku: 'LATTE', quantity: 2, unitPrice: { amount: '4.20' }, modifiers: oatShot },
        { sku: 'LATTE', quantity: 3, unitPrice: { amount: '3.50' }, modifiers: [{ sku: 'MILK-SOY', name: 'Soy milk', unitPrice: { amount: '0.30' } }] },
      ],
    });
    // A cart whose per-sku sums exceed what a quote may price (1,000,000 of a sku) has no quote,
    // so it cannot be checked out until it is smaller (docs/limits.md).
    const { createCart: big } = await system.ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: shop.storeId }, headers);
    const QUOTE_OF = `mutation ($c: ID!, $l: [CartLineInput!]!) { addCartLines(cartId: $c, lines: $l) { quote { lines { sku quantity } } } }`;
    const half = (milk: string) => ({ sku: 'LATTE', quantity: 600_000, modifiers: [milk] });
    expect((await system.ok(QUOTE_OF, { c: big.id, l: [half('MILK-OAT')] }, headers)).addCartLines.quote.lines).toEqual([{ sku: 'LATTE', quantity: 600_000 }, { sku: 'MILK-OAT', quantity: 600_000 }]);
    expect((await system.ok(QUOTE_OF, { c: big.id, l: [half('MILK-SOY')] }, headers)).addCartLines.quote).toBeNull();
  });

  it('shows the groups in search and in the product list', async () => {
    const groups = 'modifierGroups { name modifiers { sku name price(storeId: $s) { amount } } }';
    const result = await eventually(async () => {
      const found = await system.ok(`query ($s: ID!) { search(query: "Latte", storeId: $s) { edges { node { title ${groups} } } } products(first: 5, query: "Latte") { edges { node { title ${groups} } } } }`, { s: shop.storeId }, shop.storefrontHeaders);
      if (found.search.edges.length === 0) throw new Error('not indexed yet');
      return found;
    });
    const latteView = {
      title: 'Latte',
      modifierGroups: [
        { name: 'Milk', modifiers: [{ sku: 'MILK-OAT', name: 'Oat milk', price: { amount: '0.40' } }, { sku: 'MILK-SOY', name: 'Soy milk', price: { amount: '0.30' } }] },
        { name: 'Extra shot', modifiers: [{ sku: 'SHOT', name: 'Extra shot', price: { amount: '0.60' } }] },
      ],
    };
    expect(result.search.edges.map((e: { node: unknown }) => e.node)).toEqual([latteView]);
    expect(result.products.edges.map((e: { node: unknown }) => e.node)).toEqual([latteView]);
  });

  it('refuses an item outside its availability window in the store, and takes it inside one', async () => {
    const porridge = (await addProduct(system, shop, 'Porridge', ['PORRIDGE'])).id;
    await setPrice(system, shop, 'PORRIDGE', '4.00');
    const setWindows = (windows: { from: string; to: string }[]) =>
      system.ok(WINDOWS, { s: shop.storeId, i: { productId: porridge, storeId: shop.storeId, timeZone: 'UTC', windows } }, shop.headers);
    const orderable = async () => (await system.ok(ORDERABLE, { sku: 'PORRIDGE', s: shop.storeId }, shop.storefrontHeaders)).variant.product.orderable;
    // Closed: a window from two to three hours ahead (in UTC, the store's zone here).
    const later = { from: hourFromNow(2), to: hourFromNow(3) };
    const { setAvailabilityWindows } = await setWindows([later]);
    expect(setAvailabilityWindows.availability).toEqual({ timeZone: 'UTC', windows: [later] });
    expect(await orderable()).toBe(false);
    await eventually(async () => {
      const refused = await place([{ sku: 'PORRIDGE', quantity: 1 }]);
      expect(refused.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'OUTSIDE_AVAILABILITY_WINDOW', sku: 'PORRIDGE', timeZone: 'UTC' }));
    });
    // Open: from the hour before now to two hours after it.
    await setWindows([{ from: hourFromNow(-1), to: hourFromNow(2) }]);
    expect(await orderable()).toBe(true);
    await eventually(async () => expect((await place([{ sku: 'PORRIDGE', quantity: 1 }])).errors).toBeUndefined());
    const badZone = await system.request(WINDOWS, { s: shop.storeId, i: { productId: porridge, storeId: shop.storeId, timeZone: 'Mars/Olympus', windows: [] } }, shop.headers);
    expect(codes(badZone)).toEqual(['BAD_USER_INPUT']);
  });

  it("evaluates windows set without a zone in the store's time zone, which an admin sets", async () => {
    const ramen = (await addProduct(system, shop, 'Ramen', ['RAMEN'])).id;
    await setPrice(system, shop, 'RAMEN', '9.00');
    // Tokyo is UTC+9 all year: from the hour before now there to two hours after it.
    const tokyoHour = (offset: number) => hourFromNow(9 + offset);
    const lunch = [{ from: tokyoHour(-1), to: tokyoHour(2) }];
    const { setAvailabilityWindows } = await system.ok(WINDOWS, { s: shop.storeId, i: { productId: ramen, storeId: shop.storeId, windows: lunch } }, shop.headers);
    // The store has no zone yet (UTC): in UTC those hours are nine hours away.
    expect(setAvailabilityWindows.availability).toEqual({ timeZone: 'UTC', windows: lunch });
    const orderable = async () => (await system.ok(ORDERABLE, { sku: 'RAMEN', s: shop.storeId }, shop.storefrontHeaders)).variant.product.orderable;
    expect(await orderable()).toBe(false);
    await eventually(async () => expect(codes(await place([{ sku: 'RAMEN', quantity: 1 }]))).toEqual(['OUTSIDE_AVAILABILITY_WINDOW']));

    const SET_ZONE = 'mutation ($s: ID!, $z: String!) { setStoreTimeZone(storeId: $s, timeZone: $z) { id timeZone } }';
    expect(codes(await system.request(SET_ZONE, { s: shop.storeId, z: 'Mars/Olympus' }, shop.headers))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await system.request(SET_ZONE, { s: shop.storeId, z: 'Asia/Tokyo' }, shop.posHeaders))).toEqual(['FORBIDDEN']);
    expect((await system.ok(SET_ZONE, { s: shop.storeId, z: 'Asia/Tokyo' }, shop.headers)).setStoreTimeZone).toEqual({ id: shop.storeId, timeZone: 'Asia/Tokyo' });
    // Catalog and orders learn the zone by event, and the same windows are open now.
    await eventually(async () => expect(await orderable()).toBe(true));
    const { variant } = await system.ok('query ($s: ID!) { variant(sku: "RAMEN") { product { availability(storeId: $s) { timeZone } } } }', { s: shop.storeId }, shop.headers);
    expect(variant.product.availability).toEqual({ timeZone: 'Asia/Tokyo' });
    await eventually(async () => expect((await place([{ sku: 'RAMEN', quantity: 1 }])).errors).toBeUndefined());
    // Windows set with their own zone keep it: the porridge's are still in UTC.
    expect((await system.ok('query ($s: ID!) { variant(sku: "PORRIDGE") { product { availability(storeId: $s) { timeZone } } } }', { s: shop.storeId }, shop.headers)).variant.product.availability.timeZone).toBe('UTC');
  });

  it("replaces a store's menu from a signed POS menu.updated, once, through to an order with modifiers", async () => {
    await system.ok('mutation ($i: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $i) { source } }', { i: { source: 'POS', secret: POS_SECRET, currencyCode: 'EUR' } }, shop.headers);
    const store = shop.stores[1]!;
    const body = JSON.stringify({
      event_id: randomUUID(),
      type: 'menu.updated',
      occurred_at: new Date().toISOString(),
      location: store.code,
      time_zone: 'Europe/Berlin',
      items: [{
        id: 'flat-white', sku: 'FLAT-WHITE', title: 'Flat white', price: '3.50',
        windows: [],
        modifier_groups: [{ name: 'Syrup', min: 0, max: 2, modifiers: [{ sku: 'SYR-VAN', name: 'Vanilla', price: '0.50' }, { sku: 'SYR-CAR', name: 'Caramel', price: '0.45' }] }],
      }],
    });
    const deliver = () => fetch(`${new URL(system.gatewayUrl).origin}/webhooks/pos/${shop.slug}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, POS_SECRET) }, body });
    const first = await deliver();
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    // A redelivery of the same event is the same delivery: applied once.
    const again = await deliver();
    expect(((await again.json()) as { id: string }).id).toBe(id);
    const order = await eventually(async () => {
      const placed = await system.request(PLACE, { i: await quoted(system, { storeId: store.id, lines: [{ sku: 'FLAT-WHITE', quantity: 1, modifiers: ['SYR-VAN', 'SYR-CAR'] }] }, shop.posHeaders) }, shop.posHeaders);
      if (placed.errors) throw new Error(JSON.stringify(placed.errors));
      return placed.data!.placeOrder;
    }, 15_000);
    expect(order.lines[0]).toEqual({
      sku: 'FLAT-WHITE', quantity: 1, unitPrice: { amount: '4.45' },
      modifiers: [{ sku: 'SYR-VAN', name: 'Vanilla', unitPrice: { amount: '0.50' } }, { sku: 'SYR-CAR', name: 'Caramel', unitPrice: { amount: '0.45' } }],
    });
    const { ingestionEvents } = await system.ok('{ ingestionEvents(source: POS, first: 10) { edges { node { id status } } } }', {}, shop.headers);
    expect(ingestionEvents.edges.map((e: { node: unknown }) => e.node)).toEqual([{ id, status: 'APPLIED' }]);
    const { variant } = await system.ok('query ($s: ID!) { variant(sku: "FLAT-WHITE") { product { title orderable(storeId: $s) modifierGroups { name maxSelections } } } }', { s: store.id }, shop.headers);
    expect(variant.product).toEqual({ title: 'Flat white', orderable: true, modifierGroups: [{ name: 'Syrup', maxSelections: 2 }] });
  });
});
