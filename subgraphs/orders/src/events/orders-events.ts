import type { Money } from '../../../../lib/money.js';

/** Events the orders subgraph publishes, by type. */
export interface OrdersEvents {
  'orders.order.placed': {
    id: string;
    number: number;
    storeId: string;
    lines: { sku: string; quantity: number; unitPrice: Money }[];
    total: Money;
  };
  'orders.order.paid': { id: string; storeId: string };
  /** Inventory commits the order's reservations as sales. */
  'orders.order.fulfilled': { id: string; storeId: string };
  /** Inventory releases the order's reservations. */
  'orders.order.cancelled': { id: string; storeId: string };
  /** Every step of every order: also the payload of the `orderUpdated` subscription. */
  'orders.order.updated': {
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
    /** The pricing quote the order was charged from (issue 16). */
    quoteId: string | null;
  };
}
