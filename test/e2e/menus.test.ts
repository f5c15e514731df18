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
});
