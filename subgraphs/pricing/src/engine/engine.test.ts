import { priceCart, PricingError, type PriceList, type PricingInput, type Promotion, type Quote, type TaxRate } from './engine.js';
import { allocate, divRoundHalfUp, fromMinor, toMinor } from './minor.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const PAST = new Date('2026-01-01T00:00:00Z');
const FUTURE = new Date('2027-01-01T00:00:00Z');
const S1 = 'store-1';

function cart(over: Partial<PricingInput> & { lines: PricingInput['lines'] }, digits = 2): PricingInput {
  return {
    now: NOW,
    storeId: S1,
    currencyCode: 'EUR',
    digits,
    pricesIncludeTax: false,
    channel: null,
    customerGroup: null,
    couponCodes: [],
    basePrices: new Map(),
    priceLists: [],
    promotions: [],
    taxRates: [],
    items: new Map([
      ['A', { brand: 'acme', categoryIds: ['C1'] }],
      ['B', { brand: null, categoryIds: ['C2'] }],
    ]),
    ...over,
  };
}
const base = (prices: Record<string, string>, digits = 2) => new Map(Object.entries(prices).map(([sku, a]) => [sku, toMinor(a, digits)]));
const list = (id: string, over: Partial<PriceList>, prices: [string, string, number?][]): PriceList => ({
  id,
  currencyCode: 'EUR',
  storeIds: [],
  channel: null,
  customerGroup: null,
  priority: 0,
  startsAt: null,
  endsAt: null,
  ...over,
  prices: prices.map(([sku, amount, minQuantity]) => ({ sku, amount: toMinor(amount, 2), minQuantity: minQuantity ?? 1 })),
});
let promotionIds = 0;
const promo = (over: Partial<Promotion> & Pick<Promotion, 'kind' | 'value'>): Promotion => ({
  id: over.id ?? `p${++promotionIds}`,
  name: over.name ?? over.kind,
  appliesTo: { skus: [], categoryIds: [], brands: [] },
  minQuantity: null,
  minSubtotal: null,
  couponCode: null,
  usageLimit: null,
  usageCount: 0,
  perCustomerLimit: null,
  customerUsageCount: 0,
  stackable: false,
  priority: 0,
  startsAt: null,
  endsAt: null,
  ...over,
});
const rate = (name: string, r: string, category: string | null = null): TaxRate => ({ name, rate: r, category });

/** The quote with amounts as decimal strings, for readable expectations. */
function show(q: Quote, digits = 2) {
  const m = (v: bigint) => fromMinor(v, digits);
  return {
    lines: q.lines.map((l) => ({
      sku: l.sku,
      unit: m(l.unitPrice),
      list: m(l.listPrice),
      off: l.adjustments.map((a) => `${a.label} ${m(a.amount)}`),
      tax: l.taxes.map((t) => `${t.name} ${m(t.amount)}`),
      total: m(l.total),
    })),
    subtotal: m(q.subtotal),
    discount: m(q.discountTotal),
    tax: m(q.taxTotal),
    total: m(q.total),
    rejected: q.rejectedCoupons.map((c) => `${c.code}:${c.reason}`),
  };
}

describe('minor-unit arithmetic', () => {
  it('converts and rounds half up, exactly', () => {
    expect(toMinor('12.5', 2)).toBe(1250n);
    expect(toMinor('300', 0)).toBe(300n);
    expect(toMinor('1.235', 3)).toBe(1235n);
    expect(fromMinor(5n, 2)).toBe('0.05');
    expect(fromMinor(-105n, 2)).toBe('-1.05');
    expect(fromMinor(1005n, 0)).toBe('1005');
    expect(divRoundHalfUp(5n, 2n)).toBe(3n);
    expect(divRoundHalfUp(7n, 3n)).toBe(2n);
    expect(divRoundHalfUp(-5n, 2n)).toBe(-3n);
  });

  it('allocates every unit, largest remainders first', () => {
    expect(allocate(500n, [1000n, 2000n])).toEqual([167n, 333n]);
    expect(allocate(91n, [50000n, 30000n, 20000n])).toEqual([46n, 27n, 18n]);
    expect(allocate(1n, [1n, 1n, 1n])).toEqual([1n, 0n, 0n]);
    expect(allocate(7n, [0n, 0n])).toEqual([7n, 0n]);
    expect(allocate(3n, [0n, 5n])).toEqual([0n, 3n]);
  });
});

