import { isValidSku, skuStoreKey } from '../../../../lib/sku.js';
import { parseGlobalId, toGlobalId, withKey } from '../../../../lib/graphql/global-id.js';
import type { Resolvers } from '../generated/graphql.js';
import { moneyOf } from '../services/pricing.service.js';
import { quoteView } from '../services/rules.service.js';

export const resolvers: Resolvers = {
  Query: {
    price: (_root, { sku, storeId }, ctx) => ctx.pricing.price(ctx, sku, storeId),
    priceChangedSnapshot: (_root, { storeId, skus }, ctx) => ctx.pricing.priceChangedSnapshot(ctx, storeId, skus),
    quote: async (_root, { input }, ctx) => quoteView(await ctx.rules.quote(ctx, input, false)),
    priceList: (_root, { id }, ctx) => ctx.rules.priceList(ctx, id),
    promotions: (_root, _args, ctx) => ctx.rules.promotions(ctx),
  },
  Mutation: {
    setPrice: (_root, { input }, ctx) => ctx.pricing.setPrice(ctx, input),
    configureStorePricing: (_root, { input }, ctx) => ctx.rules.configureStorePricing(ctx, input),
    createPriceList: (_root, { input }, ctx) => ctx.rules.createPriceList(ctx, input),
    setPriceListPrices: (_root, { input }, ctx) => ctx.rules.setPriceListPrices(ctx, input),
    createPromotion: (_root, { input }, ctx) => ctx.rules.createPromotion(ctx, input),
    setTaxRate: (_root, { input }, ctx) => ctx.rules.setTaxRate(ctx, input),
    claimQuote: async (_root, { input }, ctx) => quoteView(await ctx.rules.quote(ctx, input, true)),
  },
  Cart: {
    // The gateway brings `quoteRequest` from orders, which checked the caller may read the cart.
    __resolveReference: (ref) => ref,
    quote: async (cart, _args, ctx) => {
      if (!cart.quoteRequest) return null;
      const request = JSON.parse(cart.quoteRequest) as { storeId: string; lines: { sku: string; quantity: number }[]; couponCodes: string[] };
      return quoteView(await ctx.rules.quote(ctx, request, false));
    },
  },
  Variant: {
    __resolveReference: (ref) => ({ sku: ref.sku }),
    price: async (variant, { storeId }, ctx) => (await ctx.loaders.shownPrice.load(skuStoreKey(variant.sku, storeId)))?.price ?? null,
    compareAtPrice: async (variant, { storeId }, ctx) => (await ctx.loaders.shownPrice.load(skuStoreKey(variant.sku, storeId)))?.compareAt ?? null,
  },
  Modifier: {
    __resolveReference: (ref) => ({ sku: ref.sku }),
    price: async (modifier, { storeId }, ctx) => (await ctx.loaders.shownPrice.load(skuStoreKey(modifier.sku!, storeId)))?.price ?? null,
  },
  // Admin only, as `priceList(id:)` and `promotions`: `node(id:)` reaches them by reference, past those fields' scopes.
  PriceList: {
    __resolveReference: (ref, ctx) => (ctx.roles.includes('admin') ? withKey('PriceList', ref.id, ([id]) => ctx.rules.priceList(ctx, id)) : null),
    id: (list) => toGlobalId('PriceList', list.id!),
  },
  Promotion: {
    __resolveReference: (ref, ctx) => (ctx.roles.includes('admin') ? withKey('Promotion', ref.id, ([id]) => ctx.rules.promotion(ctx, id)) : null),
    id: (promotion) => toGlobalId('Promotion', promotion.id!),
  },
  Price: {
    // Decision 0026: `Price:<storeId>:<sku>`; an id naming nothing in this tenant is null.
    __resolveReference: (ref, ctx) => {
      const { type, key } = parseGlobalId(ref.id);
      return type === 'Price' && isValidSku(key[1]!) ? ctx.loaders.priceNode.load(skuStoreKey(key[1]!, key[0]!)) : null;
    },
    id: (price) => toGlobalId('Price', price.storeId, price.sku),
    variant: (price) => ({ sku: price.sku }),
    amount: (price) => moneyOf(price),
    updatedAt: (price) => price.updatedAt.toISOString(),
  },
};
