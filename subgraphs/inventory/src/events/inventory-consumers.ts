import type { EventApplier } from '../../../../lib/events/consumer.js';
import { on, reactions } from '../../../../lib/events/on.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { rememberStore, rememberVariant, rememberVariants } from '../../../../lib/events/read-model.js';
import { setLevels } from '../services/set-levels.js';
import type { ReservationService } from '../services/reservation.service.js';
import { copyFeatureFlag } from '../../../../lib/flags/flag-copy.js';

/**
 * What inventory learns from other subgraphs (stores, skus) and its part of the order saga:
 * reserve a placed order's lines, sell them as they ship (or all when fulfilled), release them when cancelled.
 */
export function inventoryAppliers(reservations: ReservationService): Record<string, EventApplier> {
  return reactions(
    on('tenant.store.created', rememberStore),
    on('tenant.feature-flag.changed', copyFeatureFlag),
    on('catalog.variant.upserted', rememberVariant),
    on('catalog.variants.upserted', rememberVariants),
    // A feed's stock column: the level to set, through the ledger like any other change.
    on('catalog.feed.batch-imported', async (m, event) => {
      const { importId, stock } = event.payload;
      if (stock.length === 0) return;
      const refused = await setLevels(m, event.tenantId, stock, { counterAccount: 'external:feed', reference: `feed:${importId}`, sourceEventId: event.eventId });
      for (const r of refused) {
        console.error(`inventory: feed ${importId}: level ${r.level} of ${r.sku} in store ${r.storeId} is below the ${r.reserved} reserved; left unchanged`);
      }
      // The feed's import counts it: COMPLETED waits for its stock.
      await outboxOf('inventory')(m, event.tenantId, 'inventory.feed-batch.applied', { importId, applied: stock.length - refused.length, refused: refused.length });
    }),
    on('orders.order.placed', (m, event) => reservations.reserveOrder(m, event.tenantId, event.payload, event.eventId)),
    on('orders.order.fulfilled', (m, event) => reservations.closeOrder(m, event.tenantId, event.payload.id, 'COMMITTED')),
    on('orders.shipment.created', (m, event) => reservations.shipLines(m, event.tenantId, event.payload.orderId, event.payload.id, event.payload.lines)),
    on('orders.return.received', (m, event) =>
      event.payload.restock ? reservations.restock(m, event.tenantId, event.payload.storeId, event.payload.id, event.payload.lines) : Promise.resolve()),
    on('orders.order.cancelled', (m, event) => reservations.closeOrder(m, event.tenantId, event.payload.id, 'RELEASED')),
    // A fully refunded order ships nothing more: what it still holds goes back to available.
    on('orders.order.refunded', (m, event) => reservations.closeOrder(m, event.tenantId, event.payload.id, 'RELEASED')),
  );
}
