import type { DataSource } from 'typeorm';
import { inSystemTransaction, inTenantTransaction } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { ReservationEntity } from '../data/entities/reservation.entity.js';
import { LedgerBatch } from './ledger.js';
import { closeReservation } from './reservation.service.js';

/** How often the worker looks for reservations past their time (default; the app can say otherwise). */
export const RESERVATION_EXPIRY_POLL_MS = 1_000;
const BATCH = 200;

/**
 * Releases reservations past their time, through the ledger (`EXPIRED`: the units go back to on
 * hand); returns how many. Each one in its own tenant's transaction, locked and re-checked, so a
 * reservation committed or released meanwhile is left alone. `afterCommit` publishes the outbox.
 */
export async function expireDueReservations(dataSource: DataSource, afterCommit: () => Promise<void>, now = new Date()): Promise<{ due: number; expired: number }> {
  const due: { id: string; tenant_id: string }[] = await inSystemTransaction(dataSource, (m) =>
    m.query(
      `SELECT id, tenant_id FROM "${m.connection.driver.schema}"."reservation" WHERE status = 'ACTIVE' AND expires_at <= $1 ORDER BY expires_at LIMIT ${BATCH}`,
      [now],
    ),
  );
  let expired = 0;
  for (const { id, tenant_id: tenantId } of due) {
    await inTenantTransaction(dataSource, tenantId, async (m) => {
      const row = await m.getRepository(ReservationEntity).findOne({ where: { tenantId, id }, lock: { mode: 'pessimistic_write' } });
      if (row?.status !== 'ACTIVE') return; // committed or released meanwhile
      const ledger = new LedgerBatch(m, tenantId);
      await closeReservation(m, ledger, row, 'EXPIRED');
      await ledger.commit();
      expired += 1;
    });
  }
  if (expired) await afterCommit();
  return { due: due.length, expired };
}

/** The expiry's background worker: a pass every `pollMs`, a full batch straight followed by another. */
export function reservationExpiryWorker(
  dataSource: DataSource,
  afterCommit: () => Promise<void>,
  options: { pollMs?: number; log?: (message: string) => void } = {},
) {
  return pollingWorker(
    async (isStopped) => {
      while (!isStopped() && (await expireDueReservations(dataSource, afterCommit)).due >= BATCH);
    },
    { pollMs: options.pollMs ?? RESERVATION_EXPIRY_POLL_MS, log: options.log ?? console.error, name: 'inventory reservation expiry' },
  );
}
