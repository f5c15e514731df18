import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createClient } from 'redis';
import { readGroups } from '../../lib/events/stream-groups.js';
import { graphqlOk, graphqlRequest } from '../../scripts/graphql-request.js';
import { createShop, quoted, type Shop } from '../support/fixtures.js';
import { eventually, type TestSupergraph } from '../support/start-supergraph.js';
import { startRedisProcess, startSystemProcesses, type RedisProcess, type SystemProcesses } from '../support/drills/system-processes.js';

// Real processes share a real PostgreSQL; the embedded PGlite of the default run serves one process.
const real = process.env.DATABASE_URL && !process.env.TEST_EMBEDDED_POSTGRES;
const volume = real ? describe : describe.skip;
if (!real) console.info('volume test skipped: it runs the services as separate processes, which needs DATABASE_URL (a real PostgreSQL)');

const STREAM = 'commerce:events';
// Small: since decision 0042 a feed batch is a few events, not two per row, so the cap is what makes the volume.
const CAP = 25;
const ROWS = 600;
const ORDERS = 20;

/**
 * Issue 23, "events lost at volume": a feed and orders whose events are several times the stream's cap, with two
 * gateways and two processes each of inventory and orders (the second gateway talks to the second
 * inventory and orders process). A group of the test's own reads every entry of the stream, so an
 * event published twice shows; trimming must not drop what a service has not read.
 */
