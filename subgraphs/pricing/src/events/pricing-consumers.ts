import type { EventApplier } from '../../../../lib/events/consumer.js';
import { on, reactions } from '../../../../lib/events/on.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { rememberStore, rememberVariant, rememberVariants } from '../../../../lib/events/read-model.js';
import { advanceWatermarks } from '../../../../lib/events/source-watermark.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import { parseMoney, type Money } from '../../../../lib/money.js';
import { setPricesIn } from '../services/pricing.service.js';
import { keepOrderedUses, releaseUses } from '../services/rules.service.js';
import { copyFeatureFlag } from '../../../../lib/flags/flag-copy.js';

/**
 * `item_facts`: what promotions and tax rates match on, a product's brand (and category), for
 * each of its skus (read model `pricing.item-facts`). Pricing never reads the catalog's tables.
 */
export const itemFacts = on('catalog.product.upserted', async (m, event) => {
  const { brand, skus, categoryId } = event.payload;
  const categories = categoryId ? [categoryId] : [];
  await m.query(
    `INSERT INTO "${m.connection.driver.schema}"."item_facts" (tenant_id, sku, brand, category_ids) SELECT $1, unnest($2::text[]), $3, $4
     ON CONFLICT (tenant_id, sku) DO UPDATE SET brand = EXCLUDED.brand, category_ids = EXCLUDED.category_ids`,
    [event.tenantId, skus, brand, categories],
  );
});

/**
 * What pricing learns from other subgraphs: which stores and skus exist, and the prices merchant
 * systems push with their products (a source's price is its base price: set in every store). A
 * price older than the one last applied for its sku from that source changes nothing.
 */
export function pricingAppliers(log: (message: string) => void = console.error): Record<string, EventApplier> {
  return reactions(
    on('tenant.store.created', rememberStore),
    on('tenant.feature-flag.changed', copyFeatureFlag),
    on('catalog.variant.upserted', rememberVariant),
    on('catalog.variants.upserted', rememberVariants),
    itemFacts,
    // An order that ends cancelled or rejected (no stock) gives back the coupon and promotion
    // uses its quote claimed; once, as a quote's uses are released only once. Any other state
    // (the first is PLACED, in placeOrder's transaction) keeps them past the quote's expiry.
    on('orders.order.updated', async (m, event) => {
      const { quoteId, status } = event.payload;
      if (!quoteId) return;
      if (status === 'CANCELLED' || status === 'REJECTED') await releaseUses(m, event.tenantId, quoteId);
      else await keepOrderedUses(m, event.tenantId, quoteId);
    }),
    // A feed's price column: one store's price, or (no store) every store's.
    on('catalog.feed.batch-imported', async (m, event) => {
      const { importId, prices } = event.payload;
      if (prices.length === 0) return;
      const all: string[] = prices.some((p) => p.storeId === null)
        ? (await m.query(`SELECT store_id FROM "${m.connection.driver.schema}"."known_store" WHERE tenant_id = $1 ORDER BY store_id`, [event.tenantId])).map(
            (r: { store_id: string }) => r.store_id,
          )
        : [];
      await setPricesIn(
        m,
        event.tenantId,
        prices.flatMap((price) => (price.storeId ? [price.storeId] : all).map((storeId) => ({ sku: price.sku, storeId, money: { amount: price.amount, currencyCode: price.currencyCode } }))),
      );
      // The feed's import counts it: COMPLETED waits for its prices.
      await outboxOf('pricing')(m, event.tenantId, 'pricing.feed-batch.applied', { importId, applied: prices.length, refused: 0 });
    }),
    // A POS's restaurant menu (decision 0036): its items' and modifiers' prices in its store.
    on('inventory.ingestion.menu-received', async (m, event) => {
      const menu = event.payload;
      if (!menu.currencyCode) return;
      const priced = menu.items.flatMap((item) => [
        { sku: item.sku, price: item.price },
        ...item.modifierGroups.flatMap((g) => g.modifiers.map((x) => ({ sku: x.sku, price: x.price }))),
      ]).filter((p): p is { sku: string; price: string } => p.price !== null);
      const newer = menu.sourceTime ? await advanceWatermarks(m, event.tenantId, menu.source, priced.map((p) => `${p.sku}@${menu.storeId}`), new Date(menu.sourceTime)) : new Map<string, Date>();
      const updates: { sku: string; storeId: string; money: Money }[] = [];
      for (const { sku, price } of priced) {
        if (newer.has(`${sku}@${menu.storeId}`)) continue;
        try {
          updates.push({ sku, storeId: menu.storeId, money: parseMoney(price, menu.currencyCode) });
        } catch {
          log(`pricing: menu of store ${menu.storeId}: price "${price}" of ${sku} is not a ${menu.currencyCode} amount; left unchanged`);
        }
      }
      await setPricesIn(m, event.tenantId, updates);
    }),
    on('inventory.ingestion.product-received', async (m, event) => {
      const product = event.payload;
      if (!product.currencyCode) return;
      const priced = product.variants.filter((v) => v.price !== null).map((v) => v.sku);
      const newer = product.sourceTime ? await advanceWatermarks(m, event.tenantId, product.source, priced, new Date(product.sourceTime)) : new Map<string, Date>();
      if (newer.size) {
        metrics.ingestionStale.inc({ service: 'pricing', kind: 'price' }, newer.size);
        const left = [...newer].map(([sku, time]) => `${sku} (${time.toISOString()} applied)`).join(', ');
        log(`pricing: ${product.externalRef} from ${product.source} (delivery ${product.ingestionEventId}) changed at ${product.sourceTime}, before newer prices; left unchanged: ${left}`);
      }
      const stores: { store_id: string }[] = await m.query(
        `SELECT store_id FROM "${m.connection.driver.schema}"."known_store" WHERE tenant_id = $1 ORDER BY store_id`,
        [event.tenantId],
      );
      const updates: { sku: string; storeId: string; money: Money }[] = [];
      for (const variant of product.variants) {
        if (variant.price === null || newer.has(variant.sku)) continue;
        let money: Money;
        try {
          money = parseMoney(variant.price, product.currencyCode);
        } catch {
          log(`pricing: ${product.externalRef}: price "${variant.price}" of ${variant.sku} is not a ${product.currencyCode} amount; left unchanged`);
          continue;
        }
        for (const { store_id } of stores) updates.push({ sku: variant.sku, storeId: store_id, money });
      }
      await setPricesIn(m, event.tenantId, updates);
    }),
  );
}
