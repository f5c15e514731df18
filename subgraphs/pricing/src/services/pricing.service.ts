import { skuStoreKey, splitSkuStoreKey } from '../../../../lib/sku.js';
import { In, type EntityManager } from 'typeorm';
import { TenantScopedService } from '../../../../lib/db/tenant-scoped-service.js';
import { isAppError, notFound } from '../../../../lib/errors.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import type { SubgraphContext } from '../../../../lib/graphql/service.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { isKnownVariant, knownStores } from '../../../../lib/events/read-model.js';
import { formatMoney, parseMoney, type Money } from '../../../../lib/money.js';
import { PriceEntity } from '../data/entities/price.entity.js';
import type { PriceChangedPayload } from '../../../../lib/events/contracts/pricing.js';
import type { PricingInput } from '../engine/engine.js';
import { shownUnitPrice, type ShownPrice } from './price-schedule.js';
import { loadPricingInput } from './rules.service.js';
import type { StoreRulesLoader } from './store-rules.js';

const emit = outboxOf('pricing');
export const moneyOf = (price: PriceEntity): Money => formatMoney(price.amount, price.currencyCode.trim());

export const priceChangedPayload = (price: PriceEntity, previous: Money | null): PriceChangedPayload => ({
  __typename: 'PriceChange',
  sku: price.sku,
  storeId: price.storeId,
  price: moneyOf(price),
  previous,
  version: price.version,
  updatedAt: new Date(price.updatedAt).toISOString(),
  variant: { __typename: 'Variant', sku: price.sku },
});

/** Prices per (sku, store). */
export class PricingService extends TenantScopedService {
  constructor(
    dataSource: ConstructorParameters<typeof TenantScopedService>[0],
    afterCommit: () => Promise<void>,
    /** Where the shown prices read a store's rules (default: with the rest of a cart's rules, each time). */
    private readonly storeRules: StoreRulesLoader | null = null,
  ) {
    super(dataSource, afterCommit);
  }

  /** Sets the price; setting the same price again changes nothing and publishes nothing. */
  async setPrice(ctx: SubgraphContext, input: { sku: string; storeId: string; amount: string; currencyCode: string }): Promise<PriceEntity> {
    const money = parseMoney(input.amount, input.currencyCode);
    const { price, changed } = await this.tx(ctx, async (m, tenantId) => {
      if (!(await knownStores(m, tenantId, [input.storeId])).has(input.storeId)) throw notFound(`no store ${input.storeId}`);
      if (!(await isKnownVariant(m, tenantId, input.sku))) throw notFound(`no variant with sku ${input.sku}`);
      return setPriceIn(m, tenantId, input.sku, input.storeId, money);
    });
    if (changed) await this.afterCommit();
    return price;
  }

  /** Prices per `skuStoreKey(sku, storeId)` (the keys of `Price` ids), in one transaction; null where none is set. */
  pricesByKeys(ctx: SubgraphContext, keys: readonly string[]): Promise<(PriceEntity | null)[]> {
    const pairs = keys.map((key) => splitSkuStoreKey(key)).filter(([, storeId]) => isUuid(storeId));
    if (pairs.length === 0) return Promise.resolve(keys.map(() => null));
    return this.tx(ctx, async (m, tenantId) => {
      const rows = await m.getRepository(PriceEntity).findBy({ tenantId, storeId: In([...new Set(pairs.map(([, storeId]) => storeId))]), sku: In([...new Set(pairs.map(([sku]) => sku))]) });
      const byKey = new Map(rows.map((row) => [skuStoreKey(row.sku, row.storeId), row]));
      return keys.map((key) => byKey.get(key) ?? null);
    });
  }

  price(ctx: SubgraphContext, sku: string, storeId: string): Promise<PriceEntity | null> {
    if (!isUuid(storeId)) return Promise.resolve(null);
    return this.tx(ctx, (m, tenantId) => m.getRepository(PriceEntity).findOneBy({ tenantId, sku, storeId }));
  }

  /**
   * What a storefront shows per `skuStoreKey(sku, storeId)`: the engine's price for one unit (price
   * lists and automatic promotions, no coupon, no customer group or channel) and the price it is
   * reduced from. The rules are loaded once per store for all the keys of that store, so a page of
   * variants costs one load per store, not one per sku. A store whose prices the engine cannot
   * price (several currencies and no store setting) shows its own prices, as before the engine.
   */
  shownPricesFor(ctx: SubgraphContext, keys: readonly string[]): Promise<(ShownPrice | null | Error)[]> {
    return this.tx(ctx, async (m, tenantId) => {
      const pairs = keys.map((key) => splitSkuStoreKey(key));
      const stores = await knownStores(m, tenantId, pairs.map(([, storeId]) => storeId));
      const now = new Date();
      const shown = new Map<string, ShownPrice | null>();
      for (const storeId of stores) {
        const skus = [...new Set(pairs.filter(([, s]) => s === storeId).map(([sku]) => sku))];
        let input: PricingInput | null;
        try {
          input = await loadPricingInput(m, tenantId, { storeId, lines: skus.map((sku) => ({ sku, quantity: 1 })) }, now, [], this.storeRules);
        } catch (error) {
          if (!isAppError(error)) throw error;
          input = null; // no sku has a price here, or they are in several currencies
        }
        if (input) {
          for (const sku of skus) shown.set(skuStoreKey(sku, storeId), shownUnitPrice(input, sku, now));
          continue;
        }
        const rows = await m.getRepository(PriceEntity).findBy({ tenantId, storeId, sku: In(skus) });
        for (const row of rows) shown.set(skuStoreKey(row.sku, storeId), { price: moneyOf(row), compareAt: null });
      }
      return pairs.map(([, storeId], i) => (stores.has(storeId) ? (shown.get(keys[i]!) ?? null) : notFound(`no store ${storeId}`)));
    });
  }

