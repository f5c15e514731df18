import { skuStoreKey } from '../../../../lib/sku.js';
import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction } from '../../../../lib/db/data-source.js';
import { applySide, sidesOf, type Levels } from './ledger.js';

export interface RebuildReport {
  movements: number;
  levels: number;
  /** Levels whose stored figures differed from the ledger (now corrected). */
  corrected: number;
}

/**
 * Rebuilds every stock level from the ledger alone, replaying the movements in order with the
 * same rules the live projection uses; corrects any level that drifted. Runs as the platform.
 */
export async function rebuildStockLevels(dataSource: DataSource): Promise<RebuildReport> {
  return inSystemTransaction(dataSource, async (m) => {
    // An operator's rebuild reads the whole ledger: not bound by the requests' statement timeout.
    await m.query(`SET LOCAL statement_timeout = 0`);
    // Hold off concurrent writers while the projection is rewritten.
    await m.query(`LOCK TABLE "${m.connection.driver.schema}"."stock_level" IN SHARE ROW EXCLUSIVE MODE`);
    return rebuildStockLevelsIn(m);
  });
}

/** The rebuild in the caller's transaction (which holds off writers of `stock_level`): `npm run replay -- inventory.stock-levels`. */
export async function rebuildStockLevelsIn(m: EntityManager): Promise<RebuildReport> {
  const s = m.connection.driver.schema;
  const movements: { tenant_id: string; sku: string; debit_account: string; credit_account: string; quantity: number; occurred_at: Date }[] =
    await m.query(`SELECT tenant_id, sku, debit_account, credit_account, quantity, occurred_at FROM "${s}"."movement" ORDER BY seq`);
  const folded = new Map<string, Levels & { tenantId: string; sku: string; storeId: string; version: number; updatedAt: Date }>();
  for (const mv of movements) {
    const changed = new Set<string>();
    for (const side of sidesOf({ debit: mv.debit_account, credit: mv.credit_account, quantity: mv.quantity })) {
      const key = `${mv.tenant_id}\n${skuStoreKey(mv.sku, side.storeId)}`;
      const level = folded.get(key) ?? { tenantId: mv.tenant_id, sku: mv.sku, storeId: side.storeId, onHand: 0, reserved: 0, inTransit: 0, version: 0, updatedAt: mv.occurred_at };
      applySide(level, side.bucket, side.signed);
      level.updatedAt = mv.occurred_at;
      folded.set(key, level);
      changed.add(key);
    }
    // As live: one version step per movement and level.
    for (const key of changed) folded.get(key)!.version += 1;
  }
  const stored: { tenant_id: string; sku: string; store_id: string; on_hand: number; reserved: number; in_transit: number; version: number }[] =
    await m.query(`SELECT tenant_id, sku, store_id, on_hand, reserved, in_transit, version FROM "${s}"."stock_level"`);
  const storedByKey = new Map(stored.map((row) => [`${row.tenant_id}\n${skuStoreKey(row.sku, row.store_id)}`, row]));
  let corrected = 0;
  for (const [key, level] of folded) {
    const row = storedByKey.get(key);
    storedByKey.delete(key);
    if (row && row.on_hand === level.onHand && row.reserved === level.reserved && row.in_transit === level.inTransit && row.version === level.version) continue;
    corrected += 1;
    await m.query(
      `INSERT INTO "${s}"."stock_level" (tenant_id, sku, store_id, on_hand, reserved, in_transit, version, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (tenant_id, sku, store_id) DO UPDATE
         SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, in_transit = EXCLUDED.in_transit,
             version = EXCLUDED.version, updated_at = EXCLUDED.updated_at`,
      [level.tenantId, level.sku, level.storeId, level.onHand, level.reserved, level.inTransit, level.version, level.updatedAt],
    );
  }
  // Levels with no movement at all hold nothing.
  for (const row of storedByKey.values()) {
    if (row.on_hand === 0 && row.reserved === 0 && row.in_transit === 0) continue;
    corrected += 1;
    await m.query(`UPDATE "${s}"."stock_level" SET on_hand = 0, reserved = 0, in_transit = 0 WHERE tenant_id = $1 AND sku = $2 AND store_id = $3`, [
      row.tenant_id,
      row.sku,
      row.store_id,
    ]);
  }
  return { movements: movements.length, levels: folded.size, corrected };
}
