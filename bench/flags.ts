/**
 * `npm run bench:flags [-- --runs 20]`: how long a feature flag change takes to reach other
 * processes. Runs the system as production does (a process per service, on the PostgreSQL of
 * DATABASE_URL and a Redis of its own) with two gateways, two tenant and two orders processes; the
 * second gateway reaches `tenant-2` and `orders-2`. Each run sets `order-workflow-version` through
 * the first gateway (alternating v1 and v2) and polls through the second, until
 * `featureFlagEvaluation` (tenant-2's cache) and `placeOrder` (orders-2's cache and copy) show the
 * new value. Prints, for each, min / p50 / p95 / max in ms from `setFeatureFlag`'s answer to the
 * first answer showing the change (and from when it was sent). Both caches are warm before each run.
 */
import { randomBytes } from 'node:crypto';
import { graphqlOk, graphqlRequest } from '../scripts/graphql-request.js';
import { addProduct, createShop, quoted, receiveStock, setPrice } from '../test/support/fixtures.js';
import { startRedisProcess, startSystemProcesses } from '../test/support/drills/system-processes.js';
import type { TestSupergraph } from '../test/support/start-supergraph.js';
import { benchArgs } from './args.js';

const SET = 'mutation ($i: FeatureFlagInput!) { setFeatureFlag(input: $i) { revision } }';
const EVALUATE = 'query { featureFlagEvaluation(key: "order-workflow-version") { value } }';
const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { workflowVersion } }';

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (n: number) => n.toFixed(1);
  return `min ${f(sorted[0]!)}  p50 ${f(percentile(sorted, 50))}  p95 ${f(percentile(sorted, 95))}  max ${f(sorted.at(-1)!)}`;
};

async function main(): Promise<void> {
  const { values } = benchArgs({ options: { runs: { type: 'string', default: '20' } } });
  const runs = Number(values.runs);
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('bench:flags runs a process per service: set DATABASE_URL to a PostgreSQL (e.g. the one .ci/run starts)');
  const redis = await startRedisProcess();
  const system = await startSystemProcesses({ databaseUrl, redisUrl: redis.url, replicas: { tenant: 2, orders: 2 }, gateways: 2 });
  try {
    const [first, second] = system.gatewayUrls as [string, string];
    const client = {
      platformApiKey: system.platformApiKey,
      request: (q: string, v?: Record<string, unknown>, h?: Record<string, string>) => graphqlRequest(first, q, v, h),
      ok: (q: string, v?: Record<string, unknown>, h?: Record<string, string>) => graphqlOk(first, q, v, h),
    } as unknown as TestSupergraph;
    const shop = await createShop(client, `bench-flags-${randomBytes(3).toString('hex')}`);
    await addProduct(client, shop, 'Bench', ['BENCH-FLAG']);
    await setPrice(client, shop, 'BENCH-FLAG', '1.00');
    await receiveStock(client, shop, 'BENCH-FLAG', 1_000_000);
    const flag = (version: 1 | 2) => ({ key: 'order-workflow-version', enabled: true, variants: [{ name: 'v1', value: '1' }, { name: 'v2', value: '2' }], defaultVariant: `v${version}` });
    const evaluated = async () => (await graphqlOk(second, EVALUATE, {}, shop.headers)).featureFlagEvaluation.value as string | null;
    const placed = async () =>
      (await graphqlOk(second, PLACE, { i: await quoted(second, { storeId: shop.storeId, lines: [{ sku: 'BENCH-FLAG', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders)).placeOrder.workflowVersion as number;
    // Until the second gateway's orders process knows the sku, store and price.
    for (let tries = 0; ; tries++) {
      try {
        await placed();
        break;
      } catch (error) {
        if (tries > 200) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const fromAnswer = { tenant: [] as number[], orders: [] as number[] };
    const fromSend = { tenant: [] as number[], orders: [] as number[] };
    for (let run = 0; run < runs; run++) {
      const version = run % 2 === 0 ? 1 : 2;
      // Warm: both processes have the tenant's flags cached before the change.
      await evaluated();
      await placed();
      const sent = performance.now();
      await graphqlOk(first, SET, { i: flag(version) }, shop.headers);
      const answered = performance.now();
      const until = async (shows: () => Promise<boolean>): Promise<number> => {
        for (;;) {
          if (await shows()) return performance.now();
          if (performance.now() - answered > 10_000) throw new Error('the change did not arrive within 10 s');
        }
      };
      const [tenantAt, ordersAt] = await Promise.all([until(async () => (await evaluated()) === String(version)), until(async () => (await placed()) === version)]);
      fromAnswer.tenant.push(tenantAt - answered);
      fromAnswer.orders.push(ordersAt - answered);
      fromSend.tenant.push(tenantAt - sent);
      fromSend.orders.push(ordersAt - sent);
    }
    console.log(`feature flag propagation, ${runs} changes (ms; another gateway, tenant and orders process than the one that wrote):`);
    console.log(`  tenant-2 featureFlagEvaluation, from the answer: ${summary(fromAnswer.tenant)}`);
    console.log(`  orders-2 placeOrder,            from the answer: ${summary(fromAnswer.orders)}`);
    console.log(`  tenant-2 featureFlagEvaluation, from the send:   ${summary(fromSend.tenant)}`);
    console.log(`  orders-2 placeOrder,            from the send:   ${summary(fromSend.orders)}`);
  } finally {
    await system.stop();
    await redis.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
