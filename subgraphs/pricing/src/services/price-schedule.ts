import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, updatedRows } from '../../../../lib/db/data-source.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { formatMoney, type Money } from '../../../../lib/money.js';
import { priceCart, type PricingInput } from '../engine/engine.js';
import { fromMinor } from '../engine/minor.js';
import { loadPricingInput } from './rules.service.js';

const emit = outboxOf('pricing');
/** How often the scheduler looks for due boundaries: one indexed probe, not a scan of prices. */
export const SCHEDULE_POLL_MS = 1_000;
const BATCH = 100;

/** What a storefront shows for one unit: the price, and the price it is reduced from (or null). */
export interface ShownPrice {
  price: Money;
  compareAt: Money | null;
}

/**
 * The price a storefront shows for one unit: lists and automatic promotions, before tax; with
 * `compareAt`, the higher of the store's own price and the selected list's price when that is
 * above the shown price (a sale list or a promotion discounts it). Null when the sku has no price.
 */
export function shownUnitPrice(input: PricingInput, sku: string, at: Date): ShownPrice | null {
  try {
    const line = priceCart({ ...input, now: at, lines: [{ sku, quantity: 1 }], couponCodes: [] }).lines[0]!;
    const shown = line.subtotal - line.discountTotal;
    const was = line.listPrice > line.unitPrice ? line.listPrice : line.unitPrice;
    const money = (v: bigint) => formatMoney(fromMinor(v, input.digits), input.currencyCode);
    return { price: money(shown), compareAt: was > shown ? money(was) : null };
  } catch {
    return null;
  }
}

const shownPrice = (input: PricingInput, sku: string, at: Date): Money | null => shownUnitPrice(input, sku, at)?.price ?? null;

/**
 * Scheduled prices take effect on time without a write: each future start or end of a price list
 * (or of one of its prices) is a row of `price_boundary`, of an automatic promotion a row of
 * `promotion_boundary`. A pass claims the due rows with FOR UPDATE SKIP LOCKED (so several
 * pricing processes share the work and never announce a boundary twice), compares the price each
 * (sku, store) the list or promotion may change showed just before the boundary with the price it
 * shows now, and for each that changed bumps the price's version and writes `pricing.price.changed`
 * to the outbox, in the transaction that deletes the boundary.
 */
export async function announceDueBoundaries(dataSource: DataSource, now = new Date()): Promise<number> {
  return inSystemTransaction(dataSource, async (m) => {
    const s = m.connection.driver.schema;
    const due: { tenant_id: string; price_list_id: string; at: Date }[] = await m.query(
      `SELECT tenant_id, price_list_id, at FROM "${s}"."price_boundary" WHERE at <= $1 ORDER BY at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      [now],
    );
    let announced = 0;
    for (const boundary of due) {
      announced += await announceListBoundary(m, boundary.tenant_id, boundary.price_list_id, new Date(boundary.at), now);
      await m.query(`DELETE FROM "${s}"."price_boundary" WHERE tenant_id = $1 AND price_list_id = $2 AND at = $3`, [boundary.tenant_id, boundary.price_list_id, boundary.at]);
    }
    const duePromotions: { tenant_id: string; promotion_id: string; at: Date }[] = await m.query(
      `SELECT tenant_id, promotion_id, at FROM "${s}"."promotion_boundary" WHERE at <= $1 ORDER BY at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      [now],
    );
    for (const boundary of duePromotions) {
      announced += await announcePromotionBoundary(m, boundary.tenant_id, boundary.promotion_id, new Date(boundary.at), now);
      await m.query(`DELETE FROM "${s}"."promotion_boundary" WHERE tenant_id = $1 AND promotion_id = $2 AND at = $3`, [boundary.tenant_id, boundary.promotion_id, boundary.at]);
    }
    return announced;
  });
}

