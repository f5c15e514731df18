import type { EntityManager } from 'typeorm';
import type { EventApplier } from '../../../../lib/events/consumer.js';
import type { PriceChangedPayload } from '../../../../lib/events/contracts/pricing.js';
import { on, reactions, type Reaction } from '../../../../lib/events/on.js';
import { rememberStoreAndTimeZone, rememberTimeZoneChange } from '../../../../lib/events/read-model.js';
import type { OrderTransitionsService } from '../services/order-transitions.service.js';
import { copyFeatureFlag } from '../../../../lib/flags/flag-copy.js';

/** `variant_info`: the catalog's titles of each sku, for order lines (read model `orders.variant-info`). */
export const variantInfo: Reaction[] = [
  on('catalog.variant.upserted', async (manager, event) => {
    const v = event.payload;
    await manager.query(
      `INSERT INTO "${manager.connection.driver.schema}"."variant_info" (tenant_id, sku, title, product_title)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, sku) DO UPDATE SET title = EXCLUDED.title, product_title = EXCLUDED.product_title`,
      [event.tenantId, v.sku, v.title, v.productTitle],
    );
  }),
  on('catalog.variants.upserted', async (manager, event) => {
    const { variants } = event.payload;
    await manager.query(
      `INSERT INTO "${manager.connection.driver.schema}"."variant_info" (tenant_id, sku, title, product_title)
       SELECT $1, sku, title, product_title FROM unnest($2::text[], $3::text[], $4::text[]) AS v(sku, title, product_title)
       ON CONFLICT (tenant_id, sku) DO UPDATE SET title = EXCLUDED.title, product_title = EXCLUDED.product_title`,
      [event.tenantId, variants.map((v) => v.sku), variants.map((v) => v.title), variants.map((v) => v.productTitle)],
    );
  }),
];

/** `modifier_group_info`: the catalog's modifier groups of each sku (read model `orders.modifier-groups`). */
export const modifierGroupInfo: Reaction[] = [
  on('catalog.modifier-groups.set', async (manager, event) => {
    const { productId, skus, groups } = event.payload;
    const s = manager.connection.driver.schema;
    // The product's groups replace what its skus had; a sku no longer its variant keeps none.
    await manager.query(`DELETE FROM "${s}"."modifier_group_info" WHERE tenant_id = $1 AND (product_id = $2 OR sku = ANY($3))`, [event.tenantId, productId, skus]);
    if (groups.length && skus.length) {
      await manager.query(
        `INSERT INTO "${s}"."modifier_group_info" (tenant_id, sku, product_id, groups) SELECT $1, sku, $2, $3::jsonb FROM unnest($4::text[]) AS v(sku)`,
        [event.tenantId, productId, JSON.stringify(groups), skus],
      );
    }
  }),
];

/** `availability_info`: the catalog's availability windows per (store, sku) (read model `orders.availability`). */
export const availabilityInfo: Reaction[] = [
  on('catalog.availability-windows.set', async (manager, event) => {
    const { productId, storeId, skus, timeZone, windows, fromStore } = event.payload;
    const s = manager.connection.driver.schema;
    await manager.query(`DELETE FROM "${s}"."availability_info" WHERE tenant_id = $1 AND store_id = $2 AND (product_id = $3 OR sku = ANY($4))`, [event.tenantId, storeId, productId, skus]);
    if (windows.length && skus.length) {
      await manager.query(
        `INSERT INTO "${s}"."availability_info" (tenant_id, store_id, sku, product_id, time_zone, windows, from_store)
         SELECT $1, $2, sku, $3, $4, $5::jsonb, $7 FROM unnest($6::text[]) AS v(sku)`,
        [event.tenantId, storeId, productId, timeZone, JSON.stringify(windows), skus, fromStore ?? false],
      );
    }
  }),
];

/** `price_info`: pricing's price of each sku per store (read model `orders.price-info`). */
export const priceInfo: Reaction[] = [
  on('pricing.price.changed', (manager, event) => applyPrices(manager, event.tenantId, [event.payload])),
  // Bulk work's batches (decision 0042): one statement per batch.
  on('pricing.prices.changed', (manager, event) => applyPrices(manager, event.tenantId, event.payload.changes)),
];

async function applyPrices(manager: EntityManager, tenantId: string, prices: PriceChangedPayload[]): Promise<void> {
  if (prices.length === 0) return;
  // One row per (sku, store), its newest version: ON CONFLICT cannot touch a row twice.
  const newest = new Map<string, PriceChangedPayload>();
  for (const p of prices) {
    const key = `${p.sku}@${p.storeId}`;
    if ((newest.get(key)?.version ?? -1) < p.version) newest.set(key, p);
  }
  const rows = [...newest.values()];
  // Events may arrive out of order: a lower version never overwrites a higher one.
  await manager.query(
    `INSERT INTO "${manager.connection.driver.schema}"."price_info" (tenant_id, sku, store_id, amount, currency_code, version)
     SELECT $1, sku, store_id, amount, currency_code, version FROM unnest($2::text[], $3::uuid[], $4::numeric[], $5::text[], $6::int[])
       AS p(sku, store_id, amount, currency_code, version)
     ON CONFLICT (tenant_id, sku, store_id) DO UPDATE
       SET amount = EXCLUDED.amount, currency_code = EXCLUDED.currency_code, version = EXCLUDED.version
       WHERE price_info.version < EXCLUDED.version`,
    [tenantId, rows.map((p) => p.sku), rows.map((p) => p.storeId), rows.map((p) => p.price.amount), rows.map((p) => p.price.currencyCode), rows.map((p) => p.version)],
  );
}

/**
 * Orders keeps its own copy of what it needs to price an order (titles, prices, stores), and
 * moves orders on inventory's answers in the order saga.
 */
export const ordersAppliers = (transitions: OrderTransitionsService): Record<string, EventApplier> =>
  reactions(
    on('inventory.reservation.confirmed', (m, event) =>
      transitions.bySaga(m, event.tenantId, event.payload.orderId, 'reservation.confirmed', `inventory event ${event.eventId}`)),
    on('inventory.reservation.rejected', (m, event) =>
      transitions.bySaga(m, event.tenantId, event.payload.orderId, 'reservation.rejected', `inventory event ${event.eventId}: insufficient stock`)),
    on('tenant.store.created', rememberStoreAndTimeZone),
    on('tenant.store.time-zone-set', rememberTimeZoneChange),
    ...variantInfo,
    ...priceInfo,
    ...modifierGroupInfo,
    ...availabilityInfo,
    on('tenant.feature-flag.changed', copyFeatureFlag),
  );
