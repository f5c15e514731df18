import { addProduct, createShop, okOnceKnown, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const MONEY = 'amount currencyCode';
export const QUOTE_FIELDS = `id currencyCode pricesIncludeTax
  lines { sku quantity listPrice { ${MONEY} } unitPrice { ${MONEY} } priceListId adjustments { promotionId label amount { ${MONEY} } } taxes { name rate amount { ${MONEY} } } total { ${MONEY} } }
  subtotal { ${MONEY} } discountTotal { ${MONEY} } taxTotal { ${MONEY} } total { ${MONEY} }
  appliedPromotions { id name } rejectedCoupons { code reason } token expiresAt`;
const QUOTE = `query ($input: QuoteInput!) { quote(input: $input) { ${QUOTE_FIELDS} } }`;
const CLAIM = `mutation ($input: QuoteInput!) { claimQuote(input: $input) { ${QUOTE_FIELDS} } }`;
const CONFIGURE = `mutation ($input: ConfigureStorePricingInput!) { configureStorePricing(input: $input) { storeId currencyCode pricesIncludeTax } }`;
const CREATE_LIST = `mutation ($input: CreatePriceListInput!) { createPriceList(input: $input) { id name priority storeIds } }`;
const SET_LIST_PRICES = `mutation ($input: SetPriceListPricesInput!) { setPriceListPrices(input: $input) { id prices { sku minQuantity amount { ${MONEY} } } } }`;
const CREATE_PROMOTION = `mutation ($input: CreatePromotionInput!) { createPromotion(input: $input) { id name kind couponCode usageLimit usageCount } }`;
const SET_TAX = `mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { name rate category } }`;
const PROMOTIONS = `{ promotions { id couponCode usageCount } }`;

describe('pricing engine through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const amount = (m: { amount: string }) => m.amount;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Coffee', ['COF-1'], { brand: 'Roastery' });
    await addProduct(system, shop, 'Mug', ['MUG-1']);
    await addProduct(system, shop, 'Tea', ['TEA-1']);
    await setPrice(system, shop, 'COF-1', '10.00');
    await setPrice(system, shop, 'MUG-1', '8.00');
    await setPrice(system, shop, 'TEA-1', '4.00');
    await system.ok(CONFIGURE, { input: { storeId: shop.storeId, currencyCode: 'EUR', pricesIncludeTax: false } }, shop.headers);
    for (const [name, rate] of [['State', '6.25'], ['County', '1'], ['City', '2.375']]) {
      await system.ok(SET_TAX, { input: { storeId: shop.storeId, name, rate } }, shop.headers);
    }
  });
  afterAll(() => system.stop());

  it('prices tiers, an automatic brand promotion and three tax rates; every total is the sum of its lines', async () => {
    const { createPriceList: list } = await system.ok(CREATE_LIST, { input: { name: 'Main Street', currencyCode: 'EUR', storeIds: [shop.storeId], priority: 1 } }, shop.headers);
    await okOnceKnown(system, shop, SET_LIST_PRICES, { input: { priceListId: list.id, prices: [{ sku: 'COF-1', amount: '9.00', minQuantity: 1 }, { sku: 'COF-1', amount: '8.00', minQuantity: 10 }] } });
    // Pricing learns the brand from the catalog's event: wait until the promotion can see it.
    await system.ok(CREATE_PROMOTION, { input: { name: 'Roastery week', kind: 'PERCENT_OFF', value: '10', appliesTo: { brands: ['Roastery'] } } }, shop.headers);
    const quote = await eventually(async () => {
      const { quote: q } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines: [{ sku: 'COF-1', quantity: 10 }, { sku: 'MUG-1', quantity: 1 }] } }, shop.storefrontHeaders);
      if (q.appliedPromotions.length === 0) throw new Error('brand not known yet');
      return q;
    });
    const [coffee, mug] = quote.lines;
    expect([amount(coffee.listPrice), amount(coffee.unitPrice), coffee.priceListId]).toEqual(['10.00', '8.00', list.id]);
    // 80.00 − 10% = 72.00; taxes 4.50 + 0.72 + 1.71 = 6.93 → 78.93; the mug: 8.00 + 0.50 + 0.08 + 0.19 = 8.77.
    expect(coffee.adjustments.map((a: any) => [a.label, amount(a.amount)])).toEqual([['Roastery week', '8.00']]);
    expect(coffee.taxes.map((t: any) => [t.name, t.rate, amount(t.amount)])).toEqual([['City', '2.375', '1.71'], ['County', '1', '0.72'], ['State', '6.25', '4.50']]);
    expect([amount(coffee.total), amount(mug.total)]).toEqual(['78.93', '8.77']);
    expect([quote.subtotal, quote.discountTotal, quote.taxTotal, quote.total].map(amount)).toEqual(['88.00', '8.00', '7.70', '87.70']);
    expect(quote.token).toMatch(/^[\w-]+\.[\w-]+$/);
  });

  it('Variant.price is what a storefront shows (lists and automatic promotions, batched per store); a new promotion clears the cached answer', async () => {
    const SHELF = `query ($store: ID!) {
      coffee: variant(sku: "COF-1") { price(storeId: $store) { ${MONEY} } compareAtPrice(storeId: $store) { ${MONEY} } }
      mug: variant(sku: "MUG-1") { price(storeId: $store) { ${MONEY} } compareAtPrice(storeId: $store) { ${MONEY} } }
      jam: variant(sku: "JAM-1") { price(storeId: $store) { ${MONEY} } compareAtPrice(storeId: $store) { ${MONEY} } }
    }`;
    await addProduct(system, shop, 'Jam', ['JAM-1']);
    await setPrice(system, shop, 'JAM-1', '5.00');
    const shelf = async () => {
      const data = await system.ok(SHELF, { store: shop.storeId }, shop.storefrontHeaders);
      return Object.fromEntries(Object.entries(data).map(([k, v]: [string, any]) => [k, [v.price?.amount ?? null, v.compareAtPrice?.amount ?? null]]));
    };
    // Coffee: the Main Street list's 9.00 less Roastery week's 10% = 8.10, reduced from its own 10.00.
    expect(await shelf()).toEqual({ coffee: ['8.10', '10.00'], mug: ['8.00', null], jam: ['5.00', null] });
    expect(await shelf()).toEqual({ coffee: ['8.10', '10.00'], mug: ['8.00', null], jam: ['5.00', null] }); // now from the storefront cache
    await system.ok(CREATE_PROMOTION, { input: { name: 'Jam jar', kind: 'AMOUNT_OFF', value: '1.50', currencyCode: 'EUR', appliesTo: { skus: ['JAM-1'] } } }, shop.headers);
    await eventually(async () => expect((await shelf()).jam).toEqual(['3.50', '5.00']));
  });

  it('a scheduled price list takes effect on time, announced with a new version, without any write', async () => {
    const PRICE = `query ($sku: ID!, $store: ID!) { price(sku: $sku, storeId: $store) { version } }`;
    const { price: before } = await system.ok(PRICE, { sku: 'TEA-1', store: shop.storeId }, shop.headers);
    const startsAt = new Date(Date.now() + 1_500).toISOString();
    const { createPriceList: list } = await system.ok(CREATE_LIST, { input: { name: 'Flash sale', currencyCode: 'EUR', storeIds: [shop.storeId], priority: 5, startsAt } }, shop.headers);
    await system.ok(SET_LIST_PRICES, { input: { priceListId: list.id, prices: [{ sku: 'TEA-1', amount: '3.00' }] } }, shop.headers);
    await eventually(async () => {
      const { price } = await system.ok(PRICE, { sku: 'TEA-1', store: shop.storeId }, shop.headers);
      expect(price.version).toBe(before.version + 1);
    }, 15_000);
    const { quote } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines: [{ sku: 'TEA-1', quantity: 1 }] } }, shop.storefrontHeaders);
    expect([amount(quote.lines[0].unitPrice), quote.lines[0].priceListId]).toEqual(['3.00', list.id]);
  });

  it('priceChanged subscribers see a scheduled promotion start and end, and a scheduled list price start, with no write', async () => {
    const PRICE_CHANGED = `subscription ($store: ID!, $skus: [ID!]) { priceChanged(storeId: $store, skus: $skus) { sku price { ${MONEY} } previous { ${MONEY} } version } }`;
    await addProduct(system, shop, 'Biscuits', ['BIS-1']);
    await setPrice(system, shop, 'BIS-1', '6.00');
    const client = liveClient(system.gatewayUrl, shop.headers);
    try {
      const live = subscribe(client, PRICE_CHANGED, { store: shop.storeId, skus: ['BIS-1'] });
      await live.waitFor(1); // the current price
      const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
      // Written now, taking effect later (with room for a loaded machine's slow writes): half off
      // from +4 s to +7 s, then a list price of 5.00 from +10 s.
      await system.ok(CREATE_PROMOTION, { input: { name: 'Biscuit hour', kind: 'PERCENT_OFF', value: '50', appliesTo: { skus: ['BIS-1'] }, startsAt: soon(4_000), endsAt: soon(7_000) } }, shop.headers);
      const { createPriceList: list } = await system.ok(CREATE_LIST, { input: { name: 'Biscuit day', currencyCode: 'EUR', storeIds: [shop.storeId], priority: 7 } }, shop.headers);
      await system.ok(SET_LIST_PRICES, { input: { priceListId: list.id, prices: [{ sku: 'BIS-1', amount: '5.00', startsAt: soon(10_000) }] } }, shop.headers);
      await live.waitFor(4, 30_000);
      const seen = live.results.map((r) => r.data.priceChanged);
      expect(seen.map((c) => [c.price.amount, c.previous?.amount ?? null])).toEqual([['6.00', null], ['3.00', '6.00'], ['6.00', '3.00'], ['5.00', '6.00']]);
      expect(seen.map((c) => c.version)).toEqual([1, 2, 3, 4]);
    } finally {
      await client.dispose();
    }
  });

  it('counts a coupon exactly under concurrency: 100 claims of a coupon with 10 uses → 10 succeed, 90 COUPON_EXHAUSTED', async () => {
    await system.ok(CREATE_PROMOTION, { input: { name: 'Ten lucky', kind: 'AMOUNT_OFF', value: '2.00', currencyCode: 'EUR', couponCode: 'lucky10', usageLimit: 10, stackable: true } }, shop.headers);
    const input = { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 1 }], couponCodes: ['LUCKY10'] };
    const results = await Promise.all(Array.from({ length: 100 }, () => system.request(CLAIM, { input }, shop.posHeaders)));
    const codes: Record<string, number> = {};
    for (const r of results) {
      const code = String(r.errors?.[0]?.extensions?.code ?? 'OK');
      codes[code] = (codes[code] ?? 0) + 1;
    }
    // Whole: any other outcome is named in the failure, with its message.
    expect({ codes, others: results.filter((r) => r.errors && r.errors[0]?.extensions?.code !== 'COUPON_EXHAUSTED').map((r) => r.errors![0]!.message) }).toEqual({ codes: { OK: 10, COUPON_EXHAUSTED: 90 }, others: [] });
    for (const r of results.filter((x) => !x.errors)) expect(amount((r.data as any).claimQuote.discountTotal)).toBe('2.00');
    const { promotions } = await system.ok(PROMOTIONS, {}, shop.headers);
    expect(promotions.find((p: any) => p.couponCode === 'LUCKY10').usageCount).toBe(10);
    // Asked to, the quote is priced without the used-up coupon and says why.
    const dropped = await system.ok(CLAIM, { input: { ...input, dropExhaustedCoupons: true } }, shop.posHeaders);
    expect(dropped.claimQuote.rejectedCoupons).toEqual([{ code: 'LUCKY10', reason: 'EXHAUSTED' }]);
    // A preview never counts a use, and reports the coupon as used up.
    const preview = await system.ok(QUOTE, { input }, shop.storefrontHeaders);
    expect(preview.quote.rejectedCoupons).toEqual([{ code: 'LUCKY10', reason: 'EXHAUSTED' }]);
  });

  it('places an order charged exactly its claimed quote, once; a tampered or unclaimed quote is refused; cancelling gives the use back', async () => {
    const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id total { ${MONEY} } quote { id total { ${MONEY} } discountTotal { ${MONEY} } taxTotal { ${MONEY} } lines { sku discount { amount } tax { amount } } } } }`;
    const CANCEL = `mutation ($id: ID!) { cancelOrder(id: $id) { status } }`;
    await system.ok(CREATE_PROMOTION, { input: { name: 'Once', kind: 'PERCENT_OFF', value: '50', couponCode: 'ONCE', usageLimit: 1 } }, shop.headers);
    const lines = [{ sku: 'MUG-1', quantity: 2 }];
    const input = { storeId: shop.storeId, lines, couponCodes: ['ONCE'] };
    const preview = (await system.ok(QUOTE, { input }, shop.posHeaders)).quote;
    const unclaimed = await system.request(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: preview.token } }, shop.posHeaders);
    expect(unclaimed.errors?.[0]?.extensions?.code).toBe('QUOTE_INVALID');

    const { claimQuote: quote } = await system.ok(CLAIM, { input }, shop.posHeaders);
    // 16.00 − 50% = 8.00, taxes 0.50 + 0.08 + 0.19.
    expect([quote.discountTotal, quote.taxTotal, quote.total].map(amount)).toEqual(['8.00', '0.77', '8.77']);
    const [body, signature] = quote.token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), total: '0.01' })).toString('base64url');
    const tampered = await system.request(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: `${forged}.${signature}` } }, shop.posHeaders);
    expect(tampered.errors?.[0]?.extensions?.code).toBe('QUOTE_INVALID');
    const otherLines = await system.request(PLACE, { input: { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 3 }], quoteToken: quote.token } }, shop.posHeaders);
    expect(otherLines.errors?.[0]?.extensions?.code).toBe('QUOTE_INVALID');
    const otherStore = await system.request(PLACE, { input: { storeId: shop.stores[1]!.id, lines, quoteToken: quote.token } }, shop.posHeaders);
    expect(otherStore.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([['QUOTE_INVALID', 'the quote is for another store']]);
    // Every order is charged a quote: without a token, nothing is placed and the error says how to get one.
    const tokenless = await system.request(PLACE, { input: { storeId: shop.storeId, lines } }, shop.posHeaders);
    expect(tokenless.errors?.map((e) => e.extensions?.code)).toEqual(['QUOTE_REQUIRED']);
    expect(tokenless.errors?.[0]?.message).toMatch(/quoteToken.*`quote`.*`claimQuote`/);

    const { placeOrder: order } = await okOnceKnown(system, shop, PLACE, { input: { storeId: shop.storeId, lines, quoteToken: quote.token } });
    expect(order.total).toEqual({ amount: '8.77', currencyCode: 'EUR' });
    expect(order.quote).toEqual({
      id: quote.id, total: { amount: '8.77', currencyCode: 'EUR' }, discountTotal: { amount: '8.00', currencyCode: 'EUR' }, taxTotal: { amount: '0.77', currencyCode: 'EUR' },
      lines: [{ sku: 'MUG-1', discount: { amount: '8.00' }, tax: { amount: '0.77' } }],
    });
    const again = await system.request(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: quote.token } }, shop.posHeaders);
    expect(again.errors?.[0]?.extensions?.code).toBe('QUOTE_INVALID');

    // No stock: inventory rejects the order, and the coupon's use comes back.
    const usage = async () => (await system.ok(PROMOTIONS, {}, shop.headers)).promotions.find((p: any) => p.couponCode === 'ONCE').usageCount;
    await eventually(async () => expect(await usage()).toBe(0));
    await receiveStock(system, shop, 'MUG-1', 5);
    const { claimQuote: second } = await system.ok(CLAIM, { input }, shop.posHeaders);
    const { placeOrder: kept } = await system.ok(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: second.token } }, shop.posHeaders);
    expect(await usage()).toBe(1);
    await eventually(async () => expect((await system.ok(CANCEL, { id: kept.id }, shop.posHeaders)).cancelOrder.status).toBe('CANCELLED'));
    await eventually(async () => expect(await usage()).toBe(0));
  });

  it('lets one of 100 concurrent placeOrder calls charge a quote; the other 99 are told it was already charged', async () => {
    const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id quote { id } } }`;
    const lines = [{ sku: 'TEA-1', quantity: 1 }];
    // Orders learns a sku by event: one order of another quote first, once the sku is known there.
    const warmUp = [{ sku: 'TEA-1', quantity: 2 }];
    const { quote: first } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines: warmUp } }, shop.posHeaders);
    await okOnceKnown(system, shop, PLACE, { input: { storeId: shop.storeId, lines: warmUp, quoteToken: first.token } });
    const { quote } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines } }, shop.posHeaders);
    const place = { input: { storeId: shop.storeId, lines, quoteToken: quote.token } };
    const results = await Promise.all(Array.from({ length: 100 }, () => system.request(PLACE, place, shop.posHeaders)));
    const outcomes: Record<string, number> = {};
    for (const r of results) {
      const outcome = r.errors ? `${String(r.errors[0]?.extensions?.code)}: ${r.errors[0]?.message}` : 'placed';
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    }
    // The unique index on (tenant, quote) lets exactly one order through, whatever the interleaving.
    expect(outcomes).toEqual({ placed: 1, 'QUOTE_INVALID: this quote was already charged by another order': 99 });
    expect((results.find((r) => !r.errors)!.data as any).placeOrder.quote.id).toBe(quote.id);
  });

  it('counts a per-customer limit exactly under concurrency', async () => {
    await system.ok(CREATE_PROMOTION, { input: { name: 'Twice each', kind: 'PERCENT_OFF', value: '5', couponCode: 'TWICE', perCustomerLimit: 2 } }, shop.headers);
    const input = { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 1 }], couponCodes: ['TWICE'], customerId: 'customer-7' };
    const results = await Promise.all(Array.from({ length: 10 }, () => system.request(CLAIM, { input }, shop.posHeaders)));
    expect(results.filter((r) => !r.errors)).toHaveLength(2);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === 'COUPON_EXHAUSTED')).toHaveLength(8);
    const other = await system.request(CLAIM, { input: { ...input, customerId: 'customer-8' } }, shop.posHeaders);
    expect(other.errors).toBeUndefined();
  });

  it('explains refused coupons', async () => {
    await system.ok(CREATE_PROMOTION, { input: { name: 'Old', kind: 'PERCENT_OFF', value: '5', couponCode: 'OLD', startsAt: '2020-01-01T00:00:00Z', endsAt: '2020-02-01T00:00:00Z' } }, shop.headers);
    await system.ok(CREATE_PROMOTION, { input: { name: 'Big', kind: 'PERCENT_OFF', value: '5', couponCode: 'BIG', minSubtotal: '1000.00', currencyCode: 'EUR' } }, shop.headers);
    const { quote } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 1 }], couponCodes: ['nope', 'old', 'big'] } }, shop.storefrontHeaders);
    expect(quote.rejectedCoupons).toEqual([
      { code: 'BIG', reason: 'NOT_APPLICABLE' },
      { code: 'NOPE', reason: 'UNKNOWN' },
      { code: 'OLD', reason: 'NOT_ACTIVE' },
    ]);
  });

  it('a preview quote keeps its rules only until the next committed rule write, counts as they are now, and one tenant apart from another', async () => {
    const [a, b] = [await createShop(system), await createShop(system)];
    for (const s of [a, b]) {
      await addProduct(system, s, 'Cocoa', ['COC-1']);
      await system.ok(CONFIGURE, { input: { storeId: s.storeId, currencyCode: 'EUR', pricesIncludeTax: false } }, s.headers);
    }
    await setPrice(system, a, 'COC-1', '4.00');
    await setPrice(system, b, 'COC-1', '6.00');
    const quote = async (s: Shop) => {
      // As a till asks (the gateway keeps anonymous storefront answers, which would hide the service's).
      const { quote: q } = await system.ok(QUOTE, { input: { storeId: s.storeId, lines: [{ sku: 'COC-1', quantity: 2 }] } }, s.posHeaders);
      return { unit: amount(q.lines[0].unitPrice), discount: amount(q.discountTotal), tax: amount(q.taxTotal), total: amount(q.total), promotions: q.appliedPromotions.map((p: any) => p.name) };
    };
    expect(await quote(a)).toEqual({ unit: '4.00', discount: '0.00', tax: '0.00', total: '8.00', promotions: [] });
    expect(await quote(a)).toEqual({ unit: '4.00', discount: '0.00', tax: '0.00', total: '8.00', promotions: [] }); // from the kept rules
    // Each write below has committed when its mutation answers: the next quote sees it, with no wait.
    await system.ok(SET_TAX, { input: { storeId: a.storeId, name: 'Cocoa levy', rate: '10' } }, a.headers);
    expect(await quote(a)).toEqual({ unit: '4.00', discount: '0.00', tax: '0.80', total: '8.80', promotions: [] });
    const { createPriceList: list } = await system.ok(CREATE_LIST, { input: { name: 'Cocoa club', currencyCode: 'EUR', storeIds: [a.storeId] } }, a.headers);
    await okOnceKnown(system, a, SET_LIST_PRICES, { input: { priceListId: list.id, prices: [{ sku: 'COC-1', amount: '3.00' }] } });
    expect(await quote(a)).toEqual({ unit: '3.00', discount: '0.00', tax: '0.60', total: '6.60', promotions: [] });
    await okOnceKnown(system, a, SET_LIST_PRICES, { input: { priceListId: list.id, prices: [{ sku: 'COC-1', amount: '3.50' }] } });
    expect(await quote(a)).toEqual({ unit: '3.50', discount: '0.00', tax: '0.70', total: '7.70', promotions: [] });
    // 1.00 off the line: 7.00 − 1.00 = 6.00, and 10 % tax on that.
    await system.ok(CREATE_PROMOTION, { input: { name: 'Cocoa euro', kind: 'AMOUNT_OFF', value: '1.00', currencyCode: 'EUR', appliesTo: { skus: ['COC-1'] }, stackable: true } }, a.headers);
    expect(await quote(a)).toEqual({ unit: '3.50', discount: '1.00', tax: '0.60', total: '6.60', promotions: ['Cocoa euro'] });
    // An automatic promotion with a limit: a claim uses it up, and the next preview no longer applies it.
    await system.ok(CREATE_PROMOTION, { input: { name: 'First cocoa', kind: 'PERCENT_OFF', value: '10', appliesTo: { skus: ['COC-1'] }, usageLimit: 1, stackable: true, priority: 5 } }, a.headers);
    expect((await quote(a)).promotions.sort()).toEqual(['Cocoa euro', 'First cocoa']);
    await system.ok(CLAIM, { input: { storeId: a.storeId, lines: [{ sku: 'COC-1', quantity: 2 }] } }, a.posHeaders);
    expect(await quote(a)).toEqual({ unit: '3.50', discount: '1.00', tax: '0.60', total: '6.60', promotions: ['Cocoa euro'] });
    // The other tenant, same store rules shape and sku: none of the first's rules.
    expect(await quote(b)).toEqual({ unit: '6.00', discount: '0.00', tax: '0.00', total: '12.00', promotions: [] });
    expect(await quote(b)).toEqual({ unit: '6.00', discount: '0.00', tax: '0.00', total: '12.00', promotions: [] });
    expect(await quote(a)).toEqual({ unit: '3.50', discount: '1.00', tax: '0.60', total: '6.60', promotions: ['Cocoa euro'] });
  });

  it('refuses bad rules and carts with a code, writing nothing', async () => {
    const cases: [string, Record<string, unknown>, string, Record<string, string> | undefined][] = [
      [CREATE_PROMOTION, { name: 'x', kind: 'PERCENT_OFF', value: '120' }, 'BAD_USER_INPUT', undefined],
      [CREATE_PROMOTION, { name: 'x', kind: 'AMOUNT_OFF', value: '-1', currencyCode: 'EUR' }, 'BAD_USER_INPUT', undefined],
      [CREATE_PROMOTION, { name: 'x', kind: 'AMOUNT_OFF', value: '1' }, 'BAD_USER_INPUT', undefined],
      [CREATE_PROMOTION, { name: 'x', kind: 'PERCENT_OFF', value: '5', startsAt: '2030-01-02T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' }, 'BAD_USER_INPUT', undefined],
      [CREATE_PROMOTION, { name: 'x', kind: 'PERCENT_OFF', value: '5', couponCode: 'lucky10' }, 'BAD_USER_INPUT', undefined],
      [CREATE_PROMOTION, { name: 'x', kind: 'BUNDLE', value: '5.00', currencyCode: 'EUR' }, 'BAD_USER_INPUT', undefined],
      [CREATE_LIST, { name: 'x', currencyCode: 'XXQ' }, 'BAD_USER_INPUT', undefined],
      [CREATE_LIST, { name: 'Main Street again', currencyCode: 'EUR', storeIds: [shop.storeId], priority: 1 }, 'BAD_USER_INPUT', undefined],
      [SET_TAX, { storeId: shop.storeId, name: 'x', rate: '101' }, 'BAD_USER_INPUT', undefined],
      [CONFIGURE, { storeId: shop.storeId, currencyCode: 'EURO', pricesIncludeTax: false }, 'BAD_USER_INPUT', undefined],
      [QUOTE, { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 0 }] }, 'BAD_USER_INPUT', shop.storefrontHeaders],
      [QUOTE, { storeId: shop.storeId, lines: [{ sku: 'NOPE', quantity: 1 }] }, 'BAD_USER_INPUT', shop.storefrontHeaders],
      [QUOTE, { storeId: shop.storeId, lines: [{ sku: 'MUG-1', quantity: 1 }], customerGroup: 'vip' }, 'FORBIDDEN', shop.storefrontHeaders],
    ];
    const before = await system.ok(PROMOTIONS, {}, shop.headers);
    for (const [operation, input, code, headers] of cases) {
      const result = await system.request(operation, { input }, headers ?? shop.headers);
      expect({ input, code: result.errors?.[0]?.extensions?.code }).toEqual({ input, code });
    }
    expect(await system.ok(PROMOTIONS, {}, shop.headers)).toEqual(before);
  });
});

