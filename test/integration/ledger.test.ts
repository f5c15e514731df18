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
    await dataSource.destroy();
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database itself', async () => {
    const id = randomUUID();
    await dataSource.query(
      `INSERT INTO "${schema}".movement (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account)
       VALUES ($1, $2, 'SKU-1', $3, 'RECEIPT', 5, 'store:x:on_hand', 'external:supplier')`,
      [id, randomUUID(), randomUUID()],
    );
    await expect(dataSource.query(`UPDATE "${schema}".movement SET quantity = 6 WHERE id = $1`, [id])).rejects.toThrow(/immutable/);
    await expect(dataSource.query(`DELETE FROM "${schema}".movement WHERE id = $1`, [id])).rejects.toThrow(/immutable/);
    await expect(dataSource.query(`TRUNCATE "${schema}".movement`)).rejects.toThrow(/immutable/);
    const rows = await dataSource.query(`SELECT quantity FROM "${schema}".movement WHERE id = $1`, [id]);
    expect(rows).toEqual([{ quantity: 5 }]);
  });

  it('refuses a movement that is not balanced between two accounts', async () => {
    await expect(
      dataSource.query(
        `INSERT INTO "${schema}".movement (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account)
         VALUES ($1, $2, 'SKU-1', $3, 'RECEIPT', 0, 'a', 'a')`,
        [randomUUID(), randomUUID(), randomUUID()],
      ),
    ).rejects.toThrow();
  });
});
