import { createLogger } from '../../lib/observability/logger.js';
import { createShop, type Shop } from '../support/fixtures.js';
import { captureLogLines } from '../support/log-capture.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

describe('structured logs', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const { destination, lines, raw } = captureLogLines();

  beforeAll(async () => {
    system = await startSupergraph({ logger: createLogger('gateway', { level: 'info', destination }) });
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('writes one JSON line per operation with request id, tenant, operation and duration', async () => {
    await system.ok('query Stores { stores { code } }', {}, { ...shop.headers, 'x-request-id': 'req-logs-1' });
    const line = lines.find((l) => l.requestId === 'req-logs-1');
    expect(line).toEqual(
      expect.objectContaining({ level: 30, service: 'gateway', tenant: shop.slug, roles: ['admin'], operation: 'Stores', type: 'query', code: 'OK', msg: 'graphql operation' }),
    );
    expect(line!.durationMs).toEqual(expect.any(Number));
    expect(line!.time).toEqual(expect.any(String));
  });

  it('never writes API keys, JWTs, webhook secrets or signatures', async () => {
    const secret = 'whsec-0123456789-very-secret';
    await system.ok(
      'mutation Configure($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { source } }',
      { input: { source: 'POS', secret } },
      { ...shop.headers, 'x-request-id': 'req-logs-2' },
    );
    const jwtLike = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    await system.request('query Leak($k: ID!) { variant(sku: $k) { sku } }', { k: `${shop.adminKey} ${jwtLike} sha256=${'ab'.repeat(32)}` }, { ...shop.headers, 'x-request-id': 'req-logs-3' });
    const text = raw.join('\n');
    expect(lines.find((l) => l.requestId === 'req-logs-2')?.variables).toEqual({ input: { source: 'POS', secret: '[Redacted]' } });
    expect(lines.find((l) => l.requestId === 'req-logs-3')?.variables).toEqual({ k: '[Redacted] [Redacted] [Redacted]' });
    for (const leaked of [secret, shop.adminKey, jwtLike, 'ab'.repeat(32)]) expect(text).not.toContain(leaked);
  });

  it('logs a storefront answer served from the cache too', async () => {
    const read = 'query Shop { tenant { slug } }';
    await system.ok(read, {}, { ...shop.storefrontHeaders, 'x-request-id': 'req-logs-4' });
    await system.ok(read, {}, { ...shop.storefrontHeaders, 'x-request-id': 'req-logs-5' });
    expect(lines.find((l) => l.requestId === 'req-logs-4')).toEqual(expect.objectContaining({ tenant: shop.slug, operation: 'Shop', code: 'OK' }));
    expect(lines.find((l) => l.requestId === 'req-logs-5')).toEqual(expect.objectContaining({ tenant: shop.slug, code: 'OK', cached: true }));
  });
});
