import { formatMoney } from '../../../../lib/money.js';
import type { Resolvers } from '../generated/graphql.js';

export const resolvers: Resolvers = {
  Query: {
    order: (_root, { id }, ctx) => ctx.loaders.orderById.load(id),
    orders: (_root, args, ctx) => ctx.orders.orders(ctx, args),
  },
  Mutation: {
    placeOrder: (_root, { input }, ctx) => ctx.orders.placeOrder(ctx, input),
  },
  Order: {
    __resolveReference: (ref, ctx) => ctx.loaders.orderById.load(ref.id),
    store: (order) => ({ id: order.storeId }),
    lines: (order, _args, ctx) => ctx.loaders.linesByOrder.load(order.id),
    total: (order) => formatMoney(order.totalAmount, order.currencyCode.trim()),
    createdAt: (order) => order.createdAt.toISOString(),
  },
  OrderLine: {
    unitPrice: (line) => formatMoney(line.unitAmount, line.currencyCode.trim()),
    variant: (line) => ({ sku: line.sku }),
  },
};
