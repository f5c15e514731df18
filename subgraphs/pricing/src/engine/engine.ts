/**
 * The pricing engine: a pure function from a cart and the merchant's pricing rules (price lists,
 * promotions, tax rates) to a quote that explains every amount. No I/O, no clock (the caller
 * passes `now`), no floats: every amount is BigInt minor units, every rate an integer scaled by
 * 10^4. The same input always yields the same quote. The rules are documented in
 * docs/pricing.md; the figures and choices in docs/decisions/0019-pricing-engine.md.
 */
import { allocate, divRoundHalfUp, maxBig, minBig, toScaled } from './minor.js';

export type PromotionKind = 'PERCENT_OFF' | 'AMOUNT_OFF' | 'FIXED_PRICE' | 'BUY_X_GET_Y' | 'BUNDLE';
export type CouponRejection = 'UNKNOWN' | 'NOT_ACTIVE' | 'EXHAUSTED' | 'CUSTOMER_LIMIT_REACHED' | 'NOT_APPLICABLE' | 'NOT_COMBINABLE';

/** A window [startsAt, endsAt): null ends are open. */
export interface Window {
  startsAt: Date | null;
  endsAt: Date | null;
}

export interface ListPrice extends Partial<Window> {
  sku: string;
  amount: bigint;
  /** The price applies from this many units of the sku on a line (tiers); at least 1. */
  minQuantity: number;
}

export interface PriceList extends Window {
  id: string;
  currencyCode: string;
  /** Empty: every store. */
  storeIds: readonly string[];
  channel: string | null;
  customerGroup: string | null;
  priority: number;
  prices: readonly ListPrice[];
}

export interface Promotion extends Window {
  id: string;
  name: string;
  kind: PromotionKind;
  /**
   * PERCENT_OFF: percent (0 < v ≤ 100, up to 4 decimals); AMOUNT_OFF: amount off the matching
   * lines together; FIXED_PRICE: the price of each matching unit; BUY_X_GET_Y: Y, the units free
   * per `minQuantity` (X) bought; BUNDLE: the amount `minQuantity` units cost together.
   */
  value: string;
  appliesTo: { skus: readonly string[]; categoryIds: readonly string[]; brands: readonly string[] };
  minQuantity: number | null;
  minSubtotal: bigint | null;
  /** Upper case; null: automatic. */
  couponCode: string | null;
  usageLimit: number | null;
  /** Orders that used it so far. */
  usageCount: number;
  perCustomerLimit: number | null;
  /** Orders of this customer that used it so far. */
  customerUsageCount: number;
  stackable: boolean;
  priority: number;
}

export interface TaxRate {
  name: string;
  /** Percent with up to 4 decimals, e.g. "8.875". */
  rate: string;
  /** A catalog category id: the rate applies to its skus only; null: to every line. */
  category: string | null;
}

export interface ItemFacts {
  brand: string | null;
  categoryIds: readonly string[];
}

export interface PricingInput {
  now: Date;
  storeId: string;
  currencyCode: string;
  /** The currency's minor units (JPY 0, EUR 2, KWD 3). */
  digits: number;
  pricesIncludeTax: boolean;
  channel: string | null;
  customerGroup: string | null;
  lines: readonly { sku: string; quantity: number }[];
  couponCodes: readonly string[];
  /** The store's own price per sku (the fallback, and `listPrice`). */
  basePrices: ReadonlyMap<string, bigint>;
  priceLists: readonly PriceList[];
  promotions: readonly Promotion[];
  taxRates: readonly TaxRate[];
  items: ReadonlyMap<string, ItemFacts>;
}

export interface QuoteLine {
  sku: string;
  quantity: number;
  /** The store's base price of one unit (the selected price when there is none). */
  listPrice: bigint;
  /** The price of one unit after price lists and tiers, before promotions. */
  unitPrice: bigint;
  priceListId: string | null;
  adjustments: { promotionId: string; label: string; amount: bigint }[];
  taxes: { name: string; rate: string; amount: bigint }[];
  /** unitPrice × quantity. */
  subtotal: bigint;
  discountTotal: bigint;
  taxTotal: bigint;
  /** subtotal − discounts (+ taxes when prices exclude tax). */
  total: bigint;
}

