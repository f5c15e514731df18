import { MAX_RETRY_DELAY_MS, retryDelayMs } from '../../subgraphs/tenant/src/webhooks/config.js';
import { resourceKeyOf } from '../../subgraphs/tenant/src/webhooks/resource-key.js';
import { generateWebhookSecret, signWebhook } from '../../subgraphs/tenant/src/webhooks/signing.js';
import { targetGuard, TargetRefused, type Lookup } from '../../lib/outbound/target-policy.js';
import { verifyStandardWebhook } from '../support/webhook-receiver.js';

describe('outbound webhook signing (Standard Webhooks)', () => {
  it("matches the specification's published example", () => {
    // The reference libraries' test vector: secret, message id, timestamp, body → signature.
    expect(signWebhook(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('is verified by an independent receiver, with either secret during a rotation', async () => {
    const [next, previous] = [generateWebhookSecret(), generateWebhookSecret()];
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"type":"orders.order.placed","data":{"id":"o1"}}';
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook([next, previous], 'msg_1', timestamp, body) };
    expect(await verifyStandardWebhook(next, headers, body)).toBe(true);
    expect(await verifyStandardWebhook(previous, headers, body)).toBe(true);
    expect(await verifyStandardWebhook(generateWebhookSecret(), headers, body)).toBe(false);
    // An old timestamp (a replay) is refused by the receiver.
    const stale = { ...headers, 'webhook-timestamp': String(timestamp - 600), 'webhook-signature': signWebhook([next], 'msg_1', timestamp - 600, body) };
    expect(await verifyStandardWebhook(next, stale, body)).toBe(false);
  });
});

describe('retry delays', () => {
  it('double from the base, with half of each delay random, capped at 2 h; retried for 24 h that is about 20 attempts', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(n, 5_000, () => 0))).toEqual([2_500, 5_000, 10_000]);
    expect([1, 2, 3].map((n) => retryDelayMs(n, 5_000, () => 1))).toEqual([5_000, 10_000, 20_000]);
    expect(retryDelayMs(40, 5_000, () => 1)).toBe(MAX_RETRY_DELAY_MS);
    let elapsed = 0;
    let attempts = 1;
    while (elapsed < 86_400_000) elapsed += retryDelayMs(attempts++, 5_000, () => 0.5);
    expect(attempts).toBeGreaterThan(10);
    expect(attempts).toBeLessThan(40);
  });
});

describe('the SSRF guard', () => {
  const answers = (addresses: string[]): Lookup => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  const refusal = async (run: () => Promise<unknown> | unknown) => {
    try {
      await run();
      return 'allowed';
    } catch (error) {
      return error instanceof TargetRefused ? error.code : String(error);
    }
  };

  it('checks every address a name resolves to, each time it is asked (DNS may change between creation and delivery)', async () => {
    let now = ['93.184.216.34'];
    const guard = targetGuard({ requireHttps: false, allowedCidrs: [] }, async (host) => answers(now)(host));
    const url = guard.checkUrl('https://hooks.example.com/in');
    expect(await guard.resolve(url)).toEqual({ address: '93.184.216.34', family: 4 });
    now = ['10.0.0.5'];
    expect(await refusal(() => guard.resolve(url))).toBe('WEBHOOK_TARGET_FORBIDDEN');
    now = ['93.184.216.34', '169.254.169.254'];
    expect(await refusal(() => guard.resolve(url))).toBe('WEBHOOK_TARGET_FORBIDDEN');
    now = ['::ffff:127.0.0.1'];
    expect(await refusal(() => guard.resolve(url))).toBe('WEBHOOK_TARGET_FORBIDDEN');
  });

  it('refuses plain http in production and credentials anywhere; allowed ranges open only themselves', async () => {
    const production = targetGuard({ requireHttps: true, allowedCidrs: [] }, answers(['93.184.216.34']));
    expect(await refusal(() => production.checkUrl('http://hooks.example.com/'))).toBe('WEBHOOK_URL_INVALID');
    expect(await refusal(() => production.checkUrl('https://a:b@hooks.example.com/'))).toBe('WEBHOOK_URL_INVALID');
    const tests = targetGuard({ requireHttps: false, allowedCidrs: ['127.0.0.0/8'] }, answers([]));
    expect(await refusal(() => tests.resolve(new URL('http://127.0.0.1:9/')))).toBe('allowed');
    expect(await refusal(() => tests.resolve(new URL('http://10.0.0.1/')))).toBe('WEBHOOK_TARGET_FORBIDDEN');
    expect(await refusal(() => tests.resolve(new URL('http://[::1]/')))).toBe('WEBHOOK_TARGET_FORBIDDEN');
    expect(await refusal(() => tests.resolve(new URL('http://nothing.example/')))).toBe('WEBHOOK_TARGET_FORBIDDEN');
  });
});

describe('resource keys', () => {
  it('name the order, or the sku in its store, so their deliveries keep their order', () => {
    expect(resourceKeyOf('orders.order.paid', { id: 'o1', storeId: 's1' })).toBe('orders.order:o1');
    expect(resourceKeyOf('inventory.reservation.confirmed', { orderId: 'o1' })).toBe('inventory.reservation:o1');
    expect(resourceKeyOf('inventory.stock-level.changed', { sku: 'A', storeId: 's1' })).toBe('inventory.stock-level:A@s1');
    expect(resourceKeyOf('pricing.price.changed', { sku: 'A', storeId: 's1' })).toBe('pricing.price:A@s1');
    expect(resourceKeyOf('catalog.feed.batch-imported', { rows: 3 })).toBe('catalog.feed');
  });
});
