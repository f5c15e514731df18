import { randomUUID } from 'node:crypto';
import { signJson } from '../../lib/webhooks/signatures.js';
import { addProduct, createShop, setPrice, type Shop } from '../support/fixtures.js';
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

  const place = (lines: unknown[]) => system.request(PLACE, { i: { storeId: shop.storeId, lines } }, shop.posHeaders);

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
      const placed = await system.request(PLACE, { i: { storeId: store.id, lines: [{ sku: 'FLAT-WHITE', quantity: 1, modifiers: ['SYR-VAN', 'SYR-CAR'] }] } }, shop.posHeaders);
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
