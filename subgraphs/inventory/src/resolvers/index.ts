import { skuStoreKey } from '../../../../lib/sku.js';
import { stockLevelId, stockLevelKey } from '../services/stock-level.js';
import type { Resolvers } from '../generated/graphql.js';
import { requireRole } from '../../../../lib/graphql/roles.js';
import { toGlobalId, withKey } from '../../../../lib/graphql/global-id.js';

const isStaff = (ctx: { roles: readonly string[] }) => ctx.roles.some((role) => role === 'pos' || role === 'admin');

export const resolvers: Resolvers = {
  Query: {
    reservation: async (_root, { id }, ctx) => (await ctx.reservations.reservationsByIds(ctx, [id]))[0] ?? null,
    movements: (_root, args, ctx) => ctx.inventory.movements(ctx, args),
    stockChangedSnapshot: (_root, { storeId, skus }, ctx) => ctx.inventory.stockChangedSnapshot(ctx, storeId, skus),
    ingestionEvents: (_root, args, ctx) => ctx.ingestion.events(ctx, args),
    ingestionEvent: (_root, { id }, ctx) => ctx.ingestion.event(ctx, id),
    externalMappings: (_root, { source }, ctx) => ctx.ingestion.mappings(ctx, source) as never,
  },
  Mutation: {
    reserveStock: (_root, { input }, ctx) => ctx.reservations.reserve(ctx, input),
    releaseReservation: (_root, { id }, ctx) => ctx.reservations.release(ctx, id),
    commitReservation: (_root, { id }, ctx) => ctx.reservations.commit(ctx, id),
    transferStock: (_root, { input }, ctx) => ctx.transfers.transfer(ctx, input),
    receiveTransfer: (_root, { id }, ctx) => ctx.transfers.receiveTransfer(ctx, id),
    rebuildStockLevels: (_root, _args, ctx) => {
      requireRole(ctx, 'platform');
      return ctx.rebuild();
    },
    receiveStock: (_root, { input }, ctx) => ctx.inventory.receiveStock(ctx, input),
    adjustStock: (_root, { input }, ctx) => ctx.inventory.adjustStock(ctx, input),
    mapExternalSku: (_root, { input }, ctx) => ctx.ingestion.mapSku(ctx, input),
    mapExternalLocation: (_root, { input }, ctx) => ctx.ingestion.mapLocation(ctx, input),
    retryIngestionEvent: (_root, { id }, ctx) => ctx.ingestion.retry(ctx, id),
    receiveWebhook: (_root, args, ctx) => ctx.ingestion.receive(ctx, args),
  },
  Variant: {
    __resolveReference: (ref) => ({ sku: ref.sku }),
    stock: (variant, { storeId }, ctx) => ctx.loaders.stock.load(skuStoreKey(variant.sku, storeId)),
    stockLevels: (variant, _args, ctx) => ctx.loaders.stockLevelsBySku.load(variant.sku),
  },
  Store: {
    __resolveReference: (ref) => ({ id: ref.id }),
    inventory: (store, args, ctx) => ctx.inventory.storeInventory(ctx, store.id, args),
  },
  StockLevel: {
    // An id that names nothing here (another tenant's store, a sku it lacks) is null, not an error.
    __resolveReference: async (ref, ctx) => {
      const key = stockLevelKey(ref.id);
      return key ? ctx.loaders.stockLevelNode.load(skuStoreKey(key.sku, key.storeId)) : null;
    },
    id: (level) => stockLevelId(level.storeId!, level.sku!),
    store: (level) => ({ id: level.storeId }),
    variant: (level) => ({ sku: level.sku }),
  },
  // Staff only (pos, admin), as `reservation(id:)` and the transfer mutations: `node(id:)` reaches them by reference.
  Reservation: {
    __resolveReference: (ref, ctx) => (isStaff(ctx) ? withKey('Reservation', ref.id, async ([id]) => (await ctx.reservations.reservationsByIds(ctx, [id]))[0] ?? null) : null),
    id: (reservation) => toGlobalId('Reservation', reservation.id!),
    stockLevel: (reservation, _args, ctx) => ctx.loaders.stock.load(skuStoreKey(reservation.sku, reservation.storeId)),
    expiresAt: (reservation) => reservation.expiresAt?.toISOString() ?? null,
  },
  Transfer: {
    __resolveReference: (ref, ctx) => (isStaff(ctx) ? withKey('Transfer', ref.id, ([id]) => ctx.transfers.transferById(ctx, id)) : null),
    id: (transfer) => toGlobalId('Transfer', transfer.id!),
    fromStockLevel: (transfer, _args, ctx) => ctx.loaders.stock.load(skuStoreKey(transfer.sku, transfer.fromStoreId)),
    toStockLevel: (transfer, _args, ctx) => ctx.loaders.stock.load(skuStoreKey(transfer.sku, transfer.toStoreId)),
  },
  IngestionEvent: {
    receivedAt: (event) => event.receivedAt.toISOString(),
    nextAttemptAt: (event) => event.nextAttemptAt?.toISOString() ?? null,
    appliedAt: (event) => event.appliedAt?.toISOString() ?? null,
    sourceTime: (event) => event.sourceTime?.toISOString() ?? null,
  },
  InventoryMovement: {
    occurredAt: (movement) => movement.occurredAt.toISOString(),
  },
};
