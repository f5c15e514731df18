import type { StockLevelEntity } from '../data/entities/stock-level.entity.js';

/** What clients and events see of a stock level. */
export interface StockLevelView {
  sku: string;
  storeId: string;
  onHand: number;
  reserved: number;
  available: number;
  orderable: number;
  /** Units shipped to this store and not yet received. */
  inTransit: number;
  version: number;
  updatedAt: string | null;
}

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

/**
 * `stockChanged`'s value as events carry it: the stock level with its store and variant as
 * entity references, so the gateway can resolve any selection of the field from the event alone.
 */
export type StockChangedPayload = StockLevelView & {
  __typename: 'StockLevel';
  store: { __typename: 'Store'; id: string };
  variant: { __typename: 'Variant'; sku: string };
};

export const toStockChangedPayload = (view: StockLevelView): StockChangedPayload => ({
  __typename: 'StockLevel',
  ...view,
  store: { __typename: 'Store', id: view.storeId },
  variant: { __typename: 'Variant', sku: view.sku },
});
