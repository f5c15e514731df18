import { Client } from 'pg';
import { CREATE_API_KEY, addProduct, createShop, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const AUDIT_LOG = `query ($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id at subgraph actor roles operation source requestId targetIds input changesOmitted
      changes { entityType entityId action before after } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const parse = (text: string | null) => (text === null ? null : JSON.parse(text));

describe('audit log', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;
  let adminKeyId: string;

  beforeAll(async () => {
    system = await startSupergraph();
    [shop, other] = await Promise.all([createShop(system), createShop(system)]);
    await addProduct(system, shop, 'Croissant', ['AUD-1']);
    await addProduct(system, other, 'Bagel', ['OTH-1']);
    const { apiKeys } = await system.ok(`{ apiKeys { id name } }`, {}, shop.headers);
    adminKeyId = apiKeys.find((k: { name: string }) => k.name === 'ADMIN key').id;
  });
  afterAll(() => system.stop());

  const auditLog = async (headers: Record<string, string>, variables: Record<string, unknown>) => (await system.ok(AUDIT_LOG, variables, headers)).auditLog;

  it('records who changed a price, with what role, and the price before and after', async () => {
    await setPrice(system, shop, 'AUD-1', '2.50');
    await setPrice(system, shop, 'AUD-1', '2.90');
    const { edges } = await auditLog(shop.headers, { filter: { entityType: 'price', entityId: 'AUD-1' } });
    expect(edges.map((e: any) => e.node.operation)).toEqual(['setPrice', 'setPrice']);
    const latest = edges[0].node;
    expect(latest).toMatchObject({ subgraph: 'pricing', actor: `key:${adminKeyId}`, roles: ['admin'], source: 'api', changesOmitted: 0 });
    expect(latest.targetIds).toEqual(expect.arrayContaining(['AUD-1', shop.storeId]));
    expect(parse(latest.input)).toEqual({ input: { sku: 'AUD-1', storeId: shop.storeId, amount: '2.90', currencyCode: 'EUR' } });
    const change = latest.changes.find((c: any) => c.entityType === 'price');
    expect(change.action).toBe('UPDATE');
    expect(Number(parse(change.before).amount)).toBe(2.5);
    expect(Number(parse(change.after).amount)).toBe(2.9);
    expect(Number(parse(edges[1].node.changes.find((c: any) => c.entityType === 'price').after).amount)).toBe(2.5);
  });

  it('records a key creation without the key or its hash', async () => {
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'till 7', role: 'POS' } }, shop.headers);
    const { edges } = await auditLog(shop.headers, { filter: { entityId: createApiKey.apiKey.id } });
    expect(edges).toHaveLength(1);
    const record = edges[0].node;
    expect(record).toMatchObject({ subgraph: 'tenant', operation: 'createApiKey', actor: `key:${adminKeyId}`, roles: ['admin'] });
    const inserted = record.changes.find((c: any) => c.entityType === 'api_key');
    expect(inserted).toMatchObject({ action: 'INSERT', entityId: createApiKey.apiKey.id, before: null });
    const after = parse(inserted.after);
    expect(after).toMatchObject({ name: 'till 7', role: 'POS', tenant_id: shop.tenantId });
    expect(after.key_hash).toBe('[redacted]');
    // Neither the key nor anything derived from it is anywhere in the log.
    const everything = JSON.stringify(await auditLog(shop.headers, { first: 100 }));
    expect(everything).not.toContain(createApiKey.key);
    expect(everything).not.toContain(shop.adminKey);
  });

  it('records a feed upload with its source', async () => {
    const uploaded = await fetch(`${new URL(system.gatewayUrl).origin}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...shop.headers }, body: 'sku,title\nAUD-F1,Fed' });
    expect(uploaded.status).toBe(202);
    const { id } = (await uploaded.json()) as { id: string };
    const { edges } = await auditLog(shop.headers, { filter: { entityId: id } });
    expect(edges.map((e: any) => e.node)).toEqual([
      expect.objectContaining({ subgraph: 'catalog', operation: 'POST /feeds/catalog', source: 'feed', actor: `key:${adminKeyId}` }),
    ]);
  });

  it("shows a tenant its own records only, and only to admins", async () => {
    const mine = await auditLog(shop.headers, { first: 100 });
    const theirs = await auditLog(other.headers, { first: 100 });
    const ids = new Set(mine.edges.map((e: any) => e.node.id));
    expect(theirs.edges.length).toBeGreaterThan(0);
    expect(theirs.edges.some((e: any) => ids.has(e.node.id))).toBe(false);
    expect((await auditLog(other.headers, { filter: { entityId: 'AUD-1' } })).edges).toEqual([]);
    for (const headers of [shop.posHeaders, shop.storefrontHeaders]) {
      const refused = await system.request(AUDIT_LOG, {}, headers);
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const tooLong = await system.request(AUDIT_LOG, { filter: { actor: 'x'.repeat(256) } }, shop.headers);
    expect(tooLong.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await system.request(AUDIT_LOG, { first: 101 }, shop.headers);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('pages through every subgraph records, newest first, with cursors', async () => {
    const all = (await auditLog(shop.headers, { first: 100 })).edges.map((e: any) => e.node);
    expect(new Set(all.map((r: any) => r.subgraph))).toEqual(new Set(['tenant', 'catalog', 'pricing']));
    const seen: any[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await auditLog(shop.headers, { first: 2, after });
      seen.push(...page.edges.map((e: any) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen.map((r) => r.id)).toEqual(all.map((r: any) => r.id));
    expect([...seen.map((r) => r.at)]).toEqual([...seen.map((r) => r.at)].sort().reverse());
  });

  it('is append-only: the application role can neither update nor delete a record', async () => {
    const client = new Client({ connectionString: process.env.DATABASE_URL });
    await client.connect();
    try {
      for (const subgraph of ['pricing', 'tenant']) {
        const schema = `${subgraph}${system.schemaSuffix}`;
        for (const table of ['audit_log', 'audit_change']) {
          const attempt = async (statement: string) => {
            await client.query(`BEGIN; SET LOCAL ROLE "${schema}_app"; SELECT set_config('app.tenant_id', '${shop.tenantId}', true)`);
            try {
              await client.query(statement);
              return 'done';
            } catch (error) {
              return (error as { code?: string }).code;
            } finally {
              await client.query('ROLLBACK');
            }
          };
          expect(await attempt(`UPDATE "${schema}"."${table}" SET tenant_id = tenant_id`)).toBe('42501');
          expect(await attempt(`DELETE FROM "${schema}"."${table}"`)).toBe('42501');
        }
      }
    } finally {
      await client.end();
    }
  });
});
