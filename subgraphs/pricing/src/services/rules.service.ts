import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { readInOneRoundTrip, updatedRows } from '../../../../lib/db/data-source.js';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { appError, badInput, notFound } from '../../../../lib/errors.js';
import { isUuid, requireTenant } from '../../../../lib/graphql/context.js';
import { toGlobalId } from '../../../../lib/graphql/global-id.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { knownStores } from '../../../../lib/events/read-model.js';
import { fitsStoredAmount, minorUnits, parseMoney } from '../../../../lib/money.js';
import { signQuote, type SignedQuote } from '../../../../lib/pricing/quote-token.js';
import { normaliseCoupon, priceCart, PricingError, type PriceList, type PricingInput, type Promotion, type PromotionKind, type Quote, type TaxRate } from '../engine/engine.js';
import { fromMinor, toMinor } from '../engine/minor.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import type { PricingRulesChanged } from '../../../../lib/events/contracts/pricing.js';
import { applicableLists, type PriceListRow, type StoreRulesCache, type StoreRulesLoader } from './store-rules.js';
import type { QuoteRulesCache } from './quote-rules.js';

const emit = outboxOf('pricing');

/** How long a quote may be charged after it was made. */
export const QUOTE_TTL_MS = 15 * 60_000;
/** Bounds the service checks itself (docs/limits.md). */
export const RULE_LIMITS = { maxPriority: 1_000_000, maxBuyGetUnits: 1_000, maxUses: 1_000_000_000, couponCode: /^[A-Z0-9][A-Z0-9_-]{0,63}$/ } as const;

const KINDS: readonly PromotionKind[] = ['PERCENT_OFF', 'AMOUNT_OFF', 'FIXED_PRICE', 'BUY_X_GET_Y', 'BUNDLE'];
const PERCENT = /^(0|[1-9]\d{0,2})(\.\d{1,4})?$/;

export interface QuoteInput {
  storeId: string;
  lines: readonly { sku: string; quantity: number }[];
  couponCodes?: readonly string[] | null;
  customerGroup?: string | null;
  channel?: string | null;
  customerId?: string | null;
  /** claimQuote only: price without an exhausted coupon instead of refusing the quote. */
  dropExhaustedCoupons?: boolean | null;
}

export interface QuoteResult {
  quote: Quote;
  digits: number;
  id: string;
  token: string;
  expiresAt: Date;
}

function instant(text: string | null | undefined, field: string): Date | null {
  if (text === null || text === undefined) return null;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(date.getTime())) throw badInput(`${field} is not an ISO 8601 date-time`, field);
  return date;
}

function window(input: { startsAt?: string | null; endsAt?: string | null }, prefix = '') {
  const startsAt = instant(input.startsAt, `${prefix}startsAt`);
  const endsAt = instant(input.endsAt, `${prefix}endsAt`);
  if (startsAt && endsAt && endsAt <= startsAt) throw badInput('endsAt must be after startsAt', `${prefix}endsAt`);
  return { startsAt, endsAt };
}

function percent(text: string, field: string): string {
  const value = text.trim();
  if (!PERCENT.test(value) || Number(value) > 100) throw badInput(`${field} must be a percentage from 0 to 100 with at most 4 decimals`, field);
  return value;
}

function intIn(value: number | null | undefined, field: string, min: number, max: number): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < min || value > max) throw badInput(`${field} must be between ${min} and ${max}`, field);
  return value;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const q = (m: EntityManager, table: string) => `"${m.connection.driver.schema}"."${table}"`;

