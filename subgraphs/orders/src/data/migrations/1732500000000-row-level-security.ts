import { tenantIsolationMigration } from '../../../../../lib/db/row-level-security.migration.js';
import { EVENT_TABLES } from '../../../../../lib/events/event-tables.migration.js';

/** Every table of the orders subgraph holds tenant rows: isolation is the database's job too. */
export const RowLevelSecurity1732500000000 = tenantIsolationMigration('RowLevelSecurity1732500000000', [{ table: 'order' }, { table: 'order_line' }, { table: 'order_counter' }, { table: 'variant_info' }, { table: 'price_info' }, { table: 'known_store' }, { table: 'idempotency' }, ...EVENT_TABLES]);
