import type { Client } from '@openfeature/server-sdk';
import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { OrderLineEntity } from './data/entities/order-line.entity.js';
import type { OrderEntity } from './data/entities/order.entity.js';
import type { HistoryEntry, OrderTransitionsService } from './services/order-transitions.service.js';
import type { OrdersService } from './services/orders.service.js';
import type { CartService } from './services/cart.service.js';
import type { CheckoutService } from './services/checkout.service.js';
import type { OrderHooksService } from './hooks/order-hooks.service.js';
import type { PaymentService, PaymentView, RefundView } from './services/payment.service.js';
import type { ShipmentService, ShipmentView } from './services/shipment.service.js';
import type { ReturnService, ReturnView } from './services/return.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  orders: OrdersService;
  transitions: OrderTransitionsService;
  carts: CartService;
  checkout: CheckoutService;
  payments: PaymentService;
  shipments: ShipmentService;
  returns: ReturnService;
  orderHooks: OrderHooksService;
  loaders: {
    orderById: DataLoader<string, OrderEntity | null>;
    linesByOrder: DataLoader<string, OrderLineEntity[]>;
    historyByOrder: DataLoader<string, HistoryEntry[]>;
    paymentsByOrder: DataLoader<string, PaymentView[]>;
    refundsByPayment: DataLoader<string, RefundView[]>;
    shipmentsByOrder: DataLoader<string, ShipmentView[]>;
    returnsByOrder: DataLoader<string, ReturnView[]>;
  };
}
