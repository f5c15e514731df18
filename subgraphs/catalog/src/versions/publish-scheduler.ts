import type { DataSource } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { ProductEntity } from '../data/entities/product.entity.js';
import { attributeChange, publishIn } from './product-versions.service.js';

export interface PublishSchedulerOptions {
  /** How often due drafts are looked for (default 1 s). */
  pollMs?: number;
  log?: (message: string) => void;
}

/** Drafts published per pass at most; the next pass takes the rest. */
const PASS = 100;

/**
 * Publishes drafts whose `publish_at` has come. The schedule is a row (`product_draft`), so a
 * restart loses nothing: the first pass after it publishes what fell due meanwhile. Each draft is
 * published in its tenant's transaction that re-reads it due and locked (`publishIn` deletes it),
 * so two schedulers, or a pass and a `publishProduct`, publish it once.
 */
export function createPublishScheduler(dataSource: DataSource, afterCommit: () => Promise<void>, options: PublishSchedulerOptions = {}) {
  const log = options.log ?? console.error;
  const s = dataSource.driver.schema;

  async function pass(isStopped: () => boolean): Promise<void> {
    const due: { tenant_id: string; product_id: string }[] = await inSystemTransaction(dataSource, (m) =>
      m.query(`SELECT tenant_id, product_id FROM "${s}".product_draft WHERE publish_at <= now() ORDER BY publish_at LIMIT ${PASS}`),
    );
    for (const { tenant_id: tenantId, product_id: productId } of due) {
      if (isStopped()) return;
      try {
        await inTenantTransaction(dataSource, tenantId, async (m) => {
          const [draft]: { scheduled_by: string | null }[] = await m.query(
            `SELECT scheduled_by FROM "${s}".product_draft WHERE product_id = $1 AND publish_at <= now() FOR UPDATE SKIP LOCKED`,
            [productId],
          );
          if (!draft) return;
          const product = await m.getRepository(ProductEntity).findOne({ where: { tenantId, id: productId }, lock: { mode: 'pessimistic_write' } });
          if (!product) return;
          await attributeChange(m, 'schedule', draft.scheduled_by ?? 'scheduler');
          await publishIn(m, tenantId, product);
        });
        await afterCommit();
      } catch (error) {
        // A draft that can no longer be published (its handle taken since) stays, unscheduled, for a person to fix.
        log(`publish scheduler: product ${productId} not published, its schedule dropped: ${error instanceof Error ? error.message : String(error)}`);
        await inTenantTransaction(dataSource, tenantId, (m) => m.query(`UPDATE "${s}".product_draft SET publish_at = NULL WHERE product_id = $1`, [productId]));
      }
    }
  }

  return pollingWorker(pass, { pollMs: options.pollMs ?? 1_000, log, name: 'publish scheduler' });
}