export interface Quote {
  currencyCode: string;
  pricesIncludeTax: boolean;
  lines: QuoteLine[];
  subtotal: bigint;
  discountTotal: bigint;
  taxTotal: bigint;
  total: bigint;
  appliedPromotions: { id: string; name: string; couponCode: string | null }[];
  rejectedCoupons: { code: string; reason: CouponRejection }[];
}

/** A cart the engine cannot price; the service answers it with BAD_USER_INPUT. */
export class PricingError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

export const isActive = (w: Partial<Window>, now: Date) => (!w.startsAt || w.startsAt <= now) && (!w.endsAt || now < w.endsAt);

/** How specific a list is: customer group > channel > store > every store. The store's own price is −1. */
export const specificity = (list: Pick<PriceList, 'customerGroup' | 'channel' | 'storeIds'>) =>
  list.customerGroup !== null ? 3 : list.channel !== null ? 2 : list.storeIds.length > 0 ? 1 : 0;

interface Candidate {
  amount: bigint;
  rank: number;
  priority: number;
  listId: string | null;
}

const better = (a: Candidate, b: Candidate) =>
  a.rank !== b.rank ? a.rank > b.rank : a.priority !== b.priority ? a.priority > b.priority : a.amount !== b.amount ? a.amount < b.amount : (a.listId ?? '') < (b.listId ?? '');

/**
 * The unit price of `quantity` of `sku`: among the active lists that match the store, channel,
 * customer group and currency, the most specific wins, then the higher priority, then the lower
 * amount (then the smaller list id, so the choice is total). Within a list, the tier with the
 * largest `minQuantity` not above the quantity. The store's own price is the last resort.
 */
export function selectPrice(input: PricingInput, sku: string, quantity: number): Candidate | null {
  let best: Candidate | null = null;
  const base = input.basePrices.get(sku);
  if (base !== undefined) best = { amount: base, rank: -1, priority: 0, listId: null };
  for (const list of input.priceLists) {
    if (list.currencyCode !== input.currencyCode || !isActive(list, input.now)) continue;
    if (list.storeIds.length > 0 && !list.storeIds.includes(input.storeId)) continue;
    if (list.channel !== null && list.channel !== input.channel) continue;
    if (list.customerGroup !== null && list.customerGroup !== input.customerGroup) continue;
    let tier: ListPrice | null = null;
    for (const price of list.prices) {
      if (price.sku !== sku || price.minQuantity > quantity || !isActive(price, input.now)) continue;
      if (!tier || price.minQuantity > tier.minQuantity || (price.minQuantity === tier.minQuantity && price.amount < tier.amount)) tier = price;
    }
    if (!tier) continue;
    const candidate = { amount: tier.amount, rank: specificity(list), priority: list.priority, listId: list.id };
    if (!best || better(candidate, best)) best = candidate;
  }
  return best;
}

interface LineState {
  index: number;
  sku: string;
  quantity: number;
  unitPrice: bigint;
  remaining: bigint;
  locked: boolean;
  line: QuoteLine;
  facts: ItemFacts;
}

const matches = (promotion: Promotion, line: LineState) => {
  const { skus, categoryIds, brands } = promotion.appliesTo;
  if (skus.length === 0 && categoryIds.length === 0 && brands.length === 0) return true;
  return skus.includes(line.sku) || (line.facts.brand !== null && brands.includes(line.facts.brand)) || line.facts.categoryIds.some((c) => categoryIds.includes(c));
};