describe('price selection', () => {
  const lists = [
    list('all', {}, [['A', '11.00']]),
    list('pos', { channel: 'pos' }, [['A', '10.50']]),
    list('vip', { customerGroup: 'vip' }, [['A', '10.00']]),
    list('store', { storeIds: [S1], priority: 5 }, [['A', '9.00']]),
  ];
  it.each([
    ['customer group beats channel, store and priority', { customerGroup: 'vip', channel: 'pos' }, '10.00', 'vip'],
    ['channel beats store', { channel: 'pos' }, '10.50', 'pos'],
    ['store beats every-store', {}, '9.00', 'store'],
    ['another group falls back to the store list', { customerGroup: 'wholesale' }, '9.00', 'store'],
  ])('%s', (_name, ctx, unit, listId) => {
    const q = priceCart(cart({ ...ctx, basePrices: base({ A: '12.00' }), priceLists: lists, lines: [{ sku: 'A', quantity: 1 }] }));
    expect(fromMinor(q.lines[0]!.unitPrice, 2)).toBe(unit);
    expect(fromMinor(q.lines[0]!.listPrice, 2)).toBe('12.00');
    expect(q.lines[0]!.priceListId).toBe(listId);
  });

  it('breaks a tie of specificity by priority, then by the lower amount', () => {
    const two = [list('x', { storeIds: [S1] }, [['A', '9.50']]), list('y', { storeIds: [S1] }, [['A', '9.25']]), list('z', { storeIds: [S1], priority: -1 }, [['A', '1.00']])];
    expect(priceCart(cart({ priceLists: two, lines: [{ sku: 'A', quantity: 1 }] })).lines[0]!.priceListId).toBe('y');
  });

  it.each([
    [1, '10.00'],
    [9, '10.00'],
    [10, '9.00'],
    [49, '9.00'],
    [50, '8.00'],
  ])('tiers: %i units cost %s each', (quantity, unit) => {
    const tiers = list('t', { storeIds: [S1] }, [['A', '10.00', 1], ['A', '9.00', 10], ['A', '8.00', 50]]);
    const q = priceCart(cart({ priceLists: [tiers], lines: [{ sku: 'A', quantity }] }));
    expect(fromMinor(q.lines[0]!.unitPrice, 2)).toBe(unit);
    expect(q.subtotal).toBe(toMinor(unit, 2) * BigInt(quantity));
  });

  it('ignores lists and prices outside their schedule, of another store or currency', () => {
    const lists2 = [
      list('later', { startsAt: FUTURE }, [['A', '1.00']]),
      list('over', { endsAt: PAST }, [['A', '2.00']]),
      list('elsewhere', { storeIds: ['store-2'] }, [['A', '3.00']]),
      list('usd', { currencyCode: 'USD' }, [['A', '4.00']]),
      { ...list('timed', {}, []), prices: [{ sku: 'A', amount: 500n, minQuantity: 1, endsAt: PAST }, { sku: 'A', amount: 700n, minQuantity: 1, startsAt: PAST, endsAt: FUTURE }] },
    ];
    const q = priceCart(cart({ basePrices: base({ A: '12.00' }), priceLists: lists2, lines: [{ sku: 'A', quantity: 1 }] }));
    expect(show(q).lines[0]!.unit).toBe('7.00');
    const atEnd = priceCart(cart({ now: FUTURE, basePrices: base({ A: '12.00' }), priceLists: lists2, lines: [{ sku: 'A', quantity: 1 }] }));
    expect(show(atEnd).lines[0]!.unit).toBe('1.00'); // `later` starts exactly then; `timed` ended (endsAt is exclusive)
  });

  it('refuses a sku without a price and a sku on two lines', () => {
    expect(() => priceCart(cart({ lines: [{ sku: 'A', quantity: 1 }] }))).toThrow(PricingError);
    expect(() => priceCart(cart({ basePrices: base({ A: '1.00' }), lines: [{ sku: 'A', quantity: 1 }, { sku: 'A', quantity: 2 }] }))).toThrow(/two lines/);
  });
});

