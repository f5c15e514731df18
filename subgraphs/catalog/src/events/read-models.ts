import { on } from '../../../../lib/events/on.js';
import { rememberStoreAndTimeZone, rememberTimeZoneChange } from '../../../../lib/events/read-model.js';
import type { ReadModel } from '../../../../lib/events/replay.js';
import { featureFlagCopyReadModel } from '../../../../lib/flags/flag-copy.js';
import { searchOffers } from '../services/search.service.js';
import { searchLanguage } from './search-language.js';
import { pairReactions, saleReactions } from '../recommendations/recommendation-consumers.js';

/** The catalog's read models (`npm run replay -- catalog`). */
export const catalogReadModels: ReadModel[] = [
  {
    name: 'catalog.known-stores',
    service: 'catalog',
    tables: ['known_store', 'store_time_zone'],
    description: "the tenant's stores, by which feeds name them (tenant.store.created), and their time zones, where menus' availability windows are evaluated (tenant.store.time-zone-set)",
    reactions: [on('tenant.store.created', rememberStoreAndTimeZone), on('tenant.store.time-zone-set', rememberTimeZoneChange)],
  },
  {
    name: 'catalog.search-offers',
    service: 'catalog',
    tables: ['search_variant_offer', 'search_offer'],
    description: "search's price and availability per sku and store, and per product (pricing.price.changed, inventory.stock-level.changed and their batches pricing.prices.changed, inventory.stock-levels.changed)",
    reactions: searchOffers,
  },
  {
    name: 'catalog.search-language',
    service: 'catalog',
    tables: ['search_language'],
    description: "the text search configuration whose stems search adds, from the tenant's locale (tenant.tenant.locale-set); a change re-indexes the tenant's search rows",
    reactions: searchLanguage,
  },
  {
    name: 'catalog.search-documents',
    service: 'catalog',
    tables: ['product_search_entry', 'search_term'],
    description: "search's row per product and the tenant's words, from the catalog's own products, variants and categories (not from events)",
    rebuild: async (m) => {
      const s = m.connection.driver.schema;
      const [{ n }] = await m.query(`SELECT count(*)::int AS n FROM "${s}".product`);
      await m.query(`SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product))`);
      return n;
    },
  },
  {
    name: 'catalog.recommendation-pairs',
    service: 'catalog',
    tables: ['recommendation_pair'],
    description: 'how many orders held each pair of products, both ways (orders.order.placed): frequently bought together',
    reactions: pairReactions,
  },
  {
    name: 'catalog.recommendation-sales',
    service: 'catalog',
    tables: ['recommendation_sale'],
    description: "units sold per sku, store and day from the ledger's SALE movements (inventory.stock-level.changed, inventory.stock-levels.changed): trending",
    reactions: saleReactions,
  },
  featureFlagCopyReadModel('catalog'),
];
