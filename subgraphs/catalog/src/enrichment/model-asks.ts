import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, updatedRows } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';

/** Products one tenant may have waiting for the model at once (docs/limits.md): a feed beyond it is asked about its first ones only. */
export const MAX_MODEL_ASKS_PER_TENANT = 10_000;

/**
 * Queues products for the external model in the transaction that wrote them (a feed batch, a
 * merchant system's product): the worker takes them only once it has committed, and a rolled back
 * write queues nothing. Returns how many were queued (none past the tenant's bound).
 */
export async function queueModelAsks(m: EntityManager, tenantId: string, productIds: readonly string[]): Promise<number> {
  if (productIds.length === 0) return 0;
  const s = m.connection.driver.schema;
  const [counted]: { waiting: number }[] = await m.query(`SELECT count(*)::int AS waiting FROM "${s}"."enrichment_model_ask" WHERE tenant_id = $1`, [tenantId]);
  const room = MAX_MODEL_ASKS_PER_TENANT - (counted?.waiting ?? 0);
  if (room <= 0) return 0;
  const ids = productIds.slice(0, room);
  await m.query(
    `INSERT INTO "${s}"."enrichment_model_ask" (tenant_id, product_id) SELECT $1, id FROM unnest($2::uuid[]) AS t(id) ON CONFLICT DO NOTHING`,
    [tenantId, ids],
  );
  return ids.length;
}

export interface ModelAskWorkerOptions {
  /** How often queued asks are looked for (default 1 s); a feed batch wakes the worker at once. */
  pollMs?: number;
  /** Asks taken per pass (default 20). */
  batchSize?: number;
  /** Requests to the model at once (default 2): a model answers in seconds, a feed must not flood it. */
  concurrency?: number;
  log?: (message: string) => void;
}

/**
 * Asks the model about queued products, oldest first, a few at a time, outside any transaction
 * (`ask` opens its own). An ask is taken off the queue when claimed: a failed request is logged and
 * not retried (proposals are a convenience for reviewers, never needed for a product to be right).
 */
export function createModelAskWorker(dataSource: DataSource, ask: (tenantId: string, productId: string) => Promise<void>, options: ModelAskWorkerOptions = {}) {
  const batchSize = options.batchSize ?? 20;
  const concurrency = options.concurrency ?? 2;
  const log = options.log ?? console.error;
  const s = dataSource.driver.schema;

  async function drain(isStopped: () => boolean): Promise<void> {
    while (!isStopped()) {
      const claimed: { tenant_id: string; product_id: string }[] = updatedRows(
        await inSystemTransaction(dataSource, (m) =>
          m.query(
            `DELETE FROM "${s}"."enrichment_model_ask" WHERE (tenant_id, product_id) IN (
               SELECT tenant_id, product_id FROM "${s}"."enrichment_model_ask" ORDER BY queued_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING tenant_id, product_id`,
            [batchSize],
          ),
        ),
      );
      if (claimed.length === 0) return;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) {
            const { tenant_id, product_id } = claimed[next++]!;
            await ask(tenant_id, product_id).catch((error: unknown) => log(`enrichment model: product ${product_id}: ${(error as Error).message}`));
          }
        }),
      );
    }
  }

  return pollingWorker(drain, { pollMs: options.pollMs ?? 1_000, log, name: 'enrichment model worker' });
}
