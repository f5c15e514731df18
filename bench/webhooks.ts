/**
 * Outbound webhook delivery: latency from an event (its `timestamp`, the outbox write) to the
 * receiver, p50/p95, and deliveries/s with 100 subscriptions of one tenant to a local receiver.
 * `npm run bench:webhooks` (embedded), or with DATABASE_URL / REDIS_URL. Small on purpose.
 */
import { DEFAULT_OUTBOUND_WEBHOOKS } from '../subgraphs/tenant/src/webhooks/config.js';
import { addProduct, createShop, receiveStock } from '../test/support/fixtures.js';
import { startSupergraph } from '../test/support/start-supergraph.js';
import { startWebhookReceiver } from '../test/support/webhook-receiver.js';
import { benchArgs } from './args.js';

const SUBSCRIPTIONS = Number(process.env.BENCH_SUBSCRIPTIONS ?? 100);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20);
const CREATE = 'mutation ($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) { subscription { id } } }';

async function main() {
  benchArgs({ options: {} });
  const receiver = await startWebhookReceiver();
  const arrivals: { at: number; sent: number }[] = [];
  receiver.on('/bench', (request) => {
    arrivals.push({ at: Date.now(), sent: Date.parse((JSON.parse(request.body) as { timestamp: string }).timestamp) });
    return { status: 204 };
  });
  const system = await startSupergraph({
    subgraphOptions: { webhooks: { ...DEFAULT_OUTBOUND_WEBHOOKS, policy: { requireHttps: false, allowedCidrs: ['127.0.0.0/8'] }, concurrency: 32 } },
  });
  try {
    const shop = await createShop(system);
    // Distinct skus: deliveries about different resources go out in parallel.
    const skus = Array.from({ length: EVENTS }, (_, i) => `WB-${i}`);
    await addProduct(system, shop, 'Bench Tea', skus);
    for (let i = 0; i < SUBSCRIPTIONS; i++) await system.ok(CREATE, { input: { url: receiver.url('/bench'), eventTypes: ['inventory.stock-level.changed'] } }, shop.headers);
    const expected = SUBSCRIPTIONS * EVENTS;
    const started = Date.now();
    for (const sku of skus) await receiveStock(system, shop, sku, 1);
    while (arrivals.length < expected) {
      if (Date.now() - started > 300_000) throw new Error(`only ${arrivals.length} of ${expected} deliveries in 300 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (Math.max(...arrivals.map((a) => a.at)) - started) / 1000;
    const latencies = arrivals.map((a) => a.at - a.sent).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    console.log(`database: ${process.env.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite'}, bus: ${process.env.REDIS_URL ? 'Redis' : 'in-process'}`);
    console.log(`${SUBSCRIPTIONS} subscriptions × ${EVENTS} events = ${expected} deliveries in ${seconds.toFixed(1)} s: ${(expected / seconds).toFixed(0)} deliveries/s`);
    console.log(`burst: event → receiver latency: p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${latencies.at(-1)} ms`);
    // One event at a time (no backlog): what each of the 100 receivers waits.
    arrivals.length = 0;
    for (let i = 0; i < 5; i++) {
      await receiveStock(system, shop, skus[0]!, 1);
      while (arrivals.length < SUBSCRIPTIONS * (i + 1)) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const quiet = arrivals.map((a) => a.at - a.sent).sort((a, b) => a - b);
    const q = (p: number) => quiet[Math.min(quiet.length - 1, Math.floor((p / 100) * quiet.length))];
    console.log(`one event at a time (${SUBSCRIPTIONS} deliveries each): p50 ${q(50)} ms, p95 ${q(95)} ms`);
  } finally {
    await system.stop();
    await receiver.stop();
  }
}

void main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
