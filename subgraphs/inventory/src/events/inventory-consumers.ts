import type { EventApplier } from '../../../../lib/events/consumer.js';
import { FEED_BATCH_IMPORTED, STOCK_FEED_BATCH_APPLIED, VARIANTS_UPSERTED, type FeedBatchApplied, type FeedBatchImported } from '../../../../lib/events/catalog-feed.js';
import { appendToOutbox } from '../../../../lib/events/outbox.js';
import { rememberStore, rememberVariant, rememberVariants } from '../../../../lib/events/read-model.js';
import { setLevels } from '../services/set-levels.js';
import type { ReservationService } from '../services/reservation.service.js';

type OrderEvent = { id: string; storeId: string; lines: { sku: string; quantity: number }[] };

/**
 * What inventory learns from other subgraphs (stores, skus) and its part of the order saga:
 * reserve a placed order's lines, sell them when it is fulfilled, release them when cancelled.
 */
export function inventoryAppliers(reservations: ReservationService): Record<string, EventApplier> {
  return {
    'tenant.store.created': rememberStore,
    'catalog.variant.upserted': rememberVariant,
    [VARIANTS_UPSERTED]: rememberVariants,
    // A feed's stock column: the level to set, through the ledger like any other change.
    [FEED_BATCH_IMPORTED]: async (m, event) => {
      const { importId, stock } = event.payload as FeedBatchImported;
      if (stock.length === 0) return;
      const refused = await setLevels(m, event.tenantId, stock, { counterAccount: 'external:feed', reference: `feed:${importId}`, sourceEventId: event.eventId });
      for (const r of refused) {
        console.error(`inventory: feed ${importId}: level ${r.level} of ${r.sku} in store ${r.storeId} is below the ${r.reserved} reserved; left unchanged`);
      }
      // The feed's import counts it: COMPLETED waits for its stock.
      const applied: FeedBatchApplied = { importId, applied: stock.length - refused.length, refused: refused.length };
      await appendToOutbox(m, { type: STOCK_FEED_BATCH_APPLIED, tenantId: event.tenantId, payload: applied });
    },
    'orders.order.placed': (m, event) => reservations.reserveOrder(m, event.tenantId, event.payload as OrderEvent, event.eventId),
    'orders.order.fulfilled': (m, event) => reservations.closeOrder(m, event.tenantId, (event.payload as OrderEvent).id, 'COMMITTED'),
    'orders.order.cancelled': (m, event) => reservations.closeOrder(m, event.tenantId, (event.payload as OrderEvent).id, 'RELEASED'),
  };
}
