import type { SignedQuote } from '../../../../lib/pricing/quote-token.js';
import { formatMoney } from '../../../../lib/money.js';
import type { Resolvers } from '../generated/graphql.js';
import { orderHookResolvers } from './order-hooks.js';

const orderQuoteView = (q: SignedQuote) => {
  const money = (amount: string) => ({ amount, currencyCode: q.currencyCode });
  return {
    id: q.id,
    lines: q.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: money(l.unitPrice), discount: money(l.discount), tax: money(l.tax), total: money(l.total) })),
    subtotal: money(q.subtotal),
    discountTotal: money(q.discountTotal),
    taxTotal: money(q.taxTotal),
    total: money(q.total),
    promotionIds: q.promotionIds,
  };
};

export const resolvers: Resolvers = {
  Query: {
    order: (_root, { id }, ctx) => ctx.loaders.orderById.load(id),
    orders: (_root, args, ctx) => ctx.orders.orders(ctx, args),
    orderUpdatedSnapshot: (_root, { orderId, storeId }, ctx) => ctx.transitions.orderUpdatedSnapshot(ctx, orderId, storeId),
    ...orderHookResolvers.Query,
  },
  Mutation: {
    placeOrder: (_root, { input }, ctx) => ctx.orders.placeOrder(ctx, input),
    payOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'pay'),
    fulfillOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'fulfil'),
    cancelOrder: (_root, { id }, ctx) => ctx.transitions.byClient(ctx, id, 'cancel'),
    ...orderHookResolvers.Mutation,
  },
  ...orderHookResolvers.types,
  Order: {
    __resolveReference: (ref, ctx) => ctx.loaders.orderById.load(ref.id),
    store: (order) => ({ id: order.storeId }),
    lines: (order, _args, ctx) => ctx.loaders.linesByOrder.load(order.id),
    total: (order) => formatMoney(order.totalAmount, order.currencyCode.trim()),
    createdAt: (order) => order.createdAt.toISOString(),
    history: (order, _args, ctx) => ctx.loaders.historyByOrder.load(order.id),
    quote: (order) => (order.quote ? orderQuoteView(order.quote) : null),
  },
  OrderLine: {
    unitPrice: (line) => formatMoney(line.unitAmount, line.currencyCode.trim()),
    variant: (line) => ({ sku: line.sku }),
  },
};
