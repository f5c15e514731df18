import { randomUUID } from 'node:crypto';
import { useServiceSchema } from '../support/service-schema.js';
import { openInventoryDatabase } from '../../subgraphs/inventory/src/data/database.js';

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
