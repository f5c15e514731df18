import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createClient } from 'redis';
import { graphqlOk, graphqlRequest } from '../../../scripts/graphql-request.js';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../fixtures.js';
import type { TestSupergraph } from '../start-supergraph.js';
import type { RedisProcess, SystemProcesses } from './system-processes.js';

/** What a drill measured; every figure must be 0. */
export interface DrillFigures {
  /** placeOrder calls sent, and answered with an order. */
  sent: number;
  acknowledged: number;
  /** Acknowledged orders that are not in the orders database. */
  lost: number;
  /**
   * Orders beyond one per idempotency key, orders with more reservations than lines or more than
   * one saga step, and stock levels whose `reserved` is not the sum of their active reservations.
   */
  appliedTwice: number;
  /** Orders still PLACED once the system settled. */
  stuck: number;
  /** ACTIVE reservations of an order that is not RESERVED. */
  leaked: number;
  /** Entries the durable groups hold unacknowledged once the system settled. */
  pendingLeft: number;
}

const PLACE_ORDER = `mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`;
const SKUS = ['DRL-1', 'DRL-2', 'DRL-3', 'DRL-4'];

export interface DrillWorld {
  system: SystemProcesses;
  redis: RedisProcess;
  databaseUrl: string;
}

/** The drills' client: the gateway, as a test supergraph's helpers expect it. */
const clientOf = (system: SystemProcesses) =>
  ({
    platformApiKey: system.platformApiKey,
    request: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlRequest(system.gatewayUrl, query, variables, headers),
    ok: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlOk(system.gatewayUrl, query, variables, headers),
  }) as unknown as TestSupergraph;

/** A fresh tenant with four priced skus, 30 units each: enough for most orders, not all. */
async function arrange(world: DrillWorld): Promise<Shop> {
  const client = clientOf(world.system);
  const shop = await createShop(client, `drill-${randomBytes(3).toString('hex')}`);
  await addProduct(client, shop, 'Drill', SKUS);
  for (const sku of SKUS) {
    await retry(() => setPrice(client, shop, sku, '2.50'));
    await retry(() => receiveStock(client, shop, sku, 30));
  }
  return shop;
}

const retry = async <T>(attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
};

/**
 * Sends `total` placeOrder calls, six at a time, each with its own idempotency key and two lines;
 * calls `fault` once `faultAfter` were answered (the load goes on meanwhile).
 */
async function load(world: DrillWorld, shop: Shop, total: number, faultAfter: number, fault: () => Promise<void>): Promise<string[]> {
  const acknowledged: string[] = [];
  let next = 0;
  let faulted: Promise<void> | undefined;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const lines = [SKUS[i % 4]!, SKUS[(i + 1) % 4]!].map((sku) => ({ sku, quantity: 1 + (i % 2) }));
      // A client retries an unanswered call with the same idempotency key once the fault is over,
      // as a till would: a call that committed but lost its answer must not place a second order.
      // The sale is quoted once; a retry sends the same input, token included.
      let input: Awaited<ReturnType<typeof quoted>> | undefined;
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0) await faulted;
        input ??= await quoted(world.system.gatewayUrl, { storeId: shop.storeId, lines, idempotencyKey: `drill-${i}` }, shop.posHeaders).catch(() => undefined);
        if (!input) continue;
        const answer = await graphqlRequest<{ placeOrder: { id: string } }>(world.system.gatewayUrl, PLACE_ORDER, { input }, shop.posHeaders).catch(() => undefined);
        if (answer?.data?.placeOrder && !answer.errors?.length) {
          acknowledged.push(answer.data.placeOrder.id);
          break;
        }
      }
      if (acknowledged.length >= faultAfter && !faulted) faulted = fault();
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  await (faulted ?? fault());
  return acknowledged;
}