async function announceListBoundary(m: EntityManager, tenantId: string, listId: string, at: Date, now: Date): Promise<number> {
  const s = m.connection.driver.schema;
  const [list]: { store_ids: string[]; channel: string | null; customer_group: string | null }[] = await m.query(
    `SELECT store_ids, channel, customer_group FROM "${s}"."price_list" WHERE tenant_id = $1 AND id = $2`,
    [tenantId, listId],
  );
  // A channel's or a customer group's list changes no price a storefront shows.
  if (!list || list.channel !== null || list.customer_group !== null) return 0;
  const pairs: { sku: string; store_id: string }[] = await m.query(
    `SELECT p.sku, p.store_id FROM "${s}"."price" p
      WHERE p.tenant_id = $1 AND p.sku IN (SELECT sku FROM "${s}"."price_list_price" WHERE tenant_id = $1 AND price_list_id = $2)
        AND (cardinality($3::uuid[]) = 0 OR p.store_id = ANY($3::uuid[]))`,
    [tenantId, listId, list.store_ids],
  );
  return announcePairs(m, tenantId, pairs, at, now);
}

/**
 * An automatic promotion started or ended: the (sku, store) prices it may change are those of the
 * skus it names, or whose brand or category it names (`item_facts`), or every priced sku when it
 * names none, in every store (a promotion is not per store; one in another currency changes
 * nothing there, which the comparison finds). A coupon's promotion changes no shown price.
 */
async function announcePromotionBoundary(m: EntityManager, tenantId: string, promotionId: string, at: Date, now: Date): Promise<number> {
  const s = m.connection.driver.schema;
  const [promotion]: { skus: string[]; category_ids: string[]; brands: string[]; coupon_code: string | null }[] = await m.query(
    `SELECT skus, category_ids, brands, coupon_code FROM "${s}"."promotion" WHERE tenant_id = $1 AND id = $2`,
    [tenantId, promotionId],
  );
  if (!promotion || promotion.coupon_code !== null) return 0;
  const everything = promotion.skus.length === 0 && promotion.category_ids.length === 0 && promotion.brands.length === 0;
  const pairs: { sku: string; store_id: string }[] = await m.query(
    `SELECT p.sku, p.store_id FROM "${s}"."price" p
      WHERE p.tenant_id = $1 AND ($2::boolean OR p.sku = ANY($3::text[]) OR p.sku IN (
        SELECT sku FROM "${s}"."item_facts" WHERE tenant_id = $1 AND (category_ids && $4::text[] OR brand = ANY($5::text[]))))`,
    [tenantId, everything, promotion.skus, promotion.category_ids, promotion.brands],
  );
  return announcePairs(m, tenantId, pairs, at, now);
}

/** Announces each (sku, store) whose shown price differs just before `at` and now. */
async function announcePairs(m: EntityManager, tenantId: string, pairs: readonly { sku: string; store_id: string }[], at: Date, now: Date): Promise<number> {
  const s = m.connection.driver.schema;
  let changed = 0;
  const byStore = new Map<string, string[]>();
  for (const p of pairs) byStore.set(p.store_id, [...(byStore.get(p.store_id) ?? []), p.sku]);
  for (const [storeId, skus] of byStore) {
    let input: PricingInput;
    try {
      input = await loadPricingInput(m, tenantId, { storeId, lines: skus.map((sku) => ({ sku, quantity: 1 })) }, now);
    } catch {
      continue;
    }
    for (const sku of skus) {
      const before = shownPrice(input, sku, new Date(at.getTime() - 1));
      const after = shownPrice(input, sku, now);
      if (!after || (before && before.amount === after.amount)) continue;
      const [updated] = updatedRows<{ version: number; updated_at: Date }>(await m.query(
        `UPDATE "${s}"."price" SET version = version + 1, updated_at = now() WHERE tenant_id = $1 AND sku = $2 AND store_id = $3 RETURNING version, updated_at`,
        [tenantId, sku, storeId],
      ));
      if (!updated) continue;
      await emit(m, tenantId, 'pricing.price.changed', {
        __typename: 'PriceChange',
        sku,
        storeId,
        price: after,
        previous: before,
        version: updated.version,
        updatedAt: new Date(updated.updated_at).toISOString(),
        variant: { __typename: 'Variant', sku },
      });
      changed++;
    }
  }
  return changed;
}

/** The scheduler's background worker; `afterAnnounce` publishes what a pass wrote to the outbox. */
export function priceScheduler(dataSource: DataSource, afterAnnounce: () => Promise<void>, log: (message: string) => void = console.error) {
  return pollingWorker(
    async () => {
      if ((await announceDueBoundaries(dataSource)) > 0) await afterAnnounce();
    },
    { pollMs: SCHEDULE_POLL_MS, log, name: 'pricing schedule' },
  );
}
