import type { EventApplier } from '../../../../lib/events/consumer.js';
import { INGESTED_PRODUCT, type IngestedProduct } from '../../../../lib/events/ingested-product.js';
import { FEED_BATCH_IMPORTED, PRICES_FEED_BATCH_APPLIED, VARIANTS_UPSERTED, type FeedBatchApplied, type FeedBatchImported } from '../../../../lib/events/catalog-feed.js';
import { appendToOutbox } from '../../../../lib/events/outbox.js';
import { rememberStore, rememberVariant, rememberVariants } from '../../../../lib/events/read-model.js';
import { advanceWatermarks } from '../../../../lib/events/source-watermark.js';
import { metrics } from '../../../../lib/observability/metrics.js';
import { parseMoney, type Money } from '../../../../lib/money.js';
import { setPricesIn } from '../services/pricing.service.js';

/**
 * What pricing learns from other subgraphs: which stores and skus exist, and the prices merchant
 * systems push with their products (a source's price is its base price: set in every store). A
 * price older than the one last applied for its sku from that source changes nothing.
 */
export function pricingAppliers(log: (message: string) => void = console.error): Record<string, EventApplier> {
  return {
    'tenant.store.created': rememberStore,
    'catalog.variant.upserted': rememberVariant,
    [VARIANTS_UPSERTED]: rememberVariants,
    // A feed's price column: one store's price, or (no store) every store's.
    [FEED_BATCH_IMPORTED]: async (m, event) => {
      const { importId, prices } = event.payload as FeedBatchImported;
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
      const applied: FeedBatchApplied = { importId, applied: prices.length, refused: 0 };
      await appendToOutbox(m, { type: PRICES_FEED_BATCH_APPLIED, tenantId: event.tenantId, payload: applied });
    },
    [INGESTED_PRODUCT]: async (m, event) => {
      const product = event.payload as IngestedProduct;
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
    },
  };
}
