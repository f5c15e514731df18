import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { inSystemTransaction, inTenantTransaction, readInOneRoundTrip } from '../../lib/db/data-source.js';
import { openCatalogDatabase } from '../../subgraphs/catalog/src/data/database.js';
import { openInventoryDatabase } from '../../subgraphs/inventory/src/data/database.js';

describe('row-level security', () => {
  const suffix = randomBytes(4).toString('hex');
  const catalogSchema = `catalog_r${suffix}`;
  const inventorySchema = `inventory_r${suffix}`;
  let catalog: DataSource;
  let inventory: DataSource;
  const north = randomUUID();
  const south = randomUUID();

  beforeAll(async () => {
    catalog = await openCatalogDatabase(process.env.DATABASE_URL!, catalogSchema);
    inventory = await openInventoryDatabase(process.env.DATABASE_URL!, inventorySchema);
    for (const [tenant, title] of [[north, 'North Bread'], [south, 'South Bread']] as const) {
      await inTenantTransaction(catalog, tenant, (m) =>
        m.query(`INSERT INTO "${catalogSchema}".product (id, tenant_id, title) VALUES ($1, $2, $3)`, [randomUUID(), tenant, title]),
      );
    }
  });
  afterAll(async () => {
    for (const [dataSource, schema] of [[catalog, catalogSchema], [inventory, inventorySchema]] as const) {
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
      await dataSource.destroy();
    }
  });

  it('returns only the current tenant\'s rows to a query written without a tenant filter', async () => {
    const titles = (tenant: string | null) =>
      inTenantTransaction(catalog, tenant, (m) => m.query(`SELECT title FROM "${catalogSchema}".product ORDER BY title`));
    expect(await titles(north)).toEqual([{ title: 'North Bread' }]);
    expect(await titles(south)).toEqual([{ title: 'South Bread' }]);
    expect(await titles(null)).toEqual([]);
    expect(await inSystemTransaction(catalog, (m) => m.query(`SELECT title FROM "${catalogSchema}".product ORDER BY title`))).toEqual([
      { title: 'North Bread' },
      { title: 'South Bread' },
    ]);
  });

  it("refuses to write a row for another tenant, and to touch another tenant's rows", async () => {
    await expect(
      inTenantTransaction(catalog, north, (m) =>
        m.query(`INSERT INTO "${catalogSchema}".product (id, tenant_id, title) VALUES ($1, $2, 'Smuggled')`, [randomUUID(), south]),
      ),
    ).rejects.toThrow(/row-level security/);
    const updated = await inTenantTransaction(catalog, north, (m) => m.query(`UPDATE "${catalogSchema}".product SET title = 'Hijacked' WHERE title = 'South Bread' RETURNING id`));
    expect(updated).toEqual([[], 0]);
    const deleted = await inTenantTransaction(catalog, north, (m) => m.query(`DELETE FROM "${catalogSchema}".product RETURNING title`));
    expect(deleted).toEqual([[{ title: 'North Bread' }], 1]);
    expect(await inSystemTransaction(catalog, (m) => m.query(`SELECT title FROM "${catalogSchema}".product`))).toEqual([{ title: 'South Bread' }]);
  });

  it('runs transactions as a role that owns nothing and may not rewrite the ledger', async () => {
    const [{ role, owner }] = await inTenantTransaction(inventory, north, (m) =>
      m.query(`SELECT current_user AS role, (SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'movement') AS owner`, [inventorySchema]),
    );
    expect(role).toBe(`${inventorySchema}_app`);
    expect(owner).not.toBe(role);
    await inTenantTransaction(inventory, north, (m) =>
      m.query(
        `INSERT INTO "${inventorySchema}".movement (id, tenant_id, sku, store_id, kind, quantity, debit_account, credit_account)
         VALUES ($1, $2, 'S', $3, 'RECEIPT', 1, 'a', 'b')`,
        [randomUUID(), north, randomUUID()],
      ),
    );
    await expect(inTenantTransaction(inventory, north, (m) => m.query(`UPDATE "${inventorySchema}".movement SET quantity = 2`))).rejects.toThrow(/permission denied/);
    await expect(inTenantTransaction(inventory, north, (m) => m.query(`DELETE FROM "${inventorySchema}".movement`))).rejects.toThrow(/permission denied/);
  });

  it('filters a prepared statement read in one round trip by the tenant of each call, on its cached plan too; a session that lost it prepares it again', async () => {
    for (const [tenant, title] of [[north, 'Probe North'], [south, 'Probe South']] as const) {
      await inTenantTransaction(catalog, tenant, (m) => m.query(`INSERT INTO "${catalogSchema}".product (id, tenant_id, title) VALUES ($1, $2, $3)`, [randomUUID(), tenant, title]));
    }
    // Written without a tenant filter: row-level security alone must tell the tenants apart.
    const text = `SELECT title FROM "${catalogSchema}".product WHERE title LIKE $1 ORDER BY title`;
    const read = (tenant: string) => readInOneRoundTrip<{ title: string }>(catalog, tenant, text, ['Probe %'], '', 'rls_probe');
    // Past PostgreSQL's first five custom plans, so the later calls run on the cached generic plan.
    for (let i = 0; i < 8; i++) {
      expect(await read(i % 2 ? south : north)).toEqual([{ title: i % 2 ? 'Probe South' : 'Probe North' }]);
    }
    // Every session forgets its prepared statements (as a pooler or a reset would): the next call prepares again.
    await catalog.query('DEALLOCATE ALL');
    expect(await read(north)).toEqual([{ title: 'Probe North' }]);
    expect(await read(south)).toEqual([{ title: 'Probe South' }]);
  });
});
