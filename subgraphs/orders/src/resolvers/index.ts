import type { SignedQuote } from '../../../../lib/pricing/quote-token.js';
import { formatMoney } from '../../../../lib/money.js';
import { toGlobalId, withKey } from '../../../../lib/graphql/global-id.js';
import type { Resolvers } from '../generated/graphql.js';
import { orderHookResolvers } from './order-hooks.js';
import { cartQuoteRequest } from '../services/cart.service.js';

const orderQuoteView = (q: SignedQuote) => {
  const money = (amount: string) => ({ amount, currencyCode: q.currencyCode });
  return {
    id: q.id,
    lines: q.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: money(l.unitPrice), discount: money(l.discount), tax: money(l.tax), total: money(l.total) })),
    subtotal: money(q.subtotal),
    discountTotal: money(q.discountTotal),
    taxTotal: money(q.taxTotal),
    total: money(q.total),
    promotionIds: q.promotionIds.map((id) => toGlobalId('Promotion', id)),
  };
};

/** Who may read orders and their lines: `order(id:)`'s scopes. */
const readsOrders = (ctx: { roles: readonly string[] }) => ctx.roles.some((role) => role === 'pos' || role === 'admin' || role === 'customer');

/** The order of a shipment, return, payment or refund as the services answer them (`…View`, each with its `orderId`). */
const orderOf = (child: object) => (child as { orderId: string }).orderId;

/** The order `orderId` when the caller may read it (as `order(id:)`), else null. */
const readableOrder = async (ctx: Parameters<typeof readsOrders>[0] & { loaders: { orderById: { load(id: string): Promise<unknown> } } }, orderId: string) =>
  readsOrders(ctx) ? ctx.loaders.orderById.load(orderId) : null;

