import type { Client } from '@openfeature/server-sdk';
import type DataLoader from 'dataloader';
import type { SubgraphContext } from '../../../lib/graphql/service.js';
import type { IngestionService } from './ingestion/ingestion.service.js';
import type { InventoryService } from './services/inventory.service.js';
import type { RebuildReport } from './services/projection-rebuild.js';
import type { ReservationService } from './services/reservation.service.js';
import type { StockLevelView } from './services/stock-level.js';
import type { TransferService } from './services/transfer.service.js';

export interface Context extends SubgraphContext {
  /** The tenant's feature flags (OpenFeature; docs/flags.md). */
  flags: Client;
  inventory: InventoryService;
  reservations: ReservationService;
  transfers: TransferService;
  ingestion: IngestionService;
  rebuild: () => Promise<RebuildReport>;
  loaders: {
    /** Key: `skuStoreKey(sku, storeId)`. */
    stock: DataLoader<string, StockLevelView>;
    stockLevelsBySku: DataLoader<string, StockLevelView[]>;
    /** Key: `skuStoreKey(sku, storeId)` of a `StockLevel` id; null where the tenant lacks the store or sku. */
    stockLevelNode: DataLoader<string, StockLevelView | null>;
  };
}