describe('promotions, by hand-computed scenario', () => {
  const prices = base({ A: '10.00', B: '20.00', C: '3.33' });
  it.each<[string, Partial<PricingInput> & { lines: PricingInput['lines'] }, Partial<ReturnType<typeof show>>]>([
    ['percent off rounds each line half up: 15% of 9.99 is 1.4985 → 1.50', { promotions: [promo({ kind: 'PERCENT_OFF', value: '15', name: '15%' })], lines: [{ sku: 'C', quantity: 3 }] }, { subtotal: '9.99', discount: '1.50', total: '8.49' }],
    ['amount off is split by line value, every cent placed', { promotions: [promo({ kind: 'AMOUNT_OFF', value: '5.00', name: '5 off' })], lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] }, { discount: '5.00', total: '25.00', lines: [
      { sku: 'A', unit: '10.00', list: '10.00', off: ['5 off 1.67'], tax: [], total: '8.33' },
      { sku: 'B', unit: '20.00', list: '20.00', off: ['5 off 3.33'], tax: [], total: '16.67' },
    ] }],
    ['amount off never exceeds the lines', { promotions: [promo({ kind: 'AMOUNT_OFF', value: '100.00' })], lines: [{ sku: 'A', quantity: 2 }] }, { discount: '20.00', total: '0.00' }],
    ['fixed price per unit', { promotions: [promo({ kind: 'FIXED_PRICE', value: '7.00', appliesTo: { skus: ['A'], categoryIds: [], brands: [] } })], lines: [{ sku: 'A', quantity: 3 }, { sku: 'B', quantity: 1 }] }, { subtotal: '50.00', discount: '9.00', total: '41.00' }],
    ['buy 2 get 1: the cheapest unit is free', { promotions: [promo({ kind: 'BUY_X_GET_Y', value: '1', minQuantity: 2 })], lines: [{ sku: 'A', quantity: 2 }, { sku: 'C', quantity: 1 }] }, { discount: '3.33', total: '20.00' }],
    ['buy 2 get 1 on 7 units: 2 free', { promotions: [promo({ kind: 'BUY_X_GET_Y', value: '1', minQuantity: 2 })], lines: [{ sku: 'A', quantity: 7 }] }, { discount: '20.00', total: '50.00' }],
    ['buy 2 get 1 on 2 units: nothing', { promotions: [promo({ kind: 'BUY_X_GET_Y', value: '1', minQuantity: 2 })], lines: [{ sku: 'A', quantity: 2 }] }, { discount: '0.00', total: '20.00' }],
    ['bundle 3 for 25.00 over a mixed group', { promotions: [promo({ kind: 'BUNDLE', value: '25.00', minQuantity: 3, name: '3 for 25' })], lines: [{ sku: 'A', quantity: 4 }, { sku: 'B', quantity: 2 }] }, { subtotal: '80.00', discount: '30.00', total: '50.00', lines: [
      // Dearest first: [B B A] = 50.00 → 25.00 (25.00 off, split 40:10), [A A A] = 30.00 → 25.00.
      { sku: 'A', unit: '10.00', list: '10.00', off: ['3 for 25 10.00'], tax: [], total: '30.00' },
      { sku: 'B', unit: '20.00', list: '20.00', off: ['3 for 25 20.00'], tax: [], total: '20.00' },
    ] }],
    ['a brand-wide promotion touches that brand only', { promotions: [promo({ kind: 'PERCENT_OFF', value: '50', appliesTo: { skus: [], categoryIds: [], brands: ['acme'] } })], lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] }, { discount: '5.00' }],
    ['a category-wide promotion touches that category only', { promotions: [promo({ kind: 'PERCENT_OFF', value: '50', appliesTo: { skus: [], categoryIds: ['C2'], brands: [] } })], lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }] }, { discount: '10.00' }],
    ['minimum quantity not met', { promotions: [promo({ kind: 'PERCENT_OFF', value: '10', minQuantity: 3 })], lines: [{ sku: 'A', quantity: 2 }] }, { discount: '0.00' }],
    ['minimum subtotal met', { promotions: [promo({ kind: 'PERCENT_OFF', value: '10', minSubtotal: 2000n })], lines: [{ sku: 'A', quantity: 2 }] }, { discount: '2.00' }],
    ['a non-stackable promotion locks its lines; a stackable one takes the rest', { promotions: [
      promo({ kind: 'PERCENT_OFF', value: '10', priority: 10, appliesTo: { skus: ['A'], categoryIds: [], brands: [] } }),
      promo({ kind: 'PERCENT_OFF', value: '5', priority: 5, stackable: true }),
    ], lines: [{ sku: 'A', quantity: 10 }, { sku: 'B', quantity: 1 }] }, { discount: '11.00', total: '109.00' }],
    ['stackable promotions compound in priority order', { promotions: [
      promo({ kind: 'PERCENT_OFF', value: '10', priority: 10, stackable: true }),
      promo({ kind: 'PERCENT_OFF', value: '5', priority: 5, stackable: true }),
    ], lines: [{ sku: 'A', quantity: 10 }] }, { discount: '14.50', total: '85.50' }],
    ['a non-stackable promotion skips lines already discounted', { promotions: [
      promo({ kind: 'PERCENT_OFF', value: '10', priority: 10, stackable: true }),
      promo({ kind: 'PERCENT_OFF', value: '50', priority: 5 }),
    ], lines: [{ sku: 'A', quantity: 1 }] }, { discount: '1.00' }],
    ['a scheduled promotion outside its window does nothing', { promotions: [promo({ kind: 'PERCENT_OFF', value: '10', startsAt: FUTURE }), promo({ kind: 'PERCENT_OFF', value: '10', endsAt: NOW })], lines: [{ sku: 'A', quantity: 1 }] }, { discount: '0.00' }],
  ])('%s', (_name, over, expected) => {
    expect(show(priceCart(cart({ basePrices: prices, ...over })))).toMatchObject(expected);
  });
});

