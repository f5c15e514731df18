import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, updatedRows } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';

/** Products one tenant may have waiting for the model at once (docs/limits.md): a feed beyond it is asked about its first ones only. */
export const MAX_MODEL_ASKS_PER_TENANT = 10_000;

/**
 * Queues products for the external model in the transaction that wrote them (`upsertProduct`, a
 * feed batch, a merchant system's product or menu): the worker takes them only once it has
 * committed, and a rolled back write queues nothing. A product already waiting is asked about
 * afresh (its tries start over). Returns how many were queued (none past the tenant's bound).
 */
export async function queueModelAsks(m: EntityManager, tenantId: string, productIds: readonly string[]): Promise<number> {
  if (productIds.length === 0) return 0;
  const s = m.connection.driver.schema;
  const [counted]: { waiting: number }[] = await m.query(`SELECT count(*)::int AS waiting FROM "${s}"."enrichment_model_ask" WHERE tenant_id = $1`, [tenantId]);
  const room = MAX_MODEL_ASKS_PER_TENANT - (counted?.waiting ?? 0);
  if (room <= 0) return 0;
  const ids = productIds.slice(0, room);
  await m.query(
    `INSERT INTO "${s}"."enrichment_model_ask" (tenant_id, product_id) SELECT $1, id FROM unnest($2::uuid[]) AS t(id)
     ON CONFLICT (tenant_id, product_id) DO UPDATE SET queued_at = now(), attempts = 0, due_at = now()`,
    [tenantId, ids],
  );
  return ids.length;
}

export interface ModelAskWorkerOptions {
  /** How often queued asks are looked for (default 1 s); a write that queues one wakes the worker at once. */
  pollMs?: number;
  /** Asks taken per pass (default 20). */
  batchSize?: number;
  /** Requests to the model at once (default 2): a model answers in seconds, a feed must not flood it. */
  concurrency?: number;
  /** Wait before the first retry of a failed ask (default 30 s), doubled at each further one. */
  retryMs?: number;
  /** Tries before an ask is given up (default 5, logged). */
  maxAttempts?: number;
  /** How long a taken ask is left to its worker (default 60 s; longer than a request may take): a process killed while asking leaves it to be taken again after it. */
  leaseMs?: number;
  log?: (message: string) => void;
}

/**
 * Asks the model about queued products, oldest first, a few at a time, outside any transaction
 * (`ask` opens its own). An ask stays queued until the model has answered: taking it leases it
 * (replicas skip it), an answer deletes it, a failure makes it due again after `retryMs`, doubled
 * at each try, until `maxAttempts`, and a worker killed mid-request leaves it to the next after
 * the lease. Proposals are a convenience for reviewers, so giving up is logged, not raised.
 */
export function createModelAskWorker(dataSource: DataSource, ask: (tenantId: string, productId: string) => Promise<void>, options: ModelAskWorkerOptions = {}) {
  const batchSize = options.batchSize ?? 20;
  const concurrency = options.concurrency ?? 2;
  const retryMs = options.retryMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const leaseMs = options.leaseMs ?? 60_000;
  const log = options.log ?? console.error;
  const s = dataSource.driver.schema;
  // queued_at as text: a Date would drop its microseconds and never match again.
  type Claimed = { tenant_id: string; product_id: string; attempts: number; queued_at: string };

  /** Ends a try: deletes the ask (answered, or given up) or makes it due again; an ask queued afresh meanwhile is left as it is. */
  const settle = (a: Claimed, again: number | null) =>
    inSystemTransaction(dataSource, (m) =>
      again === null
        ? m.query(`DELETE FROM "${s}"."enrichment_model_ask" WHERE tenant_id = $1 AND product_id = $2 AND queued_at = $3::timestamptz`, [a.tenant_id, a.product_id, a.queued_at])
        : m.query(`UPDATE "${s}"."enrichment_model_ask" SET due_at = now() + make_interval(secs => $4::float8 / 1000) WHERE tenant_id = $1 AND product_id = $2 AND queued_at = $3::timestamptz`, [
            a.tenant_id,
            a.product_id,
            a.queued_at,
            again,
          ]),
    );

  async function attempt(a: Claimed): Promise<void> {
    try {
      await ask(a.tenant_id, a.product_id);
      await settle(a, null);
    } catch (error) {
      const reason = (error as Error).message;
      if (a.attempts >= maxAttempts) {
        log(`enrichment model: product ${a.product_id}: ${reason}; given up after ${a.attempts} tries`);
        await settle(a, null);
      } else {
        const wait = retryMs * 2 ** (a.attempts - 1);
        log(`enrichment model: product ${a.product_id}: ${reason}; try ${a.attempts} of ${maxAttempts}, next in ${wait < 1_000 ? `${wait} ms` : `${Math.round(wait / 1_000)} s`}`);
        await settle(a, wait);
      }
    }
  }

  async function drain(isStopped: () => boolean): Promise<void> {
    while (!isStopped()) {
      const claimed: Claimed[] = updatedRows(
        await inSystemTransaction(dataSource, (m) =>
          m.query(
            `UPDATE "${s}"."enrichment_model_ask" SET attempts = attempts + 1, due_at = now() + make_interval(secs => $2::float8 / 1000)
             WHERE (tenant_id, product_id) IN (
               SELECT tenant_id, product_id FROM "${s}"."enrichment_model_ask" WHERE due_at <= now() ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING tenant_id, product_id, attempts, queued_at::text AS queued_at`,
            [batchSize, leaseMs],
          ),
        ),
      );
      if (claimed.length === 0) return;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, claimed.length) }, async () => {
          while (next < claimed.length) await attempt(claimed[next++]!).catch((error: unknown) => log(`enrichment model: ${(error as Error).message}`));
        }),
      );
    }
  }

  return pollingWorker(drain, { pollMs: options.pollMs ?? 1_000, log, name: 'enrichment model worker' });
}