describe('a claimed quote that no order took', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    // Quotes may be charged for 5 s here (15 min by default), so their claims expire within the test.
    system = await startSupergraph({ subgraphOptions: { quoteTtlMs: 5_000 } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Kettle', ['KET-1']);
    await setPrice(system, shop, 'KET-1', '20.00');
    await receiveStock(system, shop, 'KET-1', 5);
    await system.ok(CREATE_PROMOTION, { input: { name: 'Twice', kind: 'AMOUNT_OFF', value: '5.00', currencyCode: 'EUR', couponCode: 'TWICE', usageLimit: 2 } }, shop.headers);
  });
  afterAll(() => system.stop());

  it('gives its coupon use back at expiresAt, once; the use of a quote an order took stays counted', async () => {
    const PLACE = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;
    const lines = [{ sku: 'KET-1', quantity: 1 }];
    const input = { storeId: shop.storeId, lines, couponCodes: ['TWICE'] };
    const usage = async () => (await system.ok(PROMOTIONS, {}, shop.headers)).promotions.find((p: any) => p.couponCode === 'TWICE').usageCount;
    const claim = () => system.request(CLAIM, { input }, shop.posHeaders);
    const { claimQuote: ordered } = await okOnceKnown(system, shop, CLAIM, { input });
    const { claimQuote: abandoned } = await system.ok(CLAIM, { input }, shop.posHeaders);
    expect(ordered.discountTotal.amount).toBe('5.00');
    expect(await usage()).toBe(2);
    expect((await claim()).errors?.[0]?.extensions?.code).toBe('COUPON_EXHAUSTED');
    await system.ok(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: ordered.token } }, shop.posHeaders);

    // The abandoned quote expires after the ordered one: once its use is back, both expiries have passed.
    await eventually(async () => expect(await usage()).toBe(1), 20_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(abandoned.expiresAt));
    // Past its expiresAt a quote charges nothing.
    const late = await system.request(PLACE, { input: { storeId: shop.storeId, lines, quoteToken: abandoned.token } }, shop.posHeaders);
    expect(late.errors?.map((e) => e.extensions?.code)).toEqual(['QUOTE_EXPIRED']);
    // Exactly one use is free: one more claim gets it, the next is refused.
    expect((await claim()).errors).toBeUndefined();
    expect((await claim()).errors?.[0]?.extensions?.code).toBe('COUPON_EXHAUSTED');
    expect(await usage()).toBe(2);
  });
});