/** The discount of each eligible line (same order), before capping at what is left of it. */
function discounts(promotion: Promotion, eligible: LineState[], digits: number): bigint[] {
  switch (promotion.kind) {
    case 'PERCENT_OFF': {
      const percent = toScaled(promotion.value, 4);
      return eligible.map((l) => divRoundHalfUp(l.remaining * percent, 100n * 10_000n));
    }
    case 'AMOUNT_OFF': {
      const left = eligible.reduce((a, l) => a + l.remaining, 0n);
      return allocate(minBig(toScaled(promotion.value, digits), left), eligible.map((l) => l.remaining));
    }
    case 'FIXED_PRICE': {
      const each = toScaled(promotion.value, digits);
      return eligible.map((l) => maxBig(0n, l.remaining - each * BigInt(l.quantity)));
    }
    case 'BUY_X_GET_Y':
    case 'BUNDLE': {
      // Units of the matching lines, dearest first (then in line order), as runs of equal units so
      // a quantity of a million costs no more than one: BUY_X_GET_Y gives the cheapest Y of every
      // X + Y free; BUNDLE prices every full group of n units, dearest first, at the bundle price.
      const runs = eligible.map((l, i) => ({ i, price: l.unitPrice, count: l.quantity }));
      runs.sort((a, b) => (a.price === b.price ? a.i - b.i : a.price > b.price ? -1 : 1));
      const out = eligible.map(() => 0n);
      const units = runs.reduce((a, r) => a + r.count, 0);
      const x = promotion.minQuantity ?? 1;
      if (promotion.kind === 'BUY_X_GET_Y') {
        let free = Math.floor(units / (x + Number(promotion.value))) * Number(promotion.value);
        for (let k = runs.length - 1; k >= 0 && free > 0; k--) {
          const take = Math.min(free, runs[k]!.count);
          out[runs[k]!.i]! += runs[k]!.price * BigInt(take);
          free -= take;
        }
        return out;
      }
      const bundlePrice = toScaled(promotion.value, digits);
      let group: { i: number; price: bigint; count: number }[] = [];
      let inGroup = 0;
      for (const run of runs) {
        let left = run.count;
        while (left > 0) {
          if (inGroup === 0 && left >= x) {
            // Whole groups inside one run are alike: priced together.
            const whole = Math.floor(left / x);
            const saving = run.price * BigInt(x) - bundlePrice;
            if (saving > 0n) out[run.i]! += saving * BigInt(whole);
            left -= whole * x;
            continue;
          }
          const take = Math.min(left, x - inGroup);
          group.push({ i: run.i, price: run.price, count: take });
          inGroup += take;
          left -= take;
          if (inGroup === x) {
            const weights = group.map((g) => g.price * BigInt(g.count));
            const sum = weights.reduce((a, b) => a + b, 0n);
            if (sum > bundlePrice) allocate(sum - bundlePrice, weights).forEach((share, k) => (out[group[k]!.i]! += share));
            group = [];
            inGroup = 0;
          }
        }
      }
      return out;
    }
  }
}

