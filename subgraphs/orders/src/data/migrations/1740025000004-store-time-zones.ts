import { storeTimeZonesMigration } from '../../../../../lib/db/store-time-zone.migration.js';

/** Stores' time zones for orders' copy of availability windows (lib/db/store-time-zone.migration.ts). */
export const StoreTimeZones1740025000004 = storeTimeZonesMigration('StoreTimeZones1740025000004', 'availability_info');
