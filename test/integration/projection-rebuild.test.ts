import { randomUUID } from 'node:crypto';
import { inSystemTransaction, inTenantTransaction } from '../../lib/db/data-source.js';
import { useServiceSchema } from '../support/service-schema.js';
import { openInventoryDatabase } from '../../subgraphs/inventory/src/data/database.js';
import { account, LedgerBatch, type Posting } from '../../subgraphs/inventory/src/services/ledger.js';
import { rebuildStockLevels } from '../../subgraphs/inventory/src/services/projection-rebuild.js';

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

describe('the stock projection rebuilt from the ledger', () => {
  const { schema, dataSource: db } = useServiceSchema('inventory_p', openInventoryDatabase);
  const tenants = [randomUUID(), randomUUID()];
  const stores = [randomUUID(), randomUUID(), randomUUID()];
  const skus = ['A', 'B', 'C', 'D'];


  it('equals the live figures after thousands of random movements, and corrects a level that drifted', async () => {
    const next = random(42);
    const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
    let posted = 0;
    let refused = 0;
    for (let batch = 0; batch < 700; batch += 1) {
      const tenantId = pick(tenants);
      // Several movements per transaction, as the saga posts them.
      const postings: Posting[] = [];
      for (let i = 0; i < 3; i += 1) {
        const sku = pick(skus);
        const store = pick(stores);
        const other = pick(stores.filter((s) => s !== store));
        const quantity = 1 + Math.floor(next() * 5);
        const kind = pick(['RECEIPT', 'RECEIPT', 'RECEIPT', 'RECEIPT', 'ADJUSTMENT', 'RESERVATION', 'RESERVATION', 'RELEASE', 'SALE', 'TRANSFER_OUT', 'TRANSFER_IN'] as const);
        const entry: Record<string, [string, string]> = {
          RECEIPT: [account.onHand(store), 'external:supplier'],
          ADJUSTMENT: ['external:adjustment', account.onHand(store)],
          RESERVATION: [account.reserved(store), account.onHand(store)],
          RELEASE: [account.onHand(store), account.reserved(store)],
          SALE: ['external:customer', account.reserved(store)],
          TRANSFER_OUT: [account.inTransit(other), account.onHand(store)],
          TRANSFER_IN: [account.onHand(store), account.inTransit(store)],
        };
        const [debit, credit] = entry[kind]!;
        postings.push({ sku, storeId: store, kind, quantity, debit, credit });
      }
      try {
        await inTenantTransaction(db(), tenantId, async (m) => {
          const ledger = new LedgerBatch(m, tenantId);
          await ledger.lock(postings.flatMap((p) => stores.map((storeId) => ({ sku: p.sku, storeId }))));
          for (const posting of postings) ledger.post(posting);
          await ledger.commit();
        });
        posted += postings.length;
      } catch (error) {
        // A batch that would take stock below zero is refused whole: that is part of the test.
        expect(String(error)).toMatch(/not enough/);
        refused += 1;
      }
    }
    expect(posted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(0);

    const live = await inSystemTransaction(db(), (m) => m.query(`SELECT tenant_id, sku, store_id, on_hand, reserved, in_transit, version FROM "${schema}".stock_level ORDER BY 1, 2, 3`));
    expect(await rebuildStockLevels(db())).toEqual({ movements: posted, levels: expect.any(Number), corrected: 0 });
    const rebuilt = await inSystemTransaction(db(), (m) => m.query(`SELECT tenant_id, sku, store_id, on_hand, reserved, in_transit, version FROM "${schema}".stock_level ORDER BY 1, 2, 3`));
    expect(rebuilt).toEqual(live);

    // A level that drifted (written around the ledger) is put right.
    await inSystemTransaction(db(), (m) => m.query(`UPDATE "${schema}".stock_level SET on_hand = on_hand + 7 WHERE ctid = (SELECT ctid FROM "${schema}".stock_level WHERE on_hand > 0 LIMIT 1)`));
    expect((await rebuildStockLevels(db())).corrected).toBe(1);
    const repaired = await inSystemTransaction(db(), (m) => m.query(`SELECT tenant_id, sku, store_id, on_hand, reserved, in_transit, version FROM "${schema}".stock_level ORDER BY 1, 2, 3`));
    expect(repaired).toEqual(live);
  });
});