/** Tax of one line: per rate, half up, on the line after its discounts. */
function taxLine(line: LineState, rates: readonly TaxRate[], includeTax: boolean) {
  const matching = rates.filter((r) => r.category === null || line.facts.categoryIds.includes(r.category)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (matching.length === 0) return [];
  const scaled = matching.map((r) => toScaled(r.rate, 4)); // percent × 10^4: a fraction × 10^6
  const net = line.remaining;
  let amounts: bigint[];
  if (includeTax) {
    const sum = scaled.reduce((a, b) => a + b, 0n);
    const exTax = divRoundHalfUp(net * 1_000_000n, 1_000_000n + sum);
    amounts = allocate(net - exTax, scaled);
  } else {
    amounts = scaled.map((r) => divRoundHalfUp(net * r, 1_000_000n));
  }
  return matching.map((r, i) => ({ name: r.name, rate: r.rate, amount: amounts[i]! }));
}

export function normaliseCoupon(code: string): string {
  return code.trim().toUpperCase();
}

/** Prices a cart. Throws PricingError for a cart it cannot price (an unpriced sku, a repeated sku). */
export function priceCart(input: PricingInput): Quote {
  const seen = new Set<string>();
  const states: LineState[] = input.lines.map((l, index) => {
    if (seen.has(l.sku)) throw new PricingError(`${l.sku} appears on two lines; put the quantities on one`, 'lines.sku');
    seen.add(l.sku);
    if (!Number.isSafeInteger(l.quantity) || l.quantity < 1) throw new PricingError(`quantity of ${l.sku} must be a positive integer`, 'lines.quantity');
    const selected = selectPrice(input, l.sku, l.quantity);
    if (!selected) throw new PricingError(`${l.sku} has no ${input.currencyCode} price in store ${input.storeId}`, 'lines.sku');
    const subtotal = selected.amount * BigInt(l.quantity);
    const line: QuoteLine = {
      sku: l.sku,
      quantity: l.quantity,
      listPrice: input.basePrices.get(l.sku) ?? selected.amount,
      unitPrice: selected.amount,
      priceListId: selected.listId,
      adjustments: [],
      taxes: [],
      subtotal,
      discountTotal: 0n,
      taxTotal: 0n,
      total: 0n,
    };
    return { index, sku: l.sku, quantity: l.quantity, unitPrice: selected.amount, remaining: subtotal, locked: false, line, facts: input.items.get(l.sku) ?? { brand: null, categoryIds: [] } };
  });

  const codes = [...new Set(input.couponCodes.map(normaliseCoupon))];
  const rejected = new Map<string, CouponRejection>();
  const byCode = new Map<string, Promotion>();
  for (const p of input.promotions) if (p.couponCode) byCode.set(p.couponCode, p);
  for (const code of codes) if (!byCode.has(code)) rejected.set(code, 'UNKNOWN');

  const applied: Quote['appliedPromotions'] = [];
  const ordered = [...input.promotions].sort((a, b) => (a.priority !== b.priority ? b.priority - a.priority : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const promotion of ordered) {
    const code = promotion.couponCode;
    if (code !== null && !codes.includes(code)) continue;
    const reject = (reason: CouponRejection) => {
      if (code !== null) rejected.set(code, reason);
    };
    if (!isActive(promotion, input.now)) {
      reject('NOT_ACTIVE');
      continue;
    }
    if (promotion.usageLimit !== null && promotion.usageCount >= promotion.usageLimit) {
      reject('EXHAUSTED');
      continue;
    }
    if (promotion.perCustomerLimit !== null && promotion.customerUsageCount >= promotion.perCustomerLimit) {
      reject('CUSTOMER_LIMIT_REACHED');
      continue;
    }
    // Conditions are on the matching lines of the cart; the discount on those still open to it.
    const matching = states.filter((s) => matches(promotion, s));
    const quantity = matching.reduce((a, s) => a + s.quantity, 0);
    const subtotal = matching.reduce((a, s) => a + s.line.subtotal, 0n);
    const grouped = promotion.kind === 'BUY_X_GET_Y' || promotion.kind === 'BUNDLE';
    if (matching.length === 0 || (!grouped && promotion.minQuantity !== null && quantity < promotion.minQuantity) || (promotion.minSubtotal !== null && subtotal < promotion.minSubtotal)) {
      reject('NOT_APPLICABLE');
      continue;
    }
    const eligible = matching.filter((s) => !s.locked && (promotion.stackable || s.line.adjustments.length === 0));
    if (eligible.length === 0) {
      reject('NOT_COMBINABLE');
      continue;
    }
    const amounts = discounts(promotion, eligible, input.digits).map((d, i) => minBig(maxBig(d, 0n), eligible[i]!.remaining));
    if (amounts.every((d) => d === 0n)) {
      reject('NOT_APPLICABLE');
      continue;
    }
    eligible.forEach((s, i) => {
      const amount = amounts[i]!;
      if (amount === 0n) return;
      s.remaining -= amount;
      s.line.adjustments.push({ promotionId: promotion.id, label: promotion.name, amount });
      if (!promotion.stackable) s.locked = true;
    });
    applied.push({ id: promotion.id, name: promotion.name, couponCode: code });
  }

  for (const s of states) {
    const line = s.line;
    line.discountTotal = line.subtotal - s.remaining;
    line.taxes = taxLine(s, input.taxRates, input.pricesIncludeTax);
    line.taxTotal = line.taxes.reduce((a, t) => a + t.amount, 0n);
    line.total = s.remaining + (input.pricesIncludeTax ? 0n : line.taxTotal);
  }
  const lines = states.map((s) => s.line);
  const sum = (f: (l: QuoteLine) => bigint) => lines.reduce((a, l) => a + f(l), 0n);
  return {
    currencyCode: input.currencyCode,
    pricesIncludeTax: input.pricesIncludeTax,
    lines,
    subtotal: sum((l) => l.subtotal),
    discountTotal: sum((l) => l.discountTotal),
    taxTotal: sum((l) => l.taxTotal),
    total: sum((l) => l.total),
    appliedPromotions: applied,
    rejectedCoupons: [...rejected].map(([code, reason]) => ({ code, reason })).sort((a, b) => (a.code < b.code ? -1 : 1)),
  };
}
