import type { Money } from '../../money.js';

/** The order saga's start and its client-driven steps: who, where, what. */
export interface OrderRef {
  id: string;
  storeId: string;
}

/** `orderUpdated`'s value as events carry it, store and variants as entity references. */
export interface OrderUpdatedPayload {
  __typename: 'Order';
  id: string;
  number: number;
  status: string;
  storeId: string;
  store: { __typename: 'Store'; id: string };
  lines: { sku: string; quantity: number; unitPrice: Money; title: string | null; variant: { __typename: 'Variant'; sku: string } }[];
  total: Money;
  createdAt: string;
  workflowVersion: number;
  version: number;
  history: { from: string | null; to: string; event: string; at: string; cause: string | null }[];
  /** The pricing quote the order was charged from. */
  quoteId: string | null;
}

/** Events the orders subgraph publishes, by type (payloads; versions in `../event-map.ts`). */
export interface OrdersEvents {
  /** Inventory reserves the lines (the order saga). */
  'orders.order.placed': OrderRef & {
    number: number;
    lines: { sku: string; quantity: number; unitPrice: Money }[];
    total: Money;
  };
  'orders.order.paid': OrderRef;
  /** Inventory commits the order's reservations as sales. */
  'orders.order.fulfilled': OrderRef;
  /** Inventory releases the order's reservations. */
  'orders.order.cancelled': OrderRef;
  /**
   * Fully refunded (workflow v3): nothing more of it will ship, so inventory releases what the
   * order still holds (nothing, when everything shipped).
   */
  'orders.order.refunded': OrderRef;
  /** Part (or the rest) of an order left in a parcel: inventory sells each line out of its reservation. */
  'orders.shipment.created': {
    id: string;
    orderId: string;
    storeId: string;
    lines: { sku: string; quantity: number }[];
    carrier: string;
    trackingNumber: string;
  };
  /** A return arrived; with `restock`, inventory puts its lines back on hand (RETURN movements). */
  'orders.return.received': {
    id: string;
    orderId: string;
    storeId: string;
    lines: { sku: string; quantity: number }[];
    restock: boolean;
  };
  /** Every step of every order: also the payload of the `orderUpdated` subscription. */
  'orders.order.updated': OrderUpdatedPayload;
}