describe('coupons', () => {
  const prices = base({ A: '10.00' });
  const coupon = (code: string, over: Partial<Promotion> = {}) => promo({ kind: 'PERCENT_OFF', value: '10', couponCode: code, ...over });
  it('applies a known code in any case, and says why each other code is refused', () => {
    const q = priceCart(
      cart({
        basePrices: prices,
        couponCodes: [' save10 ', 'NOPE', 'OLD', 'GONE', 'MINE', 'BIG', 'SAVE10'],
        promotions: [
          coupon('SAVE10', { name: 'Save 10' }),
          coupon('OLD', { endsAt: PAST }),
          coupon('GONE', { usageLimit: 10, usageCount: 10 }),
          coupon('MINE', { perCustomerLimit: 1, customerUsageCount: 1 }),
          coupon('BIG', { minSubtotal: 100_00n }),
          coupon('UNSENT', {}),
        ],
        lines: [{ sku: 'A', quantity: 1 }],
      }),
    );
    expect(q.appliedPromotions.map((p) => p.couponCode)).toEqual(['SAVE10']);
    expect(show(q).rejected).toEqual(['BIG:NOT_APPLICABLE', 'GONE:EXHAUSTED', 'MINE:CUSTOMER_LIMIT_REACHED', 'NOPE:UNKNOWN', 'OLD:NOT_ACTIVE']);
    expect(show(q).total).toBe('9.00');
  });

  it('a second non-stackable coupon on the same lines is refused as not combinable', () => {
    const q = priceCart(cart({ basePrices: prices, couponCodes: ['X', 'Y'], promotions: [coupon('X', { priority: 2 }), coupon('Y', { priority: 1 })], lines: [{ sku: 'A', quantity: 1 }] }));
    expect(show(q).rejected).toEqual(['Y:NOT_COMBINABLE']);
  });
});