volume('a feed far larger than the stream cap, two gateways, two inventory and two orders processes', () => {
  let redis: RedisProcess;
  let system: SystemProcesses;
  let audit: ReturnType<typeof createClient>;
  let auditing = true;
  let auditLoop: Promise<void>;
  const seen = new Map<string, number>();
  let passed = false;

  beforeAll(async () => {
    redis = await startRedisProcess();
    // The audit group exists before anything is published and counts as durable: trimming waits for it too.
    audit = createClient({ url: redis.url });
    await audit.connect();
    await audit.xGroupCreate(STREAM, 'audit', '0', { MKSTREAM: true });
    await audit.sAdd(`${STREAM}:durable-groups`, 'audit');
    auditLoop = (async () => {
      const reader = audit.duplicate();
      await reader.connect();
      while (auditing) {
        const batches = (await reader.xReadGroup('audit', 'test', { key: STREAM, id: '>' }, { COUNT: 500, BLOCK: 200 })) as { messages: { id: string; message: Record<string, string> }[] }[] | null;
        for (const { id, message } of batches?.[0]?.messages ?? []) {
          const eventId = (JSON.parse(message.event!) as { eventId: string }).eventId;
          seen.set(eventId, (seen.get(eventId) ?? 0) + 1);
          await reader.xAck(STREAM, 'audit', id);
        }
      }
      await reader.quit();
    })();
    system = await startSystemProcesses({
      databaseUrl: process.env.DATABASE_URL!,
      redisUrl: redis.url,
      env: { EVENT_STREAM_MAX_LENGTH: String(CAP) },
      replicas: { inventory: 2, orders: 2 },
      gateways: 2,
    });
  }, 300_000);
  afterAll(async () => {
    auditing = false;
    await auditLoop;
    await audit?.quit();
    await system?.stop(!passed);
    await redis?.stop();
  });

  it('gives every sku its stock and every order its reservation, publishes nothing twice, and leaves every group at lag 0', async () => {
    expect(system.gatewayUrls).toHaveLength(2);
    const client = {
      platformApiKey: system.platformApiKey,
      request: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlRequest(system.gatewayUrl, query, variables, headers),
      ok: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlOk(system.gatewayUrl, query, variables, headers),
    } as unknown as TestSupergraph;
    const shop: Shop = await createShop(client, `volume-${randomBytes(3).toString('hex')}`);
    const importFeed = async (csv: string) => {
      const response = await fetch(`${new URL(system.gatewayUrl).origin}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...shop.headers }, body: csv });
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      return eventually(async () => {
        const { feedImport } = await client.ok('query ($id: ID!) { feedImport(id: $id) { status imported failed effects { stock stockApplied } } }', { id }, shop.headers);
        if (feedImport.status !== 'COMPLETED' && feedImport.status !== 'FAILED') throw new Error(`still ${feedImport.status}`);
        return feedImport as { status: string; imported: number; failed: number; effects: { stock: number; stockApplied: number } };
      }, 120_000);
    };
    // The catalog learns the shop's stores from their events; a feed names them by code.
    await eventually(async () => {
      if ((await importFeed('sku,title,store\nVOL-WARM,Warm up,S1')).imported !== 1) throw new Error('stores not known yet');
    }, 60_000);

    const rows = Array.from({ length: ROWS }, (_, i) => `vol-${i},Volume ${i},VOL-${i},${(1 + (i % 9)).toFixed(2)},EUR,S1,${10 + (i % 7)}`);
    const feed = await importFeed(`handle,title,sku,price,currency,store,stock\n${rows.join('\n')}\n`);
    expect(feed).toEqual({ status: 'COMPLETED', imported: ROWS, failed: 0, effects: { stock: ROWS, stockApplied: ROWS } });

    const db = new Client({ connectionString: process.env.DATABASE_URL });
    await db.connect();
    // Row-level security: this session reads the shop's tenant, as the services do.
    await db.query(`SELECT set_config('app.tenant_id', $1, false)`, [shop.tenantId]);
    try {
      // COMPLETED means visible: every sku has the level its row said.
      const [{ n }] = (
        await db.query(
          `SELECT count(*)::int AS n FROM "${system.schemas.inventory}".stock_level
            WHERE tenant_id = $1 AND store_id = $2 AND sku LIKE 'VOL-%' AND sku <> 'VOL-WARM' AND on_hand = 10 + substr(sku, 5)::int % 7`,
          [shop.tenantId, shop.storeId],
        )
      ).rows as [{ n: number }];
      expect(n).toBe(ROWS);

      // Orders through both gateways (so through both orders processes), reserved by either inventory process.
      for (let i = 0; i < ORDERS; i++) {
        const gateway = system.gatewayUrls[i % 2]!;
        await graphqlOk(gateway, 'mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }', { input: await quoted(gateway, { storeId: shop.storeId, lines: [{ sku: `VOL-${i}`, quantity: 1 }] }, shop.headers) }, shop.headers);
      }
      await eventually(async () => {
        const { rows: states } = await db.query(`SELECT status, count(*)::int AS n FROM "${system.schemas.orders}"."order" WHERE tenant_id = $1 GROUP BY status`, [shop.tenantId]);
        expect(states).toEqual([{ status: 'RESERVED', n: ORDERS }]);
      }, 60_000);

      // Every group has read everything: the durable ones (the services' and the audit) acknowledged
      // it too, and each gateway's own (ephemeral) group is there and at lag 0.
      const redisClient = audit;
      await eventually(async () => {
        const groups = await readGroups(redisClient, STREAM, `${STREAM}:durable-groups`);
        const behind = groups.filter((g) => g.lag > 0 || (g.durable && g.pending > 0));
        expect(behind).toEqual([]);
        expect(groups.filter((g) => g.durable).map((g) => g.group).sort()).toEqual(expect.arrayContaining(['audit', 'catalog', 'inventory', 'orders', 'pricing']));
        expect(groups.filter((g) => !g.durable).length).toBeGreaterThanOrEqual(2);
      }, 60_000);
    } finally {
      await db.end();
    }
    // Far more events than the cap went through, the stream was trimmed, and none was published twice.
    expect(seen.size).toBeGreaterThan(3 * CAP);
    await eventually(async () => expect(await audit.xLen(STREAM)).toBeLessThan(seen.size), 30_000);
    expect([...seen.values()].filter((count) => count > 1)).toHaveLength(0);
    passed = true;
  }, 300_000);
});