export const resolvers: Resolvers = {
  Query: {
    order: (_root, { id }, ctx) => ctx.loaders.orderById.load(id),
    orders: (_root, args, ctx) => ctx.orders.orders(ctx, args),
    orderUpdatedSnapshot: (_root, { orderId, storeId }, ctx) => ctx.transitions.orderUpdatedSnapshot(ctx, orderId, storeId),
    cart: (_root, { id }, ctx) => ctx.carts.cart(ctx, id),
    availableShippingMethods: (_root, { cartId }, ctx) => ctx.carts.availableShippingMethods(ctx, cartId),
    ...orderHookResolvers.Query,
  },
  Mutation: {
    placeOrder: (_root, { input }, ctx) => ctx.orders.placeOrder(ctx, input),
    payOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'pay'),
    fulfillOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'fulfil'),
    cancelOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'cancel'),
    ...orderHookResolvers.Mutation,
    createCart: (_root, { input }, ctx) => ctx.carts.createCart(ctx, input),
    addCartLines: (_root, { cartId, lines }, ctx) => ctx.carts.addLines(ctx, cartId, lines),
    updateCartLines: (_root, { cartId, lines }, ctx) => ctx.carts.updateLines(ctx, cartId, lines),
    removeCartLines: (_root, { cartId, skus }, ctx) => ctx.carts.removeLines(ctx, cartId, skus),
    applyCouponCode: (_root, { cartId, code }, ctx) => ctx.carts.applyCouponCode(ctx, cartId, code),
    removeCouponCode: (_root, { cartId, code }, ctx) => ctx.carts.removeCouponCode(ctx, cartId, code),
    setCartEmail: (_root, { cartId, email }, ctx) => ctx.carts.setEmail(ctx, cartId, email),
    setShippingAddress: (_root, { cartId, address }, ctx) => ctx.carts.setShippingAddress(ctx, cartId, address),
    setShippingMethod: (_root, { cartId, shippingMethodId }, ctx) => ctx.carts.setShippingMethod(ctx, cartId, shippingMethodId),
    mergeCart: (_root, { cartId }, ctx) => ctx.carts.mergeCart(ctx, cartId),
    createShippingMethod: (_root, { input }, ctx) => ctx.carts.createShippingMethod(ctx, input),
    checkout: (_root, { input }, ctx) => ctx.checkout.checkout(ctx, input),
    completePaymentAction: (_root, { input }, ctx) => ctx.payments.completeAction(ctx, input),
    capturePayment: (_root, { orderId }, ctx) => ctx.payments.capture(ctx, orderId),
    refundOrder: (_root, { input }, ctx) => ctx.payments.refund(ctx, input),
    createShipment: (_root, { input }, ctx) => ctx.shipments.createShipment(ctx, input),
    markReadyForPickup: (_root, { orderId }, ctx) => ctx.shipments.pickup(ctx, orderId, 'ready-for-pickup'),
    markPickedUp: (_root, { orderId }, ctx) => ctx.shipments.pickup(ctx, orderId, 'picked-up'),
    requestReturn: (_root, { input }, ctx) => ctx.returns.requestReturn(ctx, input),
    receiveReturn: (_root, { input }, ctx) => ctx.returns.receiveReturn(ctx, input),
    cancelReturn: (_root, { input }, ctx) => ctx.returns.cancelReturn(ctx, input),
    receivePaymentWebhook: (_root, { provider, eventId, body }, ctx) => ctx.payments.receiveWebhook(ctx, provider, eventId, body),
  },
  Cart: {
    // `cart(id:)`'s check: the id is the capability; row-level security hides a customer's cart from other customers.
    __resolveReference: (ref, ctx) => withKey('Cart', ref.id, ([id]) => ctx.carts.cart(ctx, id)),
    store: (cart) => ({ id: cart.storeId }),
    customer: (cart) => (cart.customerId ? { id: cart.customerId } : null),
    order: (cart, _args, ctx) => (cart.orderId ? ctx.loaders.orderById.load(cart.orderId) : null),
    quoteRequest: (cart) => cartQuoteRequest(cart),
  },
  CartLine: {
    __resolveReference: (ref, ctx) =>
      withKey('CartLine', ref.id, async ([cartId, key]) => {
        const line = cartLineOf(key);
        return (await ctx.carts.cart(ctx, cartId))?.lines.find((l) => cartLineKey(l.sku, l.modifiers.map((x) => x.sku)) === cartLineKey(line.sku, line.modifiers)) ?? null;
      }),
    id: (line) => toGlobalId('CartLine', line.cartId, cartLineKey(line.sku, line.modifiers.map((x) => x.sku))),
    variant: (line) => ({ sku: line.sku }),
  },
  Customer: {
    __resolveReference: (ref) => withKey('Customer', ref.id, ([id]) => ({ id })),
    id: (customer) => toGlobalId('Customer', customer.id!),
    orders: (customer, args, ctx) => ctx.orders.customerOrders(ctx, customer.id!, args),
  },
  ...orderHookResolvers.types,
  Order: {
    // Only `node(id:)` refers to an order from elsewhere: it reads what `order(id:)` may (pos, admin, a customer her own).
    __resolveReference: (ref, ctx) => (readsOrders(ctx) ? ctx.loaders.orderById.load(ref.id) : null),
    store: (order) => ({ id: order.storeId }),
    lines: (order, _args, ctx) => ctx.loaders.linesByOrder.load(order.id),
    total: (order) => formatMoney(order.totalAmount, order.currencyCode.trim()),
    createdAt: (order) => order.createdAt.toISOString(),
    history: (order, _args, ctx) => ctx.loaders.historyByOrder.load(order.id),
    quote: (order) => (order.quote ? orderQuoteView(order.quote) : null),
    customer: (order) => (order.customerId ? { id: order.customerId } : null),
    shippingAddress: (order) => (order.shippingAddress as never) ?? null,
    payments: (order, _args, ctx) => ctx.loaders.paymentsByOrder.load(order.id),
    shipments: (order, _args, ctx) => ctx.loaders.shipmentsByOrder.load(order.id),
    returns: (order, _args, ctx) => ctx.loaders.returnsByOrder.load(order.id),
    shipping: (order) => (order.shipping ? { methodId: order.shipping.methodId, name: order.shipping.name, kind: order.shipping.kind as never, price: formatMoney(order.shipping.amount, order.currencyCode.trim()) } : null),
  },
  // An order's shipments, returns, payments and refunds: keyed `<orderId>:<uuid>`, read as their
  // order (`order(id:)`'s readers, a customer her own through row-level security), else null.
  Shipment: {
    __resolveReference: (ref, ctx) => withKey('Shipment', ref.id, async ([orderId, id]) => ((await readableOrder(ctx, orderId)) ? ((await ctx.loaders.shipmentsByOrder.load(orderId)).find((s) => s.id === id) ?? null) : null)),
    id: (shipment) => toGlobalId('Shipment', orderOf(shipment), shipment.id!),
  },
  OrderReturn: {
    __resolveReference: (ref, ctx) => withKey('OrderReturn', ref.id, async ([orderId, id]) => ((await readableOrder(ctx, orderId)) ? ((await ctx.loaders.returnsByOrder.load(orderId)).find((r) => r.id === id) ?? null) : null)),
    id: (ret) => toGlobalId('OrderReturn', orderOf(ret), ret.id!),
  },
  Payment: {
    __resolveReference: (ref, ctx) => withKey('Payment', ref.id, async ([orderId, id]) => ((await readableOrder(ctx, orderId)) ? ((await ctx.loaders.paymentsByOrder.load(orderId)).find((p) => p.id === id) ?? null) : null)),
    id: (payment) => toGlobalId('Payment', orderOf(payment), payment.id!),
    refunds: (payment, _args, ctx) => ctx.loaders.refundsByPayment.load(payment.id!),
  },
  PaymentRefund: {
    __resolveReference: (ref, ctx) =>
      withKey('PaymentRefund', ref.id, async ([orderId, id]) => {
        if (!(await readableOrder(ctx, orderId))) return null;
        const payments = await ctx.loaders.paymentsByOrder.load(orderId);
        const refunds = await Promise.all(payments.map((p) => ctx.loaders.refundsByPayment.load(p.id)));
        return refunds.flat().find((r) => r.id === id) ?? null;
      }),
    id: (refund) => toGlobalId('PaymentRefund', orderOf(refund), refund.id!),
  },
  OrderLine: {
    // As its order: `order(id:)`'s readers, a customer her own (row-level security).
    __resolveReference: (ref, ctx) =>
      withKey('OrderLine', ref.id, async ([orderId, lineNo]) =>
        readsOrders(ctx) && (await ctx.loaders.orderById.load(orderId)) ? ((await ctx.loaders.linesByOrder.load(orderId)).find((l) => String(l.lineNo) === lineNo) ?? null) : null,
      ),
    id: (line) => toGlobalId('OrderLine', line.orderId, String(line.lineNo)),
    unitPrice: (line) => formatMoney(line.unitAmount, line.currencyCode.trim()),
    variant: (line) => ({ sku: line.sku }),
    modifiers: (line) => line.modifiers.map((m) => ({ sku: m.sku, name: m.name, unitPrice: formatMoney(m.amount, line.currencyCode.trim()) })),
  },
};

/**
 * A cart line's part of its id: its sku, or with modifiers (one sku may be on several lines) the
 * JSON array of the sku and its sorted modifier skus.
 */
function cartLineKey(sku: string, modifiers: readonly string[]): string {
  return modifiers.length === 0 ? sku : JSON.stringify([sku, ...[...modifiers].sort()]);
}

function cartLineOf(key: string): { sku: string; modifiers: string[] } {
  if (key.startsWith('["')) {
    try {
      const parts: unknown = JSON.parse(key);
      if (Array.isArray(parts) && parts.length > 1 && parts.every((p) => typeof p === 'string')) return { sku: parts[0] as string, modifiers: parts.slice(1) as string[] };
    } catch {
      // a sku that merely starts like one
    }
  }
  return { sku: key, modifiers: [] };
}
