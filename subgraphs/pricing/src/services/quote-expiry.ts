import type { DataSource } from 'typeorm';
import { inSystemTransaction } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { releaseUses } from './rules.service.js';

/** How often the worker looks for expired claims: one indexed probe. */
export const QUOTE_EXPIRY_POLL_MS = 1_000;
const BATCH = 100;

/**
 * A claimed quote that no order took gives its coupon and promotion uses back when it expires.
 * A pass claims the due redemptions with FOR UPDATE SKIP LOCKED (several pricing processes share
 * the work; a use an order's event is marking kept is skipped, and the UPDATE re-checks
 * `ordered_at`), and releases each quote's uses once (`released_at IS NULL`).
 */
export async function releaseExpiredClaims(dataSource: DataSource, now = new Date()): Promise<number> {
  return inSystemTransaction(dataSource, async (m) => {
    const s = m.connection.driver.schema;
    const due: { tenant_id: string; quote_id: string }[] = await m.query(
      `SELECT tenant_id, quote_id FROM "${s}"."promotion_redemption"
        WHERE expires_at <= $1 AND released_at IS NULL AND ordered_at IS NULL
        ORDER BY expires_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
      [now],
    );
    const quotes = new Map(due.map((d) => [`${d.tenant_id}/${d.quote_id}`, d]));
    let released = 0;
    for (const { tenant_id, quote_id } of quotes.values()) released += await releaseUses(m, tenant_id, quote_id, true);
    return released;
  });
}

/** The expiry's background worker. */
export function quoteExpiryWorker(dataSource: DataSource, log: (message: string) => void = console.error) {
  return pollingWorker(
    async (isStopped) => {
      while (!isStopped() && (await releaseExpiredClaims(dataSource)) >= BATCH);
    },
    { pollMs: QUOTE_EXPIRY_POLL_MS, log, name: 'pricing quote expiry' },
  );
}
