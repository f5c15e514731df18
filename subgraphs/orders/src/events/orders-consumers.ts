import type { EventApplier } from '../../../../lib/events/consumer.js';
import { on, reactions } from '../../../../lib/events/on.js';
import { rememberStore } from '../../../../lib/events/read-model.js';
import type { OrderTransitionsService } from '../services/order-transitions.service.js';
import { copyFeatureFlag } from '../../../../lib/flags/flag-copy.js';

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
    on('tenant.store.created', rememberStore),
    on('tenant.feature-flag.changed', copyFeatureFlag),
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
    on('pricing.price.changed', async (manager, event) => {
      const p = event.payload;
      // Events may arrive out of order: a lower version never overwrites a higher one.
      await manager.query(
        `INSERT INTO "${manager.connection.driver.schema}"."price_info" (tenant_id, sku, store_id, amount, currency_code, version)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (tenant_id, sku, store_id) DO UPDATE
           SET amount = EXCLUDED.amount, currency_code = EXCLUDED.currency_code, version = EXCLUDED.version
           WHERE price_info.version < EXCLUDED.version`,
        [event.tenantId, p.sku, p.storeId, p.price.amount, p.price.currencyCode, p.version],
      );
    }),
  );