/** Price lists, promotions, coupons, tax rates and quotes: the rules the engine applies. */
export class PricingRulesService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    private readonly secret: string,
    private readonly clock: () => Date = () => new Date(),
    /** How long a quote may be charged; its claimed uses come back after that (quote-expiry.ts). */
    private readonly quoteTtlMs = QUOTE_TTL_MS,
    /** The shown prices' store rules, cleared by every rule write here. */
    private readonly storeRules?: StoreRulesCache,
    /** The rules preview quotes keep between quotes (quote-rules.ts); without it every quote reads them all. */
    private readonly quoteRules?: QuoteRulesCache,
  ) {
    super(dataSource, afterCommit);
  }

  /** A rule write: its `pricing.rules.changed` is published once the transaction commits. */
  private async ruleTx<T>(ctx: SubgraphContext, work: (m: EntityManager, tenantId: string) => Promise<T>): Promise<T> {
    let written: string | undefined;
    const result = await this.tx(ctx, (m, tenantId) => {
      written = tenantId;
      return work(m, tenantId);
    });
    // Committed: the shown prices read this tenant's rules again.
    if (written) this.storeRules?.invalidate(written);
    await this.afterCommit();
    return result;
  }

  configureStorePricing(ctx: SubgraphContext, input: { storeId: string; currencyCode: string; pricesIncludeTax: boolean }) {
    const { currencyCode } = parseMoney('0', input.currencyCode);
    return this.ruleTx(ctx, async (m, tenantId) => {
      await requireStores(m, tenantId, [input.storeId]);
      await m.query(
        `INSERT INTO ${q(m, 'store_pricing')} (tenant_id, store_id, currency_code, prices_include_tax) VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, store_id) DO UPDATE SET currency_code = EXCLUDED.currency_code, prices_include_tax = EXCLUDED.prices_include_tax`,
        [tenantId, input.storeId, currencyCode, input.pricesIncludeTax],
      );
      await rulesChanged(m, tenantId, 'STORE_PRICING', input.storeId, [input.storeId]);
      return { storeId: input.storeId, currencyCode, pricesIncludeTax: input.pricesIncludeTax };
    });
  }

  createPriceList(
    ctx: SubgraphContext,
    input: { name: string; currencyCode: string; storeIds?: readonly string[] | null; channel?: string | null; customerGroup?: string | null; priority?: number | null; startsAt?: string | null; endsAt?: string | null },
  ) {
    const { currencyCode } = parseMoney('0', input.currencyCode);
    const { startsAt, endsAt } = window(input);
    const priority = intIn(input.priority ?? 0, 'priority', -RULE_LIMITS.maxPriority, RULE_LIMITS.maxPriority)!;
    const storeIds = [...new Set(input.storeIds ?? [])].sort();
    if (!input.name.trim()) throw badInput('name must not be blank', 'name');
    return this.ruleTx(ctx, async (m, tenantId) => {
      await requireStores(m, tenantId, storeIds);
      // Two lists that could both be the most specific for one cart with the same priority make
      // the choice depend on amounts alone: refused, so a merchant's intent is never a tie.
      const clash: { name: string }[] = await m.query(
        `SELECT name FROM ${q(m, 'price_list')}
          WHERE tenant_id = $1 AND currency_code = $2 AND priority = $3
            AND channel IS NOT DISTINCT FROM $4 AND customer_group IS NOT DISTINCT FROM $5
            AND (cardinality(store_ids) = 0) = ($6::uuid[] = '{}') AND (cardinality(store_ids) = 0 OR store_ids && $6::uuid[])
            AND (starts_at IS NULL OR $8::timestamptz IS NULL OR starts_at < $8) AND (ends_at IS NULL OR $7::timestamptz IS NULL OR ends_at > $7)
          LIMIT 1`,
        [tenantId, currencyCode, priority, input.channel ?? null, input.customerGroup ?? null, storeIds, startsAt, endsAt],
      );
      if (clash.length) throw badInput(`price list "${clash[0]!.name}" applies to the same carts at the same time with the same priority; give one another priority`, 'priority');
      const id = randomUUID();
      await m.query(
        `INSERT INTO ${q(m, 'price_list')} (tenant_id, id, name, currency_code, store_ids, channel, customer_group, priority, starts_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [tenantId, id, input.name.trim(), currencyCode, storeIds, input.channel ?? null, input.customerGroup ?? null, priority, startsAt, endsAt],
      );
      await addBoundaries(m, tenantId, id, [startsAt, endsAt], this.clock());
      await rulesChanged(m, tenantId, 'PRICE_LIST', id, storeIds);
      return (await this.priceListIn(m, tenantId, id))!;
    });
  }

  setPriceListPrices(
    ctx: SubgraphContext,
    input: { priceListId: string; prices: readonly { sku: string; amount: string; minQuantity?: number | null; startsAt?: string | null; endsAt?: string | null }[] },
  ) {
    return this.ruleTx(ctx, async (m, tenantId) => {
      const list = isUuid(input.priceListId) ? await this.priceListIn(m, tenantId, input.priceListId) : null;
      if (!list) throw notFound(`no price list ${input.priceListId}`);
      const rows = input.prices.map((p, i) => ({
        sku: p.sku,
        amount: parseMoney(p.amount, list.currencyCode).amount,
        minQuantity: intIn(p.minQuantity ?? 1, `prices[${i}].minQuantity`, 1, 1_000_000)!,
        ...window(p, `prices[${i}].`),
      }));
      const keys = new Set(rows.map((r) => `${r.sku}\n${r.minQuantity}`));
      if (keys.size !== rows.length) throw badInput('a sku and minQuantity appear twice', 'prices');
      const skus = [...new Set(rows.map((r) => r.sku))];
      const known: { sku: string }[] = await m.query(`SELECT sku FROM ${q(m, 'known_variant')} WHERE tenant_id = $1 AND sku = ANY($2)`, [tenantId, skus]);
      const missing = skus.find((s) => !known.some((k) => k.sku === s));
      if (missing) throw notFound(`no variant with sku ${missing}`);
      await m.query(
        `INSERT INTO ${q(m, 'price_list_price')} (tenant_id, price_list_id, sku, min_quantity, amount, starts_at, ends_at)
         SELECT $1, $2, * FROM unnest($3::text[], $4::int[], $5::numeric[], $6::timestamptz[], $7::timestamptz[])
         ON CONFLICT (tenant_id, price_list_id, sku, min_quantity) DO UPDATE SET amount = EXCLUDED.amount, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at`,
        [tenantId, list.id, rows.map((r) => r.sku), rows.map((r) => r.minQuantity), rows.map((r) => r.amount), rows.map((r) => r.startsAt), rows.map((r) => r.endsAt)],
      );
      await addBoundaries(m, tenantId, list.id, rows.flatMap((r) => [r.startsAt, r.endsAt]), this.clock());
      await rulesChanged(m, tenantId, 'PRICE_LIST', list.id, list.storeIds);
      return (await this.priceListIn(m, tenantId, list.id))!;
    });
  }

  priceList(ctx: SubgraphContext, id: string) {
    return isUuid(id) ? this.tx(ctx, (m, tenantId) => this.priceListIn(m, tenantId, id)) : Promise.resolve(null);
  }

  async priceListIn(m: EntityManager, tenantId: string, id: string) {
    const [row] = await m.query(`SELECT * FROM ${q(m, 'price_list')} WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
    if (!row) return null;
    const prices: { sku: string; min_quantity: number; amount: string; starts_at: Date | null; ends_at: Date | null }[] = await m.query(
      `SELECT sku, min_quantity, amount::text, starts_at, ends_at FROM ${q(m, 'price_list_price')} WHERE tenant_id = $1 AND price_list_id = $2 ORDER BY sku, min_quantity`,
      [tenantId, id],
    );
    const currencyCode = row.currency_code.trim();
    const digits = minorUnits(currencyCode);
    return {
      id: row.id as string,
      name: row.name as string,
      currencyCode,
      storeIds: row.store_ids as string[],
      channel: row.channel as string | null,
      customerGroup: row.customer_group as string | null,
      priority: row.priority as number,
      startsAt: iso(row.starts_at),
      endsAt: iso(row.ends_at),
      prices: prices.map((p) => ({
        sku: p.sku,
        minQuantity: p.min_quantity,
        amount: { amount: fromMinor(toMinor(p.amount, digits), digits), currencyCode },
        startsAt: iso(p.starts_at),
        endsAt: iso(p.ends_at),
      })),
    };
  }

  createPromotion(
    ctx: SubgraphContext,
    input: {
      name: string; kind: string; value: string; currencyCode?: string | null;
      appliesTo?: { skus?: readonly string[] | null; categoryIds?: readonly string[] | null; brands?: readonly string[] | null } | null;
      minQuantity?: number | null; minSubtotal?: string | null; couponCode?: string | null; startsAt?: string | null; endsAt?: string | null;
      usageLimit?: number | null; perCustomerLimit?: number | null; stackable?: boolean | null; priority?: number | null;
    },
  ) {
    const kind = input.kind as PromotionKind;
    if (!KINDS.includes(kind)) throw badInput(`kind must be one of ${KINDS.join(', ')}`, 'kind');
    const currencyCode = input.currencyCode ? parseMoney('0', input.currencyCode).currencyCode : null;
    const needsCurrency = kind === 'AMOUNT_OFF' || kind === 'FIXED_PRICE' || kind === 'BUNDLE' || input.minSubtotal != null;
    if (needsCurrency && !currencyCode) throw badInput(`a ${kind} promotion${input.minSubtotal != null ? ' with a minSubtotal' : ''} needs a currencyCode`, 'currencyCode');
    let minQuantity = intIn(input.minQuantity, 'minQuantity', 1, 1_000_000);
    let value: string;
    if (kind === 'PERCENT_OFF') {
      value = percent(input.value, 'value');
      if (Number(value) === 0) throw badInput('a percentage off must be above 0', 'value');
    } else if (kind === 'BUY_X_GET_Y') {
      value = String(intIn(/^\d+$/.test(input.value.trim()) ? Number(input.value) : -1, 'value', 1, RULE_LIMITS.maxBuyGetUnits));
      minQuantity = intIn(minQuantity ?? -1, 'minQuantity', 1, RULE_LIMITS.maxBuyGetUnits);
    } else {
      value = parseMoney(input.value, currencyCode!).amount;
      if (kind === 'BUNDLE') minQuantity = intIn(minQuantity ?? -1, 'minQuantity', 2, RULE_LIMITS.maxBuyGetUnits);
    }
    const minSubtotal = input.minSubtotal != null ? parseMoney(input.minSubtotal, currencyCode!).amount : null;
    const couponCode = input.couponCode != null ? normaliseCoupon(input.couponCode) : null;
    if (couponCode !== null && !RULE_LIMITS.couponCode.test(couponCode)) throw badInput('couponCode is 1 to 64 letters, digits, "-" or "_"', 'couponCode');
    const { startsAt, endsAt } = window(input);
    const usageLimit = intIn(input.usageLimit, 'usageLimit', 1, RULE_LIMITS.maxUses);
    const perCustomerLimit = intIn(input.perCustomerLimit, 'perCustomerLimit', 1, RULE_LIMITS.maxUses);
    const priority = intIn(input.priority ?? 0, 'priority', -RULE_LIMITS.maxPriority, RULE_LIMITS.maxPriority)!;
    if (!input.name.trim()) throw badInput('name must not be blank', 'name');
    return this.ruleTx(ctx, async (m, tenantId) => {
      if (couponCode) {
        const taken: unknown[] = await m.query(`SELECT 1 FROM ${q(m, 'promotion')} WHERE tenant_id = $1 AND coupon_code = $2`, [tenantId, couponCode]);
        if (taken.length) throw badInput(`coupon code ${couponCode} is already used by another promotion`, 'couponCode');
      }
      const id = randomUUID();
      await m.query(
        `INSERT INTO ${q(m, 'promotion')} (tenant_id, id, name, kind, value, currency_code, skus, category_ids, brands, min_quantity, min_subtotal, coupon_code,
           starts_at, ends_at, usage_limit, per_customer_limit, stackable, priority)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
        [
          tenantId, id, input.name.trim(), kind, value, currencyCode, [...new Set(input.appliesTo?.skus ?? [])], [...new Set(input.appliesTo?.categoryIds ?? [])],
          [...new Set(input.appliesTo?.brands ?? [])], minQuantity, minSubtotal, couponCode, startsAt, endsAt, usageLimit, perCustomerLimit, input.stackable ?? false, priority,
        ],
      );
      // An automatic promotion's future start and end are announced when they come (price-schedule.ts).
      if (couponCode === null) await addPromotionBoundaries(m, tenantId, id, [startsAt, endsAt], this.clock());
      await rulesChanged(m, tenantId, 'PROMOTION', id, []);
      return (await this.promotionsIn(m, tenantId, [id]))[0]!;
    });
  }

  /** One promotion by its UUID (`node(id:)`), null when the tenant has none. */
  promotion(ctx: SubgraphContext, id: string) {
    return isUuid(id) ? this.tx(ctx, async (m, tenantId) => (await this.promotionsIn(m, tenantId, [id]))[0] ?? null) : Promise.resolve(null);
  }

  promotions(ctx: SubgraphContext) {
    return this.tx(ctx, (m, tenantId) => this.promotionsIn(m, tenantId, null));
  }

  private async promotionsIn(m: EntityManager, tenantId: string, ids: string[] | null) {
    const rows: PromotionRow[] = await m.query(
      `SELECT *, min_subtotal::text AS min_subtotal FROM ${q(m, 'promotion')} WHERE tenant_id = $1 AND ($2::uuid[] IS NULL OR id = ANY($2)) ORDER BY priority DESC, id LIMIT 1000`,
      [tenantId, ids],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      value: r.value,
      currencyCode: r.currency_code?.trim() ?? null,
      appliesTo: { skus: r.skus, categoryIds: r.category_ids, brands: r.brands },
      minQuantity: r.min_quantity,
      minSubtotal: r.min_subtotal,
      couponCode: r.coupon_code,
      startsAt: iso(r.starts_at),
      endsAt: iso(r.ends_at),
      usageLimit: r.usage_limit,
      usageCount: r.usage_count,
      perCustomerLimit: r.per_customer_limit,
      stackable: r.stackable,
      priority: r.priority,
    }));
  }

  setTaxRate(ctx: SubgraphContext, input: { storeId: string; category?: string | null; rate: string; name: string }) {
    const rate = percent(input.rate, 'rate');
    if (!input.name.trim()) throw badInput('name must not be blank', 'name');
    return this.ruleTx(ctx, async (m, tenantId) => {
      await requireStores(m, tenantId, [input.storeId]);
      await m.query(
        `INSERT INTO ${q(m, 'tax_rate')} (tenant_id, store_id, category, name, rate) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, store_id, category, name) DO UPDATE SET rate = EXCLUDED.rate`,
        [tenantId, input.storeId, input.category ?? '', input.name.trim(), rate],
      );
      await rulesChanged(m, tenantId, 'TAX_RATE', input.storeId, [input.storeId]);
      return { storeId: input.storeId, category: input.category ?? null, name: input.name.trim(), rate };
    });
  }

  /**
   * Prices a cart. `claim` (claimQuote) also counts one use of each applied promotion that has a
   * limit, atomically: a conditional UPDATE per promotion, so concurrent claims of the last use
   * serialise on its row and exactly `usageLimit` succeed.
   */
  async quote(ctx: SubgraphContext, input: QuoteInput, claim: boolean): Promise<QuoteResult> {
    // A signed-in customer prices and claims as itself: its per-customer coupon limits count.
    if (ctx.customerId) {
      if (input.customerId != null && input.customerId !== ctx.customerId) throw appError('FORBIDDEN', 'a customer prices for itself only');
      input = { ...input, customerId: ctx.customerId };
    }
    if (input.customerGroup != null && !ctx.roles.some((r) => r === 'pos' || r === 'admin')) {
      throw appError('FORBIDDEN', 'only a pos or admin caller may price for a customer group');
    }
    const price = async (m: EntityManager, tenantId: string, read: RulesReader | null) => {
      const now = this.clock();
      const expiresAt = new Date(now.getTime() + this.quoteTtlMs);
      const dropped: { id: string; couponCode: string | null }[] = [];
      for (;;) {
        const pricing = await loadPricingInput(m, tenantId, input, now, dropped.map((d) => d.id), null, read);
        let quote: Quote;
        try {
          quote = priceCart(pricing);
        } catch (error) {
          if (error instanceof PricingError) throw badInput(error.message, error.field);
          throw error;
        }
        if (!fitsStoredAmount(fromMinor(quote.total, pricing.digits)) || !fitsStoredAmount(fromMinor(quote.subtotal, pricing.digits))) {
          throw badInput('the quote total is larger than an amount can be (15 digits before the point)', 'lines');
        }
        for (const { couponCode } of dropped) if (couponCode) quote.rejectedCoupons.push({ code: couponCode, reason: 'EXHAUSTED' });
        quote.rejectedCoupons.sort((a, b) => (a.code < b.code ? -1 : 1));
        const id = randomUUID();
        const usedUp = quote.rejectedCoupons.find((c) => c.reason === 'EXHAUSTED' || c.reason === 'CUSTOMER_LIMIT_REACHED');
        if (claim && usedUp && !input.dropExhaustedCoupons) throw appError('COUPON_EXHAUSTED', `coupon ${usedUp.code} has no uses left`, { couponCode: usedUp.code });
        if (claim) {
          const exhausted = await claimUses(m, tenantId, id, quote, pricing.promotions, input.customerId ?? null, expiresAt);
          if (exhausted) {
            // An automatic promotion used up is simply not applied; a coupon is refused unless asked.
            if (exhausted.couponCode !== null && !input.dropExhaustedCoupons) {
              throw appError('COUPON_EXHAUSTED', `${exhausted.couponCode ? `coupon ${exhausted.couponCode}` : `promotion "${exhausted.name}"`} has no uses left`, {
                couponCode: exhausted.couponCode,
              });
            }
            dropped.push({ id: exhausted.id, couponCode: exhausted.couponCode });
            // Undo this attempt's counts before pricing again without the coupon.
            await releaseUses(m, tenantId, id);
            continue;
          }
        }
        const limited = quote.appliedPromotions.some((a) => {
          const p = pricing.promotions.find((x) => x.id === a.id)!;
          return p.couponCode !== null || p.usageLimit !== null || p.perCustomerLimit !== null;
        });
        return { quote, digits: pricing.digits, id, tenantId, limited, expiresAt };
      }
    };
    // A claim writes (its uses) in a transaction; a preview only reads its rules, in one round trip.
    const tenantId = requireTenant(ctx);
    const result = claim
      ? await this.tx(ctx, (m) => price(m, tenantId, null))
      : await price(this.dataSource.manager, tenantId, this.quoteRules
          ? (_text, values) => this.quoteRules!.read(this.dataSource, tenantId, ctx.customerId ?? '', values)
          : async (text, values) => (await readInOneRoundTrip<RulesRow>(this.dataSource, tenantId, text, values, ctx.customerId ?? '', 'quote_rules'))[0]!);
    const { quote, digits, expiresAt } = result;
    const money = (v: bigint) => fromMinor(v, digits);
    const signed: SignedQuote = {
      v: 1,
      id: result.id,
      tenantId: result.tenantId,
      storeId: input.storeId,
      currencyCode: quote.currencyCode,
      claimed: claim,
      limited: result.limited,
      expiresAt: expiresAt.toISOString(),
      lines: quote.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: money(l.unitPrice), discount: money(l.discountTotal), tax: money(l.taxTotal), total: money(l.total) })),
      subtotal: money(quote.subtotal),
      discountTotal: money(quote.discountTotal),
      taxTotal: money(quote.taxTotal),
      total: money(quote.total),
      promotionIds: quote.appliedPromotions.map((p) => p.id),
      couponCodes: [...new Set((input.couponCodes ?? []).map(normaliseCoupon))].sort(),
    };
    return { quote, digits, id: result.id, token: signQuote(this.secret, signed), expiresAt };
  }
}

interface PromotionRow {
  id: string; name: string; kind: PromotionKind; value: string; currency_code: string | null; skus: string[]; category_ids: string[]; brands: string[];
  min_quantity: number | null; min_subtotal: string | null; coupon_code: string | null; starts_at: Date | null; ends_at: Date | null;
  usage_limit: number | null; usage_count: number; per_customer_limit: number | null; stackable: boolean; priority: number; customer_uses?: number;
}

/** Tells the gateway's storefront cache (any `pricing.` event of a tenant clears its answers). */
const rulesChanged = (m: EntityManager, tenantId: string, kind: PricingRulesChanged['kind'], id: string, storeIds: readonly string[]) =>
  emit(m, tenantId, 'pricing.rules.changed', { kind, id, storeIds: [...storeIds] });

async function requireStores(m: EntityManager, tenantId: string, storeIds: readonly string[]) {
  const known = await knownStores(m, tenantId, storeIds);
  const missing = storeIds.find((id) => !known.has(id));
  if (missing) throw notFound(`no store ${missing}`);
}

async function addBoundaries(m: EntityManager, tenantId: string, listId: string, moments: (Date | null)[], now: Date) {
  const future = [...new Set(moments.filter((d): d is Date => d !== null && d > now).map((d) => d.toISOString()))];
  if (future.length === 0) return;
  await m.query(`INSERT INTO ${q(m, 'price_boundary')} (tenant_id, price_list_id, at) SELECT $1, $2, unnest($3::timestamptz[]) ON CONFLICT DO NOTHING`, [tenantId, listId, future]);
}

async function addPromotionBoundaries(m: EntityManager, tenantId: string, promotionId: string, moments: (Date | null)[], now: Date) {
  const future = [...new Set(moments.filter((d): d is Date => d !== null && d > now).map((d) => d.toISOString()))];
  if (future.length === 0) return;
  await m.query(`INSERT INTO ${q(m, 'promotion_boundary')} (tenant_id, promotion_id, at) SELECT $1, $2, unnest($3::timestamptz[]) ON CONFLICT DO NOTHING`, [tenantId, promotionId, future]);
}

/**
 * Everything the engine needs for one cart, read in ONE statement (each part a JSON aggregate),
 * so a quote costs three round trips in all: BEGIN with the tenant's settings, this, COMMIT.
 * Quotes always read every rule fresh here; only the storefront's shown prices pass `storeRules`
 * (a `StoreRulesCache`), and then the store's setting, lists and tax rates come from it.
 */
export async function loadPricingInput(
  m: EntityManager,
  tenantId: string,
  input: QuoteInput,
  now: Date,
  excludedPromotions: readonly string[] = [],
  /** Where the store's setting, lists and tax rates come from (default: this statement). */
  storeRules: StoreRulesLoader | null = null,
  /** How the statement is sent (default: in `m`'s transaction). */
  read: RulesReader | null = null,
): Promise<PricingInput & { promotions: (Promotion & { currencyCode?: string | null })[] }> {
  const storeId = input.storeId;
  if (!isUuid(storeId)) throw notFound(`no store ${storeId}`);
  if (input.lines.length === 0) throw badInput('a quote needs at least one line', 'lines');
  const skus = [...new Set(input.lines.map((l) => l.sku))];
  const codes = [...new Set((input.couponCodes ?? []).map(normaliseCoupon))];
  const kept = storeRules ? await storeRules(m, tenantId, storeId) : null;
  const params = [tenantId, storeId, skus, codes, input.customerId ?? null, [...excludedPromotions]];
  const [row]: RulesRow[] = read ? [await read(rulesStatement(m, kept === null), params)] : await m.query(rulesStatement(m, kept === null), params);
  if (!row!.store_known) throw notFound(`no store ${storeId}`);
  const settings = kept ? kept.settings : (row!.settings ?? undefined);
  const storeLists: PriceListRow[] = kept
    ? kept.lists
    : row!.lists!.map(([id, currency_code, store_ids, channel, customer_group, priority, starts_at, ends_at]) => ({
        id, currency_code, store_ids, channel, customer_group, priority, starts_at: date(starts_at), ends_at: date(ends_at),
      }));
  const taxRows = kept ? kept.taxRows : row!.tax_rows!.map(([category, name, rate]) => ({ category, name, rate }));
  const base = row!.base;
  // A store without pricing settings prices in the currency of its own prices, tax excluded.
  const currencies = [...new Set(base.map(([, , currency]) => currency.trim()))];
  const currencyCode = settings?.currency_code.trim() ?? currencies[0];
  if (!currencyCode) throw badInput(`no line has a price in store ${storeId}`, 'lines.sku');
  if (!settings && currencies.length > 1) throw badInput('the lines are priced in several currencies; configure the store\'s currency', 'lines');
  const digits = minorUnits(currencyCode);
  const basePrices = new Map(base.filter(([, , currency]) => currency.trim() === currencyCode).map(([sku, amount]) => [sku, toMinor(amount, digits)]));

  const lists = applicableLists(storeLists, currencyCode, now, input.channel ?? null, input.customerGroup ?? null);
  const pricesOf = new Map<string, PriceList['prices'][number][]>(lists.map((l) => [l.id, []]));
  for (const [listId, sku, minQuantity, amount, startsAt, endsAt] of row!.list_prices) {
    pricesOf.get(listId)?.push({ sku, amount: toMinor(amount, digits), minQuantity, startsAt: date(startsAt), endsAt: date(endsAt) });
  }
  const priceLists: PriceList[] = lists.map((l) => ({
    id: l.id,
    currencyCode,
    storeIds: l.store_ids,
    channel: l.channel,
    customerGroup: l.customer_group,
    priority: l.priority,
    startsAt: l.starts_at,
    endsAt: l.ends_at,
    prices: pricesOf.get(l.id)!,
  }));

  const promotions = row!.promotions
    .filter((r) => r.currency_code === null || r.currency_code.trim() === currencyCode)
    .map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      value: r.value,
      currencyCode: r.currency_code,
      appliesTo: { skus: r.skus, categoryIds: r.category_ids, brands: r.brands },
      minQuantity: r.min_quantity,
      minSubtotal: r.min_subtotal === null ? null : toMinor(r.min_subtotal, digits),
      couponCode: r.coupon_code,
      usageLimit: r.usage_limit,
      usageCount: r.usage_count,
      perCustomerLimit: input.customerId ? r.per_customer_limit : null,
      customerUsageCount: r.customer_uses ?? 0,
      stackable: r.stackable,
      priority: r.priority,
      startsAt: date(r.starts_at),
      endsAt: date(r.ends_at),
    }));

  const taxRates: TaxRate[] = taxRows.map((t) => ({ name: t.name, rate: t.rate.replace(/\.?0+$/, ''), category: t.category === '' ? null : t.category }));
  return {
    now,
    storeId,
    currencyCode,
    digits,
    pricesIncludeTax: settings?.prices_include_tax ?? false,
    channel: input.channel ?? null,
    customerGroup: input.customerGroup ?? null,
    lines: input.lines,
    couponCodes: codes,
    basePrices,
    priceLists,
    promotions,
    taxRates,
    items: new Map(row!.facts.map(([sku, brand, categoryIds]) => [sku, { brand, categoryIds }])),
  };
}

/** A timestamp as JSON carries it (ISO 8601 with an offset), or as the driver gives it. */
const date = (value: string | Date | null): Date | null => (value === null ? null : new Date(value));

/** Sends the rules statement (or its own that answers the same row) with its parameters and answers its one row. */
type RulesReader = (text: string, values: unknown[]) => Promise<RulesRow>;

/** One row: each part of a cart's rules as a JSON aggregate (numerics as text, so no float ever holds an amount). */
export interface RulesRow {
  store_known: boolean;
  settings: { currency_code: string; prices_include_tax: boolean } | null;
  lists: [string, string, string[], string | null, string | null, number, string | null, string | null][] | null;
  tax_rows: [string, string, string][] | null;
  base: [string, string, string][];
  list_prices: [string, string, number, string, string | null, string | null][];
  promotions: (Omit<PromotionRow, 'starts_at' | 'ends_at'> & { starts_at: string | null; ends_at: string | null })[];
  facts: [string, string | null, string[]][];
}

/**
 * $1 tenant, $2 store, $3 skus, $4 coupon codes, $5 customer id, $6 promotions to leave out.
 * List prices are read for every list of the store (the lists that apply are chosen in memory,
 * once the currency is known); promotions in every currency (likewise).
 */
const rulesStatement = (m: EntityManager, withStoreRules: boolean) => {
  const storeRules = withStoreRules
    ? `(SELECT json_build_object('currency_code', currency_code, 'prices_include_tax', prices_include_tax) FROM ${q(m, 'store_pricing')} WHERE tenant_id = $1 AND store_id = $2) AS settings,
       (SELECT coalesce(json_agg(json_build_array(id, currency_code, store_ids, channel, customer_group, priority, starts_at, ends_at)), '[]') FROM ${q(m, 'price_list')}
         WHERE tenant_id = $1 AND (cardinality(store_ids) = 0 OR $2 = ANY(store_ids))) AS lists,
       (SELECT coalesce(json_agg(json_build_array(category, name, rate::text)), '[]') FROM ${q(m, 'tax_rate')} WHERE tenant_id = $1 AND store_id = $2) AS tax_rows,`
    : 'NULL::json AS settings, NULL::json AS lists, NULL::json AS tax_rows,';
  return `SELECT
      EXISTS (SELECT 1 FROM ${q(m, 'known_store')} WHERE tenant_id = $1 AND store_id = $2) AS store_known,
      ${storeRules}
      (SELECT coalesce(json_agg(json_build_array(sku, amount::text, currency_code)), '[]') FROM ${q(m, 'price')}
        WHERE tenant_id = $1 AND store_id = $2 AND sku = ANY($3::text[])) AS base,
      (SELECT coalesce(json_agg(json_build_array(pp.price_list_id, pp.sku, pp.min_quantity, pp.amount::text, pp.starts_at, pp.ends_at)), '[]') FROM ${q(m, 'price_list_price')} pp
        WHERE pp.tenant_id = $1 AND pp.sku = ANY($3::text[])
          AND pp.price_list_id IN (SELECT id FROM ${q(m, 'price_list')} WHERE tenant_id = $1 AND (cardinality(store_ids) = 0 OR $2 = ANY(store_ids)))) AS list_prices,
      (SELECT coalesce(json_agg(${promotionJson(q(m, 'promotion_redemption'))}), '[]')
         FROM ${q(m, 'promotion')} p
        WHERE p.tenant_id = $1 AND (p.coupon_code IS NULL OR p.coupon_code = ANY($4::text[])) AND NOT (p.id = ANY($6::uuid[]))) AS promotions,
      (SELECT coalesce(json_agg(json_build_array(sku, brand, category_ids)), '[]') FROM ${q(m, 'item_facts')}
        WHERE tenant_id = $1 AND sku = ANY($3::text[])) AS facts`;
};

/**
 * A promotion row as the rules statements build it (`RulesRow.promotions`), with `customer_uses`:
 * the uses of customer $5 that count against a per-customer limit. `redemptions` is the qualified
 * `promotion_redemption` table; the row is aliased `p`.
 */
export const promotionJson = (redemptions: string) => `json_build_object(
    'id', p.id, 'name', p.name, 'kind', p.kind, 'value', p.value, 'currency_code', p.currency_code, 'skus', p.skus, 'category_ids', p.category_ids,
    'brands', p.brands, 'min_quantity', p.min_quantity, 'min_subtotal', p.min_subtotal::text, 'coupon_code', p.coupon_code, 'starts_at', p.starts_at,
    'ends_at', p.ends_at, 'usage_limit', p.usage_limit, 'usage_count', p.usage_count, 'per_customer_limit', p.per_customer_limit, 'stackable', p.stackable,
    'priority', p.priority,
    'customer_uses', CASE WHEN $5::text IS NULL OR p.per_customer_limit IS NULL THEN 0 ELSE (SELECT count(*)::int FROM ${redemptions} r
      WHERE r.tenant_id = p.tenant_id AND r.promotion_id = p.id AND r.customer_id = $5 AND r.released_at IS NULL) END)`;

/** Counts one use of each applied promotion with a limit or a coupon; the first that has none left, or null. */
async function claimUses(m: EntityManager, tenantId: string, quoteId: string, quote: Quote, promotions: readonly Promotion[], customerId: string | null, expiresAt: Date) {
  for (const applied of quote.appliedPromotions) {
    const promotion = promotions.find((p) => p.id === applied.id)!;
    if (promotion.usageLimit === null && promotion.couponCode === null && promotion.perCustomerLimit === null) continue;
    const counted = updatedRows(await m.query(
      `UPDATE ${q(m, 'promotion')} SET usage_count = usage_count + 1
        WHERE tenant_id = $1 AND id = $2 AND (usage_limit IS NULL OR usage_count < usage_limit) RETURNING id`,
      [tenantId, promotion.id],
    ));
    if (counted.length === 0) return promotion;
    if (promotion.perCustomerLimit !== null && customerId !== null) {
      // The UPDATE above holds the promotion's row: a concurrent claim of the same customer waits
      // for this transaction and then counts its redemption, so the per-customer limit is exact too.
      const [customerUses]: { uses: number }[] = await m.query(
        `SELECT count(*)::int AS uses FROM ${q(m, 'promotion_redemption')} WHERE tenant_id = $1 AND promotion_id = $2 AND customer_id = $3 AND released_at IS NULL`,
        [tenantId, promotion.id, customerId],
      );
      if (customerUses!.uses >= promotion.perCustomerLimit) return promotion;
    }
    await m.query(
      `INSERT INTO ${q(m, 'promotion_redemption')} (tenant_id, quote_id, promotion_id, customer_id, expires_at) VALUES ($1, $2, $3, $4, $5)`,
      [tenantId, quoteId, promotion.id, customerId, expiresAt],
    );
  }
  return null;
}

/**
 * Gives back the uses a quote claimed (its order was cancelled, a retry priced without a coupon,
 * or, `unordered`, the quote expired with no order placed with it).
 */
export async function releaseUses(m: EntityManager, tenantId: string, quoteId: string, unordered = false): Promise<number> {
  const rows = updatedRows<{ promotion_id: string }>(await m.query(
    `UPDATE ${q(m, 'promotion_redemption')} SET released_at = now()
      WHERE tenant_id = $1 AND quote_id = $2 AND released_at IS NULL AND ($3::boolean IS FALSE OR ordered_at IS NULL) RETURNING promotion_id`,
    [tenantId, quoteId, unordered],
  ));
  for (const { promotion_id } of rows) {
    await m.query(`UPDATE ${q(m, 'promotion')} SET usage_count = usage_count - 1 WHERE tenant_id = $1 AND id = $2 AND usage_count > 0`, [tenantId, promotion_id]);
  }
  return rows.length;
}

/**
 * An order was placed with the quote: its uses stay counted (until the order is cancelled or
 * rejected). A use the quote's expiry already gave back, because the order's event came late, is
 * counted again: the order was charged with it. The rows are locked first, so this and the
 * expiry pass (FOR UPDATE SKIP LOCKED) never both act on one use.
 */
export async function keepOrderedUses(m: EntityManager, tenantId: string, quoteId: string): Promise<number> {
  const rows: { promotion_id: string; released: boolean }[] = await m.query(
    `SELECT promotion_id, released_at IS NOT NULL AS released FROM ${q(m, 'promotion_redemption')}
      WHERE tenant_id = $1 AND quote_id = $2 AND ordered_at IS NULL FOR UPDATE`,
    [tenantId, quoteId],
  );
  if (rows.length === 0) return 0;
  await m.query(`UPDATE ${q(m, 'promotion_redemption')} SET ordered_at = now(), released_at = NULL WHERE tenant_id = $1 AND quote_id = $2 AND ordered_at IS NULL`, [tenantId, quoteId]);
  for (const { promotion_id } of rows.filter((r) => r.released)) {
    await m.query(`UPDATE ${q(m, 'promotion')} SET usage_count = usage_count + 1 WHERE tenant_id = $1 AND id = $2`, [tenantId, promotion_id]);
  }
  return rows.length;
}

/** A quote as the schema shows it: amounts as Money. */
export function quoteView({ quote, digits, id, token, expiresAt }: QuoteResult) {
  const money = (v: bigint) => ({ amount: fromMinor(v, digits), currencyCode: quote.currencyCode });
  return {
    id,
    currencyCode: quote.currencyCode,
    pricesIncludeTax: quote.pricesIncludeTax,
    lines: quote.lines.map((l) => ({
      sku: l.sku,
      quantity: l.quantity,
      listPrice: money(l.listPrice),
      unitPrice: money(l.unitPrice),
      // References answer the `Node` ids of what they name (decision 0026), as `PriceList.id` and `Promotion.id` do.
      priceListId: l.priceListId ? toGlobalId('PriceList', l.priceListId) : null,
      adjustments: l.adjustments.map((a) => ({ promotionId: toGlobalId('Promotion', a.promotionId), label: a.label, amount: money(a.amount) })),
      taxes: l.taxes.map((t) => ({ name: t.name, rate: t.rate, amount: money(t.amount) })),
      total: money(l.total),
    })),
    subtotal: money(quote.subtotal),
    discountTotal: money(quote.discountTotal),
    taxTotal: money(quote.taxTotal),
    total: money(quote.total),
    appliedPromotions: quote.appliedPromotions.map((p) => ({ id: toGlobalId('Promotion', p.id), name: p.name })),
    rejectedCoupons: quote.rejectedCoupons,
    token,
    expiresAt: expiresAt.toISOString(),
  };
}
