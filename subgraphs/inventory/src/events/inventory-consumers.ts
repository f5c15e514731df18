import type { EventApplier } from '../../../../lib/events/consumer.js';
import { rememberStore, rememberVariant } from '../../../../lib/events/read-model.js';
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
    'orders.order.placed': (m, event) => reservations.reserveOrder(m, event.tenantId, event.payload as OrderEvent, event.eventId),
    'orders.order.fulfilled': (m, event) => reservations.closeOrder(m, event.tenantId, (event.payload as OrderEvent).id, 'COMMITTED'),
    'orders.order.cancelled': (m, event) => reservations.closeOrder(m, event.tenantId, (event.payload as OrderEvent).id, 'RELEASED'),
  };
}
