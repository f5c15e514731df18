import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { MovementEntity } from './entities/movement.entity.js';
import { ReservationEntity } from './entities/reservation.entity.js';
import { StockLevelEntity } from './entities/stock-level.entity.js';
import { TransferEntity } from './entities/transfer.entity.js';
import { IngestionEventEntity } from './entities/ingestion-event.entity.js';
import { Ingestion1732700000000 } from './migrations/1732700000000-ingestion.js';
import { SourceTime1732906000000 } from './migrations/1732906000000-source-time.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';
import { ReservationsTransfers1732600000000 } from './migrations/1732600000000-reservations-transfers.js';
import { WooSource1738013000000 } from './migrations/1738013000000-woo-source.js';
import { AuditLog1740018000000 } from './migrations/1740018000000-audit-log.js';
import { FeatureFlagCopy1740018100000 } from './migrations/1740018100000-feature-flag-copy.js';

export function openInventoryDatabase(url: string, schema = 'inventory', poolSize?: number): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    poolSize,
    entities: [MovementEntity, StockLevelEntity, ReservationEntity, TransferEntity, IngestionEventEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, RowLevelSecurity1732500000000, ReservationsTransfers1732600000000, Ingestion1732700000000, SourceTime1732906000000, WooSource1738013000000, AuditLog1740018000000, FeatureFlagCopy1740018100000],
  });
}