  /** The current prices of a store (of `skus`, when given), as `priceChanged` payloads. */
  priceChangedSnapshot(ctx: SubgraphContext, storeId: string, skus: readonly string[] | null | undefined): Promise<string[]> {
    return this.tx(ctx, async (m, tenantId) => {
      if (!(await knownStores(m, tenantId, [storeId])).has(storeId)) throw notFound(`no store ${storeId}`);
      const qb = m
        .getRepository(PriceEntity)
        .createQueryBuilder('p')
        .where('p.tenant_id = :tenantId AND p.store_id = :storeId', { tenantId, storeId })
        .orderBy('p.sku', 'ASC');
      if (skus) qb.andWhere('p.sku = ANY(:skus)', { skus: [...skus] });
      return (await qb.getMany()).map((price) => JSON.stringify(priceChangedPayload(price, null)));
    });
  }
}

/** Sets a price inside the caller's transaction; the same price again changes and publishes nothing. */
export async function setPriceIn(
  m: EntityManager,
  tenantId: string,
  sku: string,
  storeId: string,
  money: Money,
): Promise<{ price: PriceEntity; changed: boolean }> {
  const repo = m.getRepository(PriceEntity);
  const where = { tenantId, sku, storeId };
  const current = await repo.findOne({ where, lock: { mode: 'pessimistic_write' } });
  const previous = current ? moneyOf(current) : null;
  if (previous && previous.amount === money.amount && previous.currencyCode === money.currencyCode) {
    return { price: current!, changed: false };
  }
  const next = repo.create({ ...where, amount: money.amount, currencyCode: money.currencyCode, version: (current?.version ?? 0) + 1, updatedAt: new Date() });
  await repo.save(next);
  await emit(m, tenantId, 'pricing.price.changed', priceChangedPayload(next, previous));
  return { price: next, changed: true };
}

/**
 * Sets many prices in one statement inside the caller's transaction (feeds, merchant systems):
 * only prices that change are written, each with its version bumped. What changed is one event:
 * `pricing.prices.changed` with every change (decision 0042), or `pricing.price.changed` when it
 * was one price.
 */
export async function setPricesIn(
  m: EntityManager,
  tenantId: string,
  prices: { sku: string; storeId: string; money: Money }[],
): Promise<number> {
  if (prices.length === 0) return 0;
  // The last price of a (sku, store) wins, as if they had been set one by one.
  const unique = [...new Map(prices.map((p) => [skuStoreKey(p.sku, p.storeId), p])).values()];
  const s = m.connection.driver.schema;
  const rows: { sku: string; store_id: string; amount: string; currency_code: string; version: number; updated_at: Date; prev_amount: string | null; prev_currency: string | null }[] =
    await m.query(
      `WITH input AS (
         SELECT * FROM unnest($2::text[], $3::uuid[], $4::numeric[], $5::text[]) AS t(sku, store_id, amount, currency_code)
       ),
       prev AS (
         SELECT p.sku, p.store_id, p.amount, p.currency_code FROM "${s}"."price" p
           JOIN input i ON p.tenant_id = $1 AND p.sku = i.sku AND p.store_id = i.store_id
            FOR UPDATE OF p
       ),
       up AS (
         INSERT INTO "${s}"."price" AS p (tenant_id, sku, store_id, amount, currency_code, version, updated_at)
         SELECT $1, sku, store_id, amount, currency_code, 1, now() FROM input
         ON CONFLICT (tenant_id, sku, store_id) DO UPDATE
           SET amount = EXCLUDED.amount, currency_code = EXCLUDED.currency_code, version = p.version + 1, updated_at = EXCLUDED.updated_at
           WHERE (p.amount, p.currency_code) IS DISTINCT FROM (EXCLUDED.amount, EXCLUDED.currency_code)
         RETURNING sku, store_id, amount, currency_code, version, updated_at
       )
       SELECT up.sku, up.store_id::text, up.amount::text, up.currency_code, up.version, up.updated_at, prev.amount::text AS prev_amount, prev.currency_code AS prev_currency
         FROM up LEFT JOIN prev ON prev.sku = up.sku AND prev.store_id = up.store_id`,
      [tenantId, unique.map((p) => p.sku), unique.map((p) => p.storeId), unique.map((p) => p.money.amount), unique.map((p) => p.money.currencyCode)],
    );
  if (rows.length === 0) return 0;
  const changes = rows.map((row) => {
    const price = Object.assign(new PriceEntity(), {
      tenantId, sku: row.sku, storeId: row.store_id, amount: row.amount, currencyCode: row.currency_code, version: row.version, updatedAt: row.updated_at,
    });
    const previous = row.prev_amount === null ? null : formatMoney(row.prev_amount, row.prev_currency!.trim());
    return priceChangedPayload(price, previous);
  });
  if (changes.length === 1) await emit(m, tenantId, 'pricing.price.changed', changes[0]!);
  else await emit(m, tenantId, 'pricing.prices.changed', { changes });
  return rows.length;
}
