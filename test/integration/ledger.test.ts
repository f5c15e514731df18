import { randomUUID } from 'node:crypto';
import { useServiceSchema } from '../support/service-schema.js';
import { openInventoryDatabase } from '../../subgraphs/inventory/src/data/database.js';
import { LedgerBatch } from '../../subgraphs/inventory/src/services/ledger.js';

describe('the inventory ledger', () => {
  const { schema, dataSource: db } = useServiceSchema('inventory_l', openInventoryDatabase);

  // As the table's owner, with every tenant visible: the trigger refuses even the owner.
  const asOwner = (sql: string, params: unknown[] = []) =>
    db().transaction(async (m) => {
      await m.query(`SELECT set_config('app.system', 'on', true)`);
      return m.query(sql, params);
    });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const id = randomUUID();
    await asOwner(
      `INSERT INTO "${schema}".movement (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account)
       VALUES ($1, $2, 'SKU-1', $3, 'RECEIPT', 5, 'store:x:on_hand', 'external:supplier')`,
      [id, randomUUID(), randomUUID()],
    );
    await expect(asOwner(`UPDATE "${schema}".movement SET quantity = 6 WHERE id = $1`, [id])).rejects.toThrow(/immutable/);
    await expect(asOwner(`DELETE FROM "${schema}".movement WHERE id = $1`, [id])).rejects.toThrow(/immutable/);
    await expect(asOwner(`TRUNCATE "${schema}".movement`)).rejects.toThrow(/immutable/);
    expect(await asOwner(`SELECT quantity FROM "${schema}".movement WHERE id = $1`, [id])).toEqual([{ quantity: 5 }]);
  });

  it('refuses a movement that is not balanced between two accounts', async () => {
    await expect(
      asOwner(
        `INSERT INTO "${schema}".movement (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account)
         VALUES ($1, $2, 'SKU-1', $3, 'RECEIPT', 0, 'a', 'a')`,
        [randomUUID(), randomUUID(), randomUUID()],
      ),
    ).rejects.toThrow();
  });
});

describe('a ledger batch over one sku in two stores', () => {
  const { schema, dataSource: db } = useServiceSchema('inventory_b', openInventoryDatabase);

  it("names each store's own movement in that store's stock event", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const posted = await db().transaction(async (m) => {
      await m.query(`SELECT set_config('app.system', 'on', true)`);
      const ledger = new LedgerBatch(m, tenantId);
      await ledger.lock([{ sku: 'SKU-1', storeId: a }, { sku: 'SKU-1', storeId: b }], async () => {});
      ledger.postOnHandChange({ sku: 'SKU-1', storeId: a, kind: 'RECEIPT', delta: 5, counterAccount: 'external:supplier' });
      ledger.postOnHandChange({ sku: 'SKU-1', storeId: b, kind: 'ADJUSTMENT', delta: 2, counterAccount: 'external:adjustment' });
      await ledger.commit();
      return m.query(`SELECT id, store_id, kind, quantity FROM "${schema}".movement WHERE tenant_id = $1`, [tenantId]);
    });
    const events = await db().transaction(async (m) => {
      await m.query(`SELECT set_config('app.system', 'on', true)`);
      return m.query(`SELECT payload FROM "${schema}".outbox WHERE tenant_id = $1`, [tenantId]);
    });
    const byStore = (store: string) => posted.find((row: { store_id: string }) => row.store_id === store);
    const seen = events.map(({ payload }: { payload: Record<string, unknown> }) => [payload.storeId, payload.movementId, payload.kind, payload.quantity]);
    expect(seen).toEqual(
      expect.arrayContaining([
        [a, byStore(a).id, 'RECEIPT', 5],
        [b, byStore(b).id, 'ADJUSTMENT', 2],
      ]),
    );
    expect(seen).toHaveLength(2);
  });
});
