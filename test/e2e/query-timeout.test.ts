import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { Client } from 'pg';
import { inTenantTransaction, setTransactionStatementTimeout } from '../../lib/db/data-source.js';
import { openCatalogDatabase } from '../../subgraphs/catalog/src/data/database.js';
import { addProduct, createShop, type Shop } from '../support/fixtures.js';
import { useServiceSchema } from '../support/service-schema.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// Embedded PGlite runs a statement on the JavaScript thread, so its timer cannot fire during one:
// there the setting is applied (asserted below) but only real PostgreSQL cancels (docs/runbook.md).
const onPostgres = !process.env.TEST_EMBEDDED_POSTGRES;
const postgresOnly = onPostgres ? it : it.skip;

/** Opens databases with DB_STATEMENT_TIMEOUT_MS set to `ms` for the duration of `open`. */
async function withTimeoutEnv<T>(ms: string, open: () => Promise<T>): Promise<T> {
  const before = process.env.DB_STATEMENT_TIMEOUT_MS;
  process.env.DB_STATEMENT_TIMEOUT_MS = ms;
  try {
    return await open();
  } finally {
    if (before === undefined) delete process.env.DB_STATEMENT_TIMEOUT_MS;
    else process.env.DB_STATEMENT_TIMEOUT_MS = before;
  }
}

describe('statement timeout of service transactions', () => {
  const catalog = useServiceSchema('catalog_st', (url, schema) => withTimeoutEnv('400', () => openCatalogDatabase(url, schema)));
  const tenant = randomUUID();

  it('sets DB_STATEMENT_TIMEOUT_MS as the transaction-local statement_timeout', async () => {
    const [{ timeout }] = await inTenantTransaction(catalog.dataSource(), tenant, (m) => m.query(`SELECT current_setting('statement_timeout') AS timeout`));
    expect(timeout).toBe('400ms');
    // Outside service transactions (migrations, ANALYZE) the session default stays.
    const [{ timeout: session }] = await catalog.dataSource().query(`SELECT current_setting('statement_timeout') AS timeout`);
    expect(session).toBe('0');
  });

  postgresOnly('cancels a slow statement with QUERY_TIMEOUT (retryable), and the connection is usable after', async () => {
    const error = await inTenantTransaction(catalog.dataSource(), tenant, (m) => m.query('SELECT pg_sleep(5)')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphQLError);
    expect((error as GraphQLError).extensions).toEqual({ code: 'QUERY_TIMEOUT', retryable: true, timeoutMs: 400 });
    expect((error as GraphQLError).message).toMatch(/longer than 400 ms/);
    expect(await inTenantTransaction(catalog.dataSource(), tenant, (m) => m.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  });

  postgresOnly('a transaction that sets a timeout of its own (a feed batch) runs by it and reports it when it cancels', async () => {
    // 600 ms is past the service's 400 ms: a 0.5 s statement passes, a 5 s one is cancelled at 600 ms.
    const [{ slept }] = await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await setTransactionStatementTimeout(m, 600);
      return m.query(`SELECT pg_sleep(0.5)::text AS slept`);
    });
    expect(slept).toBe('');
    const error = await inTenantTransaction(catalog.dataSource(), tenant, async (m) => {
      await setTransactionStatementTimeout(m, 600);
      return m.query('SELECT pg_sleep(5)');
    }).catch((e: unknown) => e);
    expect((error as GraphQLError).extensions).toEqual({ code: 'QUERY_TIMEOUT', retryable: true, timeoutMs: 600 });
    expect((error as GraphQLError).message).toMatch(/longer than 600 ms/);
    // The next transaction is back on the service's timeout.
    const [{ timeout }] = await inTenantTransaction(catalog.dataSource(), tenant, (m) => m.query(`SELECT current_setting('statement_timeout') AS timeout`));
    expect(timeout).toBe('400ms');
  });
});

describe('a query that runs too long, through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let owner: Client;
  let productTable: string;

  beforeAll(async () => {
    system = await withTimeoutEnv('1000', () => startSupergraph());
    shop = await createShop(system);
    await addProduct(system, shop, 'Amber Ale', ['ALE-1']);
    productTable = `"catalog${system.redisStream.replace('test:events', '')}".product`;
    owner = new Client({ connectionString: process.env.DATABASE_URL });
    await owner.connect();
  });
  afterAll(async () => {
    await owner?.end();
    await system?.stop();
  });

  postgresOnly('answers QUERY_TIMEOUT with a retry hint, not INTERNAL_SERVER_ERROR, and serves again once the query is fast', async () => {
    // A policy that sleeps on every row makes the catalog's products query slow, as a huge scan would.
    await owner.query(`CREATE POLICY slow ON ${productTable} AS RESTRICTIVE FOR SELECT USING ((SELECT true FROM pg_sleep(3)))`);
    try {
      const response = await system.request('{ products(query: "amber") { edges { node { title } } } }', {}, shop.headers);
      expect(response.errors).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/longer than 1000 ms and was cancelled/), extensions: expect.objectContaining({ code: 'QUERY_TIMEOUT', retryable: true }) }),
      ]);
      expect(JSON.stringify(response)).not.toMatch(/pg_sleep|canceling statement|INTERNAL_SERVER_ERROR/);
    } finally {
      await owner.query(`DROP POLICY slow ON ${productTable}`);
    }
    const data = await system.ok('{ products(query: "amber") { edges { node { title } } } }', {}, shop.headers);
    expect(data.products.edges).toEqual([{ node: { title: 'Amber Ale' } }]);
  });

  postgresOnly('lets a feed batch run past the request timeout: background work bounded by its size, not a request', async () => {
    // Every product the batch writes takes longer than DB_STATEMENT_TIMEOUT_MS (1 s here), as a loaded machine made one batch do.
    await owner.query(`CREATE POLICY slow_insert ON ${productTable} AS RESTRICTIVE FOR INSERT WITH CHECK ((SELECT true FROM pg_sleep(1.2)))`);
    try {
      const csv = ['handle,title,sku', 'slow-feed,Slow Feed Stout,SLOW-FEED-1'].join('\n');
      const { importCatalogFeed } = await system.ok<{ importCatalogFeed: { id: string } }>('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv }, shop.headers);
      const done = await eventually(async () => {
        const { feedImport } = await system.ok<{ feedImport: { status: string; imported: number; error: string | null } }>(
          'query ($id: ID!) { feedImport(id: $id) { status imported error } }',
          { id: importCatalogFeed.id },
          shop.headers,
        );
        if (feedImport.status === 'QUEUED' || feedImport.status === 'RUNNING') throw new Error(`still ${feedImport.status}`);
        return feedImport;
      }, 20_000);
      expect(done).toEqual({ status: expect.stringMatching(/^(PROPAGATING|COMPLETED)$/), imported: 1, error: null });
    } finally {
      await owner.query(`DROP POLICY slow_insert ON ${productTable}`);
    }
  });
});