describe('tax', () => {
  it.each<[string, Partial<PricingInput> & { lines: PricingInput['lines'] }, number, Partial<ReturnType<typeof show>>]>([
    ['exclusive, EUR: 20% of 19.99 = 3.998 → 4.00', { basePrices: base({ A: '19.99' }), taxRates: [rate('VAT', '20')], lines: [{ sku: 'A', quantity: 1 }] }, 2, { tax: '4.00', total: '23.99' }],
    ['inclusive, EUR: 119.00 at 19% holds 19.00', { pricesIncludeTax: true, basePrices: base({ A: '119.00' }), taxRates: [rate('MwSt', '19')], lines: [{ sku: 'A', quantity: 1 }] }, 2, { tax: '19.00', total: '119.00' }],
    ['JPY has no minor unit: 10% off 1005 = 100.5 → 101, 8% of 904 = 72.32 → 72', {
      currencyCode: 'JPY', basePrices: base({ A: '1005' }, 0), promotions: [promo({ kind: 'PERCENT_OFF', value: '10' })], taxRates: [rate('consumption', '8')], lines: [{ sku: 'A', quantity: 1 }],
    }, 0, { subtotal: '1005', discount: '101', tax: '72', total: '976' }],
    ['KWD has three: 5% of 1.235 = 0.06175 → 0.062', { currencyCode: 'KWD', basePrices: base({ A: '1.235' }, 3), taxRates: [rate('VAT', '5')], lines: [{ sku: 'A', quantity: 1 }] }, 3, { tax: '0.062', total: '1.297' }],
    ['three rates, exclusive: state 6.25 + county 1 + city 2.375 on 100.00', {
      basePrices: base({ A: '100.00' }), taxRates: [rate('1 state', '6.25'), rate('2 county', '1'), rate('3 city', '2.375')], lines: [{ sku: 'A', quantity: 1 }],
    }, 2, { tax: '9.63', total: '109.63', lines: [{ sku: 'A', unit: '100.00', list: '100.00', off: [], tax: ['1 state 6.25', '2 county 1.00', '3 city 2.38'], total: '109.63' }] }],
    ['three rates, inclusive: 10.00 at 5 + 3 + 2 holds 0.91, split 0.46 / 0.27 / 0.18', {
      pricesIncludeTax: true, basePrices: base({ A: '10.00' }), taxRates: [rate('a', '5'), rate('b', '3'), rate('c', '2')], lines: [{ sku: 'A', quantity: 1 }],
    }, 2, { tax: '0.91', total: '10.00', lines: [{ sku: 'A', unit: '10.00', list: '10.00', off: [], tax: ['a 0.46', 'b 0.27', 'c 0.18'], total: '10.00' }] }],
    ['a category rate taxes its category only, after the discount', {
      basePrices: base({ A: '10.00', B: '20.00' }), promotions: [promo({ kind: 'AMOUNT_OFF', value: '3.00' })], taxRates: [rate('food', '10', 'C2')], lines: [{ sku: 'A', quantity: 1 }, { sku: 'B', quantity: 1 }],
    }, 2, { discount: '3.00', tax: '1.80', total: '28.80' }],
  ])('%s', (_name, over, digits, expected) => {
    expect(show(priceCart(cart(over, digits)), digits)).toMatchObject(expected);
  });
});

