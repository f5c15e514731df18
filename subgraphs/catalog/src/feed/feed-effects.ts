import type { EntityManager } from 'typeorm';
import type { FeedBatchApplied } from '../../../../lib/events/catalog-feed.js';
import type { TypedEvent } from '../../../../lib/events/event-map.js';
import { on } from '../../../../lib/events/on.js';

/**
 * The status of an import whose catalog part is done: COMPLETED once pricing and inventory have
 * applied every price and stock row it sent them, PROPAGATING until then. Re-evaluated on the row
 * as it is when updated, so the worker's last batch and the services' answers can come in any order.
 */
const SETTLED = `prices_applied >= prices_expected AND stock_applied + stock_refused >= stock_expected`;
export const FEED_SETTLED_STATUS = `CASE WHEN ${SETTLED} THEN 'COMPLETED' ELSE 'PROPAGATING' END`;

/** Counts what pricing and inventory say they applied of a feed; the last answer completes the import. */
const counting =
  (applied: 'prices_applied' | 'stock_applied') =>
  async (m: EntityManager, event: TypedEvent<'pricing.feed-batch.applied' | 'inventory.feed-batch.applied'>) => {
    const { importId, applied: rows, refused }: FeedBatchApplied = event.payload;
    const s = m.connection.driver.schema;
    await m.query(`UPDATE "${s}"."feed_import" SET ${applied} = ${applied} + $3, stock_refused = stock_refused + $4 WHERE tenant_id = $1 AND id = $2`, [
      event.tenantId,
      importId,
      rows,
      refused,
    ]);
    // The row is locked by the update above: the worker's last batch waits, then sees these counts.
    await m.query(
      `UPDATE "${s}"."feed_import" SET status = 'COMPLETED', finished_at = now() WHERE tenant_id = $1 AND id = $2 AND status = 'PROPAGATING' AND ${SETTLED}`,
      [event.tenantId, importId],
    );
  };

export const feedEffectReactions = [on('pricing.feed-batch.applied', counting('prices_applied')), on('inventory.feed-batch.applied', counting('stock_applied'))];
