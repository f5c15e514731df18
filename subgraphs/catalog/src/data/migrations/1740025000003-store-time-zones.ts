import { storeTimeZonesMigration } from '../../../../../lib/db/store-time-zone.migration.js';

/** Stores' time zones for the catalog's availability windows (lib/db/store-time-zone.migration.ts). */
export const StoreTimeZones1740025000003 = storeTimeZonesMigration('StoreTimeZones1740025000003', 'availability_window');