describe('properties over random carts', () => {
  // A small deterministic generator (mulberry32), so a failure replays.
  function rng(seed: number) {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const kinds = ['PERCENT_OFF', 'AMOUNT_OFF', 'FIXED_PRICE', 'BUY_X_GET_Y', 'BUNDLE'] as const;

  it('totals are the sum of lines, discounts never exceed prices, the same input gives the same quote', () => {
    let fromLists = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const int = (n: number) => Math.floor(r() * n);
      const digits = [0, 2, 3][int(3)]!;
      const skus = Array.from({ length: 1 + int(8) }, (_, i) => `S${i}`);
      const basePrices = new Map(skus.map((s) => [s, BigInt(int(100_000))]));
      const promotions = Array.from({ length: int(8) }, (_, i) =>
        promo({
          id: `r${i}`,
          kind: kinds[int(5)]!,
          value: String(1 + int(100)),
          minQuantity: 1 + int(4),
          appliesTo: { skus: r() < 0.5 ? [] : [skus[int(skus.length)]!], categoryIds: [], brands: [] },
          stackable: r() < 0.5,
          priority: int(3),
          couponCode: r() < 0.2 ? `C${i}` : null,
        }),
      );
      const input = cart(
        {
          currencyCode: 'XTS',
          pricesIncludeTax: r() < 0.5,
          basePrices,
          promotions,
          couponCodes: promotions.filter((p) => p.couponCode && r() < 0.7).map((p) => p.couponCode!),
          taxRates: Array.from({ length: int(4) }, (_, i) => rate(`t${i}`, `${int(25)}.${int(1000)}`)),
          // Price lists with quantity tiers, for every store or this one, so selection is in play too.
          priceLists: Array.from({ length: int(4) }, (_, i) => ({
            ...list(`l${i}`, { currencyCode: 'XTS', storeIds: r() < 0.5 ? [S1] : [], priority: int(3) }, []),
            prices: skus.filter(() => r() < 0.6).flatMap((sku) => [
              { sku, amount: BigInt(int(100_000)), minQuantity: 1 },
              ...(r() < 0.5 ? [{ sku, amount: BigInt(int(100_000)), minQuantity: 2 + int(10) }] : []),
            ]),
          })),
          lines: skus.map((sku) => ({ sku, quantity: 1 + int(r() < 0.1 ? 1_000_000 : 12) })),
        },
        digits,
      );
      const q = priceCart(input);
      const sum = (f: (l: Quote['lines'][number]) => bigint) => q.lines.reduce((a, l) => a + f(l), 0n);
      expect([q.subtotal, q.discountTotal, q.taxTotal, q.total]).toEqual([sum((l) => l.subtotal), sum((l) => l.discountTotal), sum((l) => l.taxTotal), sum((l) => l.total)]);
      for (const line of q.lines) {
        expect(line.subtotal).toBe(line.unitPrice * BigInt(line.quantity));
        if (line.priceListId !== null) fromLists++;
        expect(line.discountTotal).toBe(line.adjustments.reduce((a, x) => a + x.amount, 0n));
        expect(line.discountTotal >= 0n && line.discountTotal <= line.subtotal).toBe(true);
        expect(line.adjustments.every((a) => a.amount > 0n)).toBe(true);
        expect(line.taxTotal).toBe(line.taxes.reduce((a, t) => a + t.amount, 0n));
        expect(line.total).toBe(line.subtotal - line.discountTotal + (q.pricesIncludeTax ? 0n : line.taxTotal));
        if (q.pricesIncludeTax) expect(line.taxTotal <= line.total).toBe(true);
      }
      const shuffled = { ...input, promotions: [...promotions].reverse(), taxRates: [...input.taxRates].reverse(), priceLists: [...input.priceLists].reverse() };
      expect(priceCart(shuffled)).toEqual(q);
    }
    expect(fromLists).toBeGreaterThan(100); // the lists were in play, not only the base prices
  });
});
