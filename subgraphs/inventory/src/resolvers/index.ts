import type { Resolvers } from '../generated/graphql.js';
import { stockKey } from '../services/inventory.service.js';

export const resolvers: Resolvers = {
  Query: {
    movements: (_root, args, ctx) => ctx.inventory.movements(ctx, args),
    stockChangedSnapshot: (_root, { storeId, skus }, ctx) => ctx.inventory.stockChangedSnapshot(ctx, storeId, skus),
  },
  Mutation: {
    receiveStock: (_root, { input }, ctx) => ctx.inventory.receiveStock(ctx, input),
    adjustStock: (_root, { input }, ctx) => ctx.inventory.adjustStock(ctx, input),
  },
  Variant: {
    __resolveReference: (ref) => ({ sku: ref.sku }),
    stock: (variant, { storeId }, ctx) => ctx.loaders.stock.load(stockKey(variant.sku, storeId)),
    stockLevels: (variant, _args, ctx) => ctx.loaders.stockLevelsBySku.load(variant.sku),
  },
  Store: {
    __resolveReference: (ref) => ({ id: ref.id }),
    inventory: (store, args, ctx) => ctx.inventory.storeInventory(ctx, store.id, args),
  },
  StockLevel: {
    store: (level) => ({ id: level.storeId }),
    variant: (level) => ({ sku: level.sku }),
  },
  InventoryMovement: {
    occurredAt: (movement) => movement.occurredAt.toISOString(),
  },
};
