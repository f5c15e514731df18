import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openInventoryDatabase } from '../../subgraphs/inventory/src/data/database.js';

describe('the inventory ledger', () => {
  const schema = `inventory_l${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await openInventoryDatabase(process.env.DATABASE_URL!, schema);
  });
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    await dataSource.destroy();
  });

  // As the table's owner, with every tenant visible: the trigger refuses even the owner.
  const asOwner = (sql: string, params: unknown[] = []) =>
    dataSource.transaction(async (m) => {
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
