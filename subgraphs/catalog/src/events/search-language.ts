import { on, type Reaction } from '../../../../lib/events/on.js';
import { stemmerOf } from '../../../../lib/search-language.js';
import { announceSearchChange } from '../services/search.service.js';

/**
 * The tenant's locale (`tenant.tenant.locale-set`) as the text search configuration whose stems
 * search adds (read model `catalog.search-language`). A change re-indexes the tenant's search rows
 * in the event's transaction, so search never mixes two languages' stems; a locale without a
 * stemmer removes them. At 100,000 products the re-index is one statement of about a minute on
 * this 2-core machine (the whole catalog's documents are rebuilt), done once per change.
 */
export const searchLanguage: Reaction[] = [
  on('tenant.tenant.locale-set', async (m, event) => {
    const s = m.connection.driver.schema;
    const config = stemmerOf(event.payload.locale);
    const [current] = (await m.query(`SELECT config::text AS config FROM "${s}".search_language WHERE tenant_id = $1`, [event.tenantId])) as { config: string }[];
    if ((current?.config ?? null) === config) return;
    if (config) {
      await m.query(
        `INSERT INTO "${s}".search_language (tenant_id, config) VALUES ($1, $2::regconfig) ON CONFLICT (tenant_id) DO UPDATE SET config = EXCLUDED.config`,
        [event.tenantId, config],
      );
    } else {
      await m.query(`DELETE FROM "${s}".search_language WHERE tenant_id = $1`, [event.tenantId]);
    }
    await m.query(`SELECT "${s}".refresh_product_search(ARRAY(SELECT id FROM "${s}".product WHERE tenant_id = $1))`, [event.tenantId]);
    await announceSearchChange(m, event);
  }),
];
