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
}
