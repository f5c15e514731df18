import type { EntityManager } from 'typeorm';
import { requireStoresAndVariants } from './inventory.service.js';
import { LedgerBatch } from './ledger.js';

/**
 * Sets stock levels (units on hand) from a count a merchant system or a feed reports: each level
 * becomes one ADJUSTMENT of the difference against `counterAccount`, in the caller's transaction.
 * A level below what is reserved cannot be honoured without breaking promises already made: it
 * is left out and returned, for the caller to report.
 */
export async function setLevels(
  m: EntityManager,
  tenantId: string,
  levels: { sku: string; storeId: string; level: number }[],
  options: { counterAccount: string; reference: string; sourceEventId: string | null },
): Promise<{ sku: string; storeId: string; level: number; reserved: number }[]> {
  // Bulk work: one event for what the whole call changed (decision 0042).
  const ledger = new LedgerBatch(m, tenantId, { oneEvent: true });
  await lockKnownLevels(m, tenantId, ledger, levels);
  const refused: { sku: string; storeId: string; level: number; reserved: number }[] = [];
  let posted = 0;
  for (const { sku, storeId, level } of levels) {
    const current = ledger.level(sku, storeId);
    if (level < current.reserved) {
      refused.push({ sku, storeId, level, reserved: current.reserved });
      continue;
    }
    if (ledger.postOnHandChange({ sku, storeId, kind: 'ADJUSTMENT', delta: level - current.onHand, ...options })) posted++;
  }
  if (posted) await ledger.commit();
  return refused;
}

/** Locks the levels of `keys`; a level that does not exist yet needs its store and sku to be known (NOT_FOUND otherwise). */
export function lockKnownLevels(m: EntityManager, tenantId: string, ledger: LedgerBatch, keys: { sku: string; storeId: string }[]): Promise<void> {
  return ledger.lock(keys, (missing) => requireStoresAndVariants(m, tenantId, missing));
}
