import type { Resolvers } from '../generated/graphql.js';

export const resolvers: Resolvers = {
  Query: {
    tenant: (_root, _args, ctx) => ctx.tenants.current(ctx),
    stores: (_root, _args, ctx) => ctx.tenants.stores(ctx),
    store: (_root, { id }, ctx) => ctx.tenants.store(ctx, id),
    resolveTenant: (_root, args, ctx) => ctx.tenants.resolve(args),
  },
  Tenant: {
    __resolveReference: async (ref, ctx) => {
      const tenant = await ctx.tenants.current(ctx);
      return tenant.id === ref.id ? tenant : null;
    },
    stores: (_tenant, _args, ctx) => ctx.tenants.stores(ctx),
  },
  Store: {
    __resolveReference: (ref, ctx) => ctx.storeById.load(ref.id),
  },
};
