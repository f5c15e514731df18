import { tenantIsolationMigration } from '../../../../../lib/db/row-level-security.migration.js';
import { EVENT_TABLES } from '../../../../../lib/events/event-tables.migration.js';

/** Every table of the pricing subgraph holds tenant rows: isolation is the database's job too. */
export const RowLevelSecurity1732500000000 = tenantIsolationMigration('RowLevelSecurity1732500000000', [{ table: 'price' }, { table: 'known_variant' }, { table: 'known_store' }, ...EVENT_TABLES]);
