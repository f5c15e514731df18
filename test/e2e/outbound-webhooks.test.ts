import { graphqlOk, graphqlRequest } from '../../scripts/graphql-request.js';
import { DEFAULT_OUTBOUND_WEBHOOKS } from '../../subgraphs/tenant/src/webhooks/config.js';
import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startRedisProcess, startSystemProcesses, type RedisProcess, type SystemProcesses } from '../support/drills/system-processes.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { startWebhookReceiver, verifyStandardWebhook, type Received } from '../support/webhook-receiver.js';

export const CREATE = `mutation ($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { secret subscription { id url eventTypes description status failureReason createdAt previousSecretValidUntil } }
}`;
const LIST = '{ webhookSubscriptions { id url eventTypes status failureReason failingSince } }';
export const DELIVERIES = `query ($id: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {
  webhookDeliveries(subscriptionId: $id, status: $status, first: $first, after: $after) {
    edges { cursor node { id eventId eventType status attempts responseStatus responseBody latencyMs error deliveredAt nextAttemptAt
      request { url body headers { name value } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const REDELIVER = 'mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id eventId status attempts } }';
const ROTATE = 'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret subscription { id previousSecretValidUntil } } }';
const DELETE = 'mutation ($id: ID!) { deleteWebhookSubscription(id: $id) { id } }';

type Receiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
interface Body { type: string; timestamp: string; version: number; eventId: string; data: { sku: string; version: number; onHand: number } }
const parse = (r: Received) => JSON.parse(r.body) as Body;

describe('outbound webhooks (Standard Webhooks) through the gateway', () => {
  let system: TestSupergraph;
  let receiver: Receiver;
  let shop: Shop;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    system = await startSupergraph({
      subgraphOptions: {
        // Loopback allowed (the receiver); quick retries, a short window and timeout so the test sees them end.
        // The window leaves room for the slow receiver's retry after its 1 s timeout when the first attempt
        // starts late: at 2 s it ended first once, at load 8 (the delivery FAILED after one attempt).
        webhooks: { ...DEFAULT_OUTBOUND_WEBHOOKS, policy: { requireHttps: false, allowedCidrs: ['127.0.0.0/8'] }, retryBaseMs: 40, retryWindowMs: 5_000, timeoutMs: 1_000, pollMs: 100 },
      },
    });
    shop = await createShop(system);
    await addProduct(system, shop, 'Hook Tea', ['HOOK-1', 'HOOK-2', 'HOOK-3', 'HOOK-4']);
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
    await receiver?.stop();
  });

  const subscribe = async (path: string, eventTypes = ['inventory.stock-level.changed'], headers = shop.headers) =>
    (await system.ok(CREATE, { input: { url: receiver.url(path), eventTypes, description: path } }, headers)).createWebhookSubscription as {
      secret: string;
      subscription: { id: string; status: string };
    };
  const deliveries = async (id: string, status?: string) =>
    (await system.ok(DELIVERIES, { id, status, first: 100 }, shop.headers)).webhookDeliveries.edges.map((e: { node: unknown }) => e.node) as {
      id: string; eventId: string; status: string; attempts: number; responseStatus: number | null; responseBody: string | null; latencyMs: number | null;
      error: string | null; request: { url: string; body: string; headers: { name: string; value: string }[] };
    }[];

  it('signs every delivery, retries after 500s and keeps each resource in order', async () => {
    receiver.on('/orders', (_r, index) => ({ status: index < 2 ? 500 : 200 }));
    const { secret, subscription } = await subscribe('/orders');
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    // The secret is shown once: the list has no field for it.
    expect((await system.ok(LIST, {}, shop.headers)).webhookSubscriptions).toContainEqual({
      id: subscription.id, url: receiver.url('/orders'), eventTypes: ['inventory.stock-level.changed'], status: 'ACTIVE', failureReason: null, failingSince: null,
    });

    for (let i = 0; i < 3; i++) await receiveStock(system, shop, 'HOOK-1', 1);
    await eventually(async () => expect(receiver.at('/orders').filter((r) => r.answered === 200)).toHaveLength(3), 20_000);

    const got = receiver.at('/orders');
    for (const request of got) expect(await verifyStandardWebhook(secret, request.headers, request.body)).toBe(true);
    // Tampered body or another secret: refused by the same verifier.
    expect(await verifyStandardWebhook(secret, got[0]!.headers, got[0]!.body.replace('HOOK-1', 'HOOK-9'))).toBe(false);
    expect(await verifyStandardWebhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, got[0]!.headers, got[0]!.body)).toBe(false);
    // Two 500s then 200 for the first; the later ones waited for it: versions never go back.
    expect(got.map((r) => [parse(r).data.version, r.answered])).toEqual([[1, 500], [1, 500], [1, 200], [2, 200], [3, 200]]);
    expect(new Set(got.slice(0, 3).map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(parse(got[0]!)).toMatchObject({ type: 'inventory.stock-level.changed', version: 1, data: { sku: 'HOOK-1', onHand: 1 } });
    expect(got[0]!.headers['webhook-id']).toBe(`msg_${parse(got[0]!).eventId}`);

    const list = await deliveries(subscription.id);
    expect(list.map((d) => [d.status, d.attempts, d.responseStatus])).toEqual([['DELIVERED', 1, 200], ['DELIVERED', 1, 200], ['DELIVERED', 3, 200]]);
    const first = list[2]!;
    expect(first.latencyMs).toEqual(expect.any(Number));
    expect(first.request.url).toBe(receiver.url('/orders'));
    expect(first.request.body).toBe(got[2]!.body);
    expect(first.request.headers.map((h) => h.name).sort()).toEqual(['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    expect(await deliveries(subscription.id, 'PENDING')).toEqual([]);

    // Pages of one, newest first.
    const page = (await system.ok(DELIVERIES, { id: subscription.id, first: 1 }, shop.headers)).webhookDeliveries;
    const next = (await system.ok(DELIVERIES, { id: subscription.id, first: 1, after: page.pageInfo.endCursor }, shop.headers)).webhookDeliveries;
    expect([page.pageInfo.hasNextPage, next.edges[0].node.id]).toEqual([true, list[1]!.id]);

    // Redelivery: the same event, the same webhook-id, a new delivery.
    const again = (await system.ok(REDELIVER, { id: first.id }, shop.headers)).redeliverWebhook;
    expect(again).toMatchObject({ eventId: first.eventId, status: 'PENDING', attempts: 0 });
    await eventually(async () => expect(receiver.at('/orders')).toHaveLength(6), 10_000);
    expect(receiver.at('/orders')[5]!.headers['webhook-id']).toBe(`msg_${first.eventId}`);
  }, 60_000);

  it("sends a feed's stock as one delivery per sku to subscribers of the per-row type, and as one batch to subscribers of the batch type", async () => {
    await subscribe('/feed-rows');
    await subscribe('/feed-batch', ['inventory.stock-levels.changed']);
    const csv = ['handle,title,sku,price,currency,store,stock', 'hook-feed,Hook Feed,HOOKF-1,1.00,EUR,S1,5', 'hook-feed,Hook Feed,HOOKF-2,1.00,EUR,S1,7'].join('\n');
    await system.ok('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv }, shop.headers);
    await eventually(async () => {
      expect(receiver.at('/feed-rows').filter((r) => r.answered === 200)).toHaveLength(2);
      expect(receiver.at('/feed-batch').filter((r) => r.answered === 200)).toHaveLength(1);
    }, 30_000);
    const rows = receiver.at('/feed-rows').map((r) => parse(r));
    expect(rows.map((r) => [r.type, r.data.sku, r.data.onHand]).sort()).toEqual([['inventory.stock-level.changed', 'HOOKF-1', 5], ['inventory.stock-level.changed', 'HOOKF-2', 7]]);
    // Each change is a message of its own (its own webhook-id), not the batch's.
    expect(new Set(receiver.at('/feed-rows').map((r) => r.headers['webhook-id'])).size).toBe(2);
    const batch = JSON.parse(receiver.at('/feed-batch')[0]!.body) as { type: string; eventId: string; data: { changes: { sku: string; onHand: number }[] } };
    expect(batch.type).toBe('inventory.stock-levels.changed');
    expect(batch.data.changes.map((c) => [c.sku, c.onHand]).sort()).toEqual([['HOOKF-1', 5], ['HOOKF-2', 7]]);
    expect(rows.map((r) => r.eventId)).not.toContain(batch.eventId);
  }, 60_000);

  it('rotates the secret: both the new and (for 24 h) the old one sign', async () => {
    const { secret: old, subscription } = await subscribe('/rotate');
    const rotated = (await system.ok(ROTATE, { id: subscription.id }, shop.headers)).rotateWebhookSecret;
    expect(rotated.secret).not.toBe(old);
    expect(Date.parse(rotated.subscription.previousSecretValidUntil)).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    await receiveStock(system, shop, 'HOOK-2', 1);
    await eventually(async () => expect(receiver.at('/rotate')).toHaveLength(1), 10_000);
    const [request] = receiver.at('/rotate');
    expect(request!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(await verifyStandardWebhook(rotated.secret, request!.headers, request!.body)).toBe(true);
    expect(await verifyStandardWebhook(old, request!.headers, request!.body)).toBe(true);
    expect((await system.ok(DELETE, { id: subscription.id }, shop.headers)).deleteWebhookSubscription.id).toBe(subscription.id);
    expect((await system.request(DELETE, { id: subscription.id }, shop.headers)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  }, 30_000);

  it('follows no redirect, caps response bodies, times out, and marks a subscription failing after the retry window', async () => {
    receiver.on('/redirect', () => ({ status: 302, headers: { location: receiver.url('/elsewhere') } }));
    receiver.on('/huge', () => ({ status: 200, body: 'x'.repeat(100_000) }));
    receiver.on('/slow', (_r, index) => (index === 0 ? 'hang' : { status: 200 }));
    const redirect = await subscribe('/redirect', ['inventory.stock-level.changed']);
    const huge = await subscribe('/huge');
    const slow = await subscribe('/slow');
    await receiveStock(system, shop, 'HOOK-3', 1);

    await eventually(async () => expect((await deliveries(huge.subscription.id))[0]?.status).toBe('DELIVERED'), 10_000);
    expect((await deliveries(huge.subscription.id))[0]!.responseBody).toHaveLength(4096);
    await eventually(async () => expect((await deliveries(slow.subscription.id))[0]).toMatchObject({ status: 'DELIVERED', attempts: 2 }), 15_000);
    expect(receiver.at('/slow')).toHaveLength(2);

    // 3xx is a failure; retried (never at the Location) until the window (5 s here, 24 h by default) ends.
    await eventually(async () => expect((await system.ok(LIST, {}, shop.headers)).webhookSubscriptions.find((s: { id: string }) => s.id === redirect.subscription.id)).toMatchObject({
      status: 'FAILING', failureReason: expect.stringContaining('last attempt: HTTP 302'), failingSince: expect.any(String),
    }), 20_000);
    expect(receiver.at('/elsewhere')).toEqual([]);
    const [failed] = await deliveries(redirect.subscription.id, 'FAILED');
    expect(failed).toMatchObject({ responseStatus: 302, status: 'FAILED' });
    expect(failed!.attempts).toBeGreaterThan(1);
    // A failing subscription's new events wait; a redelivery makes it active again.
    receiver.on('/redirect', () => ({ status: 204 }));
    await system.ok(REDELIVER, { id: failed!.id }, shop.headers);
    await eventually(async () => expect((await deliveries(redirect.subscription.id, 'DELIVERED'))).toHaveLength(1), 10_000);
  }, 60_000);

  it('refuses private, loopback, link-local and malformed targets with codes', async () => {
    const refuse = async (url: string) => {
      const result = await system.request(CREATE, { input: { url, eventTypes: ['orders.order.placed'] } }, shop.headers);
      return [result.errors?.[0]?.extensions?.code, result.errors?.[0]?.extensions?.field];
    };
    expect(await refuse('http://10.1.2.3/hook')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://169.254.169.254/latest/meta-data')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://192.168.1.1/')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://[::1]:8080/')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://[::ffff:10.0.0.1]/')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://[fd00::1]/')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('http://no-such-host.invalid/')).toEqual(['WEBHOOK_TARGET_FORBIDDEN', 'url']);
    expect(await refuse('ftp://example.com/')).toEqual(['WEBHOOK_URL_INVALID', 'url']);
    expect(await refuse('http://user:pass@127.0.0.1/')).toEqual(['WEBHOOK_URL_INVALID', 'url']);
    expect(await refuse('not a url')).toEqual(['WEBHOOK_URL_INVALID', 'url']);
    const unknownType = await system.request(CREATE, { input: { url: receiver.url('/x'), eventTypes: ['orders.order.exploded'] } }, shop.headers);
    expect(unknownType.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'eventTypes' });
    const internal = await system.request(CREATE, { input: { url: receiver.url('/x'), eventTypes: ['tenant.api-key.revoked'] } }, shop.headers);
    expect(internal.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'eventTypes' });
    // Admin only.
    const pos = await system.request(CREATE, { input: { url: receiver.url('/x'), eventTypes: ['orders.order.placed'] } }, shop.posHeaders);
    expect(pos.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  }, 30_000);

  it("never delivers another tenant's events", async () => {
    const other = await createShop(system);
    await addProduct(system, other, 'Other Tea', ['OTHER-1']);
    const mine = await subscribe('/mine', ['inventory.stock-level.changed'], other.headers);
    await receiveStock(system, shop, 'HOOK-4', 1);
    await receiveStock(system, other, 'OTHER-1', 1);
    await eventually(async () => expect(receiver.at('/mine')).toHaveLength(1), 10_000);
    expect(parse(receiver.at('/mine')[0]!).data.sku).toBe('OTHER-1');
    expect((await system.request(DELIVERIES, { id: mine.subscription.id }, shop.headers)).data?.webhookDeliveries.edges).toEqual([]);
  }, 30_000);
});

// Real processes share a real PostgreSQL; the embedded PGlite of the default run serves one process.
const real = process.env.DATABASE_URL && !process.env.TEST_EMBEDDED_POSTGRES;
(real ? describe : describe.skip)('outbound webhooks survive kill -9 of the delivering process', () => {
  let receiver: Receiver;
  let redis: RedisProcess;
  let processes: SystemProcesses;
  let passed = false;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    redis = await startRedisProcess();
    processes = await startSystemProcesses({
      databaseUrl: process.env.DATABASE_URL!,
      redisUrl: redis.url,
      env: { WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8', WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_RETRY_BASE_MS: '200', EVENT_CLAIM_IDLE_MS: '2000' },
    });
  }, 400_000);
  afterAll(async () => {
    await processes?.stop(!passed);
    await redis?.stop();
    await receiver?.stop();
  });

  it('loses no delivery when the tenant process dies mid-request, and keeps their order', async () => {
    const gateway = {
      platformApiKey: processes.platformApiKey,
      request: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlRequest(processes.gatewayUrl, query, variables, headers),
      ok: (query: string, variables?: Record<string, unknown>, headers?: Record<string, string>) => graphqlOk(processes.gatewayUrl, query, variables, headers),
    } as unknown as TestSupergraph;
    const shop = await createShop(gateway);
    await addProduct(gateway, shop, 'Crash Tea', ['CRASH-1']);
    let inFlight!: () => void;
    const firstInFlight = new Promise<void>((resolve) => (inFlight = resolve));
    // The first request is never answered: the process is killed while it waits.
    receiver.on('/crash', (_r, index) => {
      if (index === 0) {
        inFlight();
        return 'hang';
      }
      return { status: 200 };
    });
    const { secret, subscription } = (await gateway.ok(CREATE, { input: { url: receiver.url('/crash'), eventTypes: ['inventory.stock-level.changed'] } }, shop.headers))
      .createWebhookSubscription;

    await receiveStock(gateway, shop, 'CRASH-1', 1);
    await firstInFlight;
    for (let i = 0; i < 3; i++) await receiveStock(gateway, shop, 'CRASH-1', 1);
    await processes.kill('tenant');
    // Written while the consumer is dead: they wait on the bus.
    for (let i = 0; i < 3; i++) await receiveStock(gateway, shop, 'CRASH-1', 1);
    await processes.start('tenant');

    await eventually(async () => expect(new Set(receiver.at('/crash').filter((r) => r.answered === 200).map((r) => r.headers['webhook-id'])).size).toBe(7), 60_000);
    const answered = receiver.at('/crash').filter((r) => r.answered === 200);
    for (const request of receiver.at('/crash')) expect(await verifyStandardWebhook(secret, request.headers, request.body)).toBe(true);
    // At least once: the interrupted one again, then every later version once, in order.
    expect(answered.map((r) => parse(r).data.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const list = (await gateway.ok(DELIVERIES, { id: subscription.id, first: 100 }, shop.headers)).webhookDeliveries.edges;
    expect(list.map((e: { node: { status: string } }) => e.node.status)).toEqual(Array(7).fill('DELIVERED'));
    passed = true;
  }, 300_000);
});
