import { onEachChange } from '../../../../lib/events/batch-events.js';
import { on, type Reaction } from '../../../../lib/events/on.js';

/** Most products of one order that are paired (an order of 200 lines would make 40,000 pairs). */
const MAX_PAIRED_PRODUCTS = 50;

/**
 * Products bought together (read model `catalog.recommendation-pairs`): each placed order adds one
 * to every pair of its products, both ways. Its skus are mapped to products by the catalog's own
 * variants; a sku the catalog does not know is left out. Never reads orders' tables.
 */
export const pairReactions: Reaction[] = [
  on('orders.order.placed', async (m, event) => {
    const s = m.connection.driver.schema;
    const skus = [...new Set(event.payload.lines.map((line) => line.sku))];
    const rows: { product_id: string }[] = await m.query(
      `SELECT DISTINCT product_id FROM "${s}".variant WHERE tenant_id = $1 AND sku = ANY($2) ORDER BY product_id LIMIT ${MAX_PAIRED_PRODUCTS}`,
      [event.tenantId, skus],
    );
    if (rows.length < 2) return;
    await m.query(
      `INSERT INTO "${s}".recommendation_pair AS r (tenant_id, product_id, other_id, orders)
       SELECT $1, a, b, 1 FROM unnest($2::uuid[]) a, unnest($2::uuid[]) b WHERE a <> b
       ON CONFLICT (tenant_id, product_id, other_id) DO UPDATE SET orders = r.orders + 1`,
      [event.tenantId, rows.map((r) => r.product_id)],
    );
  }),
];

/**
 * Units sold per sku, store and day (read model `catalog.recommendation-sales`): inventory's SALE
 * movements, as its stock-level events tell them, dated by the event (UTC).
 */
export const saleReactions: Reaction[] = [
  // A feed's batch of levels is ADJUSTMENTs, never SALEs; its changes are looked at all the same.
  ...onEachChange('inventory.stock-level.changed', async (m, event) => {
    const { kind, quantity, sku, storeId } = event.payload;
    if (kind !== 'SALE' || !quantity) return;
    await m.query(
      `INSERT INTO "${m.connection.driver.schema}".recommendation_sale AS x (tenant_id, store_id, sku, day, units)
       VALUES ($1, $2, $3, ($4::timestamptz AT TIME ZONE 'UTC')::date, $5)
       ON CONFLICT (tenant_id, store_id, day, sku) DO UPDATE SET units = x.units + EXCLUDED.units`,
      [event.tenantId, storeId, sku, event.occurredAt, Math.abs(quantity)],
    );
  }),
];
