import type { StockChangedPayload, StockLevelView } from '../../../../lib/events/contracts/inventory.js';
import type { StockLevelEntity } from '../data/entities/stock-level.entity.js';

export type { StockChangedPayload, StockLevelView };

export function toStockLevelView(
  row: Pick<StockLevelEntity, 'sku' | 'storeId' | 'onHand' | 'reserved' | 'version' | 'updatedAt'> & { inTransit?: number },
): StockLevelView {
  const available = row.onHand - row.reserved;
  return {
    sku: row.sku,
    storeId: row.storeId,
    onHand: row.onHand,
    reserved: row.reserved,
    available,
    orderable: Math.max(available, 0),
    inTransit: row.inTransit ?? 0,
    version: row.version,
    updatedAt: row.updatedAt ? new Date(row.updatedAt).toISOString() : null,
  };
}

export const emptyStockLevel = (sku: string, storeId: string): StockLevelView =>
  toStockLevelView({ sku, storeId, onHand: 0, reserved: 0, inTransit: 0, version: 0, updatedAt: null });

export const toStockChangedPayload = (view: StockLevelView): StockChangedPayload => ({
  __typename: 'StockLevel',
  ...view,
  store: { __typename: 'Store', id: view.storeId },
  variant: { __typename: 'Variant', sku: view.sku },
});
