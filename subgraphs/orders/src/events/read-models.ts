import { on } from '../../../../lib/events/on.js';
import { rememberStoreAndTimeZone, rememberTimeZoneChange } from '../../../../lib/events/read-model.js';
import type { ReadModel } from '../../../../lib/events/replay.js';
import { featureFlagCopyReadModel } from '../../../../lib/flags/flag-copy.js';
import { availabilityInfo, modifierGroupInfo, priceInfo, variantInfo } from './orders-consumers.js';

/** What orders keeps only from others' events (`npm run replay -- orders`). */
export const ordersReadModels: ReadModel[] = [
  {
    name: 'orders.known-stores',
    service: 'orders',
    tables: ['known_store', 'store_time_zone'],
    description: "the tenant's stores (tenant.store.created), and their time zones, where menus' availability windows are evaluated (tenant.store.time-zone-set)",
    reactions: [on('tenant.store.created', rememberStoreAndTimeZone), on('tenant.store.time-zone-set', rememberTimeZoneChange)],
  },
  { name: 'orders.variant-info', service: 'orders', tables: ['variant_info'], description: "the catalog's sku and product titles, for order lines", reactions: variantInfo },
  { name: 'orders.price-info', service: 'orders', tables: ['price_info'], description: "pricing's price of each sku per store, newest version (pricing.price.changed, pricing.prices.changed)", reactions: priceInfo },
  { name: 'orders.modifier-groups', service: 'orders', tables: ['modifier_group_info'], description: "the catalog's modifier groups of each sku (menus), to check and price order lines", reactions: modifierGroupInfo },
  { name: 'orders.availability', service: 'orders', tables: ['availability_info'], description: "the catalog's availability windows per store and sku (menus), to refuse lines outside them", reactions: availabilityInfo },
  featureFlagCopyReadModel('orders'),
];
