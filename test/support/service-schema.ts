import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * Opens a service's database in a schema of its own for one suite and drops it (and its
 * application role) afterwards. Returns a getter, valid inside the suite's tests.
 */
export function useServiceSchema(prefix: string, open: (url: string, schema: string) => Promise<DataSource>): { schema: string; dataSource: () => DataSource } {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  let dataSource: DataSource | undefined;
  beforeAll(async () => {
    dataSource = await open(process.env.DATABASE_URL!, schema);
  });
  afterAll(async () => {
    if (!dataSource) return;
    await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
    await dataSource.query(`DROP ROLE IF EXISTS "${schema}_app"`);
    await dataSource.destroy();
  });
  return { schema, dataSource: () => dataSource! };
}
