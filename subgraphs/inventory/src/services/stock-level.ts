import type { StockChangedPayload, StockLevelView } from '../../../../lib/events/contracts/inventory.js';
import { isUuid } from '../../../../lib/graphql/context.js';
import { parseGlobalId, toGlobalId } from '../../../../lib/graphql/global-id.js';
import { isValidSku } from '../../../../lib/sku.js';
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
  id: stockLevelId(view.storeId, view.sku),
  ...view,
  store: { __typename: 'Store', id: view.storeId },
  variant: { __typename: 'Variant', sku: view.sku },
});

/** A stock level's `Node` id (decision 0026): `StockLevel:<storeId>:<sku>`. */
export const stockLevelId = (storeId: string, sku: string) => toGlobalId('StockLevel', storeId, sku);

/** The (store, sku) a `StockLevel` id names; null for any other id. */
export function stockLevelKey(id: string): { storeId: string; sku: string } | null {
  try {
    const { type, key } = parseGlobalId(id);
    return type === 'StockLevel' && isUuid(key[0]!) && isValidSku(key[1]!) ? { storeId: key[0]!, sku: key[1]! } : null;
  } catch {
    return null;
  }
}