/** Waits until no order is PLACED and no group holds an entry, then counts what went wrong. */
async function measure(world: DrillWorld, shop: Shop, sent: number, acknowledged: string[], settleMs = 40_000): Promise<DrillFigures> {
  const db = new Client({ connectionString: world.databaseUrl });
  await db.connect();
  // Row-level security: this session reads the drill's tenant, as the services do.
  await db.query(`SELECT set_config('app.tenant_id', $1, false)`, [shop.tenantId]);
  const { orders, inventory } = world.system.schemas;
  const count = async (sql: string, params: unknown[] = [shop.tenantId]) => Number((await db.query(sql, params)).rows[0]!.n);
  const stuckNow = () => count(`SELECT count(*) AS n FROM "${orders}"."order" WHERE tenant_id = $1 AND status = 'PLACED'`);
  const deadline = Date.now() + settleMs;
  let pendingLeft: number;
  for (;;) {
    pendingLeft = await pendingOf(world.redis.url).catch(() => Number.NaN);
    if (((await stuckNow()) === 0 && pendingLeft === 0) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    const known = new Set((await db.query(`SELECT id FROM "${orders}"."order" WHERE tenant_id = $1`, [shop.tenantId])).rows.map((r: { id: string }) => r.id));
    return {
      sent,
      acknowledged: acknowledged.length,
      lost: acknowledged.filter((id) => !known.has(id)).length,
      appliedTwice:
        Math.max(0, known.size - sent) +
        (await count(`SELECT count(*) AS n FROM "${inventory}"."stock_level" s WHERE s.tenant_id = $1 AND s.reserved <> (
            SELECT coalesce(sum(r.quantity), 0) FROM "${inventory}"."reservation" r
             WHERE r.tenant_id = s.tenant_id AND r.sku = s.sku AND r.store_id = s.store_id AND r.status = 'ACTIVE')`)) +
        (await count(`SELECT count(*) AS n FROM (
            SELECT r.order_id FROM "${inventory}"."reservation" r WHERE r.tenant_id = $1 AND r.order_id IS NOT NULL
             GROUP BY r.order_id HAVING count(*) > 2) twice`)) +
        (await count(`SELECT count(*) AS n FROM (
            SELECT order_id FROM "${orders}"."order_transition" WHERE tenant_id = $1 AND event LIKE 'reservation.%'
             GROUP BY order_id HAVING count(*) > 1) twice`)),
      stuck: await stuckNow(),
      leaked: await count(`SELECT count(*) AS n FROM "${inventory}"."reservation" r
          WHERE r.tenant_id = $1 AND r.status = 'ACTIVE' AND r.order_id IS NOT NULL
            AND r.order_id NOT IN (SELECT id FROM "${orders}"."order" WHERE tenant_id = $1 AND status = 'RESERVED')`),
      pendingLeft,
    };
  } finally {
    await db.end();
  }
}

/** Entries pending in every group of every stream of this Redis (what XPENDING shows). */
export async function pendingOf(url: string): Promise<number> {
  const client = createClient({ url, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let total = 0;
    for (const key of await client.keys('*')) {
      if ((await client.type(key)) !== 'stream') continue;
      for (const group of await client.xInfoGroups(key)) total += Number(group.pending);
    }
    return total;
  } finally {
    await client.quit();
  }
}

/** Orders go out at this rate per drill; the fault comes about 40 % in. */
const ORDERS = 60;
const FAULT_AFTER = 24;

/**
 * kill -9 of the orders and inventory processes in the middle of a placeOrder rush. Orders comes
 * back as the same instance (its consumer name: it takes up what it left pending); inventory as a
 * new one (another consumer name: it claims what the dead one left, once idle long enough).
 */
export async function serviceCrashDrill(world: DrillWorld): Promise<DrillFigures> {
  const shop = await arrange(world);
  const acknowledged = await load(world, shop, ORDERS, FAULT_AFTER, async () => {
    await Promise.all([world.system.kill('orders'), world.system.kill('inventory')]);
    await Promise.all([world.system.start('orders'), world.system.start('inventory', `inventory-${randomBytes(3).toString('hex')}`)]);
  });
  return measure(world, shop, ORDERS, acknowledged);
}

export interface RedisLossFigures extends DrillFigures {
  /** The gateway's /readyz while Redis was down, and once it was back (503, then 200). */
  readyWhileDown: number;
  readyAfter: number;
  /** A product created after Redis came back empty could be stocked (inventory learned of it). */
  newProductReachedInventory: boolean;
}

/**
 * kill -9 of Redis in the middle of a placeOrder rush; it stays down ~3 s and comes back empty
 * (no persistence). No service is restarted.
 */
export async function redisLossDrill(world: DrillWorld): Promise<RedisLossFigures> {
  const shop = await arrange(world);
  const readyz = world.system.gatewayUrl.replace('/graphql', '/readyz');
  let readyWhileDown = 0;
  const acknowledged = await load(world, shop, ORDERS, FAULT_AFTER, async () => {
    await world.redis.kill();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    readyWhileDown = (await fetch(readyz)).status;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await world.redis.start();
  });
  const figures = await measure(world, shop, ORDERS, acknowledged);
  let readyAfter = 0;
  await retry(async () => {
    readyAfter = (await fetch(readyz)).status;
    if (readyAfter !== 200) throw new Error(`/readyz ${readyAfter}`);
  }).catch(() => undefined);
  const client = clientOf(world.system);
  const sku = `DRL-NEW-${randomBytes(2).toString('hex')}`;
  await addProduct(client, shop, 'After the loss', [sku]);
  const newProductReachedInventory = await retry(() => receiveStock(client, shop, sku, 1), 20_000).then(() => true, () => false);
  return { ...figures, readyWhileDown, readyAfter, newProductReachedInventory };
}
