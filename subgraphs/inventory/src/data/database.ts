import type { DataSource } from 'typeorm';
import { openServiceDatabase } from '../../../../lib/db/data-source.js';
import { OutboxEvent } from '../../../../lib/events/outbox-event.entity.js';
import { ProcessedEvent } from '../../../../lib/events/processed-event.entity.js';
import { MovementEntity } from './entities/movement.entity.js';
import { StockLevelEntity } from './entities/stock-level.entity.js';
import { Initial1732300000000 } from './migrations/1732300000000-initial.js';
import { RowLevelSecurity1732500000000 } from './migrations/1732500000000-row-level-security.js';

export function openInventoryDatabase(url: string, schema = 'inventory'): Promise<DataSource> {
  return openServiceDatabase({
    url,
    schema,
    entities: [MovementEntity, StockLevelEntity, OutboxEvent, ProcessedEvent],
    migrations: [Initial1732300000000, RowLevelSecurity1732500000000],
  });
}
