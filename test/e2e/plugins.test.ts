import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { startWebhookReceiver, verifyStandardWebhook, type Received } from '../support/webhook-receiver.js';

/** The `COMMERCE_PLUGINS` of docs/hooks.md's example, as written. */
const documented = /COMMERCE_PLUGINS='([^']+)'/.exec(readFileSync(join(__dirname, '..', '..', 'docs', 'hooks.md'), 'utf8'))![1]!;
const CREATE = 'mutation ($input: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $input) { secret } }';
const ADJUST = 'mutation ($input: AdjustStockInput!) { adjustStock(input: $input) { available } }';
const RESERVE = 'mutation ($input: ReserveStockInput!) { reserveStock(input: $input) { id } }';

interface Low { type: string; eventId: string; data: { sku: string; storeId: string; available: number; previousAvailable: number; threshold: number } }

describe('the low-stock-alert plug-in, loaded from COMMERCE_PLUGINS, through the gateway', () => {
  let system: TestSupergraph;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let shop: Shop;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    // Configured as `npm start` is: the plug-in from the environment, the receiver on loopback allowed.
    system = await startSupergraph({ env: { COMMERCE_PLUGINS: documented, WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_RETRY_BASE_MS: '100' } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Sencha', ['SENCHA-250', 'SENCHA-50']);
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  const adjust = (sku: string, delta: number) => system.ok(ADJUST, { input: { sku, storeId: shop.storeId, delta } }, shop.headers);

  it('publishes inventory.stock-level.low once per crossing of the threshold, to a webhook subscription', async () => {
    const { secret } = (await system.ok(CREATE, { input: { url: receiver.url('/low'), eventTypes: ['inventory.stock-level.low'] } }, shop.headers))
      .createWebhookSubscription;
    // SENCHA-250's threshold is 10 (per sku), SENCHA-50's the default 5.
    await receiveStock(system, shop, 'SENCHA-250', 12); // 0 → 12: rising, nothing
    await adjust('SENCHA-250', -2); // 12 → 10: crossed
    await adjust('SENCHA-250', -3); // 10 → 7: still below, nothing
    await system.ok(RESERVE, { input: { sku: 'SENCHA-250', storeId: shop.storeId, quantity: 1 } }, shop.headers); // 7 → 6 available: nothing
    await receiveStock(system, shop, 'SENCHA-250', 10); // 6 → 16: above again
    await adjust('SENCHA-250', -16); // 16 → 0: crossed again
    await receiveStock(system, shop, 'SENCHA-50', 6);
    await adjust('SENCHA-50', -1); // 6 → 5: crossed the default

    const bySku = (sku: string) => receiver.at('/low').filter((r) => r.answered === 200).map((r) => JSON.parse(r.body) as Low).filter((b) => b.data.sku === sku);
    await eventually(async () => expect([bySku('SENCHA-250').length, bySku('SENCHA-50').length]).toEqual([2, 1]), 20_000);
    // Deliveries of one sku and store go out in the order of their events: had a write below the
    // threshold published one, it would have come between these two.
    expect(bySku('SENCHA-250').map((b) => b.data)).toEqual([
      { sku: 'SENCHA-250', storeId: shop.storeId, available: 10, previousAvailable: 12, threshold: 10, causeEventId: expect.any(String) },
      { sku: 'SENCHA-250', storeId: shop.storeId, available: 0, previousAvailable: 16, threshold: 10, causeEventId: expect.any(String) },
    ]);
    expect(bySku('SENCHA-50').map((b) => [b.type, b.data.available, b.data.threshold])).toEqual([['inventory.stock-level.low', 5, 5]]);
    for (const request of receiver.at('/low')) expect(await verifyStandardWebhook(secret, request.headers, request.body)).toBe(true);
    expect(new Set(receiver.at('/low').map((r: Received) => r.headers['webhook-id'])).size).toBe(3);
  }, 60_000);
});
