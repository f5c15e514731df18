import type { Resolvers } from '../generated/graphql.js';
import { moneyOf, priceKey } from '../services/pricing.service.js';

export const resolvers: Resolvers = {
  Query: {
    price: (_root, { sku, storeId }, ctx) => ctx.pricing.price(ctx, sku, storeId),
    priceChangedSnapshot: (_root, { storeId, skus }, ctx) => ctx.pricing.priceChangedSnapshot(ctx, storeId, skus),
  },
  Mutation: {
    setPrice: (_root, { input }, ctx) => ctx.pricing.setPrice(ctx, input),
  },
  Variant: {
    __resolveReference: (ref) => ({ sku: ref.sku }),
    price: (variant, { storeId }, ctx) => ctx.loaders.price.load(priceKey(variant.sku, storeId)),
  },
  Price: {
    amount: (price) => moneyOf(price),
    updatedAt: (price) => price.updatedAt.toISOString(),
  },
};
