import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import WebSocket from 'ws';
import { createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const SHELF = '{ tenant { name } }';

/** A GraphQL POST from `localAddress` (default 127.0.0.1) with these headers: status, Retry-After and body. */
function post(url: string, query: string, headers: Record<string, string>, localAddress = '127.0.0.1') {
  const body = JSON.stringify({ query });
  return new Promise<{ status: number; retryAfter: string | undefined; body: { data?: any; errors?: { message: string; extensions: { code: string } }[] } }>(
    (resolve, reject) => {
      const req = request(url, { method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

const guess = () => ({ authorization: `Bearer ck_${randomBytes(24).toString('base64url')}` });
const from = (address: string) => ({ 'x-forwarded-for': address });

describe('limits per client address', () => {
  let system: TestSupergraph;
  let shop: Shop;
  /** The tenant subgraph's API-key lookups so far (the gateway's directory asks it as GatewayApiKey). */
  const lookups = async () => {
    const text = await (await fetch(system.gatewayUrl.replace('/graphql', '/metrics'))).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('graphql_requests_total{service="tenant",operation="GatewayApiKey"'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  };

  beforeAll(async () => {
    // The test's client connects from 127.0.0.1: a trusted proxy. From 127.0.0.2 it is not one.
    system = await startSupergraph({ authFailuresPerMinute: 5, trustedProxies: ['127.0.0.1'], rateLimitPerMinute: { authenticated: 1000, anonymous: 3 } });
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('refuses an address that failed to authenticate too often with 429 and Retry-After, before any lookup; others go on', async () => {
    const guesser = from('198.51.100.7');
    const before = await lookups();
    for (let i = 0; i < 5; i++) {
      const answer = await post(system.gatewayUrl, SHELF, { ...guesser, ...guess() });
      expect(answer.body.errors?.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    }
    const afterFive = await lookups();
    expect(afterFive - before).toBe(5);

    const refused = await post(system.gatewayUrl, SHELF, { ...guesser, ...guess() });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^Too many failed authentications from this address; retry in \d+ s\.$/), extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }),
    ]);
    // For the rest of the window even a good key from there is refused; nothing reached the tenant subgraph.
    expect((await post(system.gatewayUrl, SHELF, { ...guesser, ...shop.headers })).status).toBe(429);
    for (let i = 0; i < 20; i++) expect((await post(system.gatewayUrl, SHELF, { ...guesser, ...guess() })).status).toBe(429);
    const schema = await fetch(system.gatewayUrl.replace('/graphql', '/schema.graphql'), { headers: { ...guesser, ...shop.headers } });
    expect([schema.status, Number(schema.headers.get('retry-after')) > 0]).toEqual([429, true]);
    expect(await lookups()).toBe(afterFive);

    // Another client behind the same proxy is not affected.
    const other = await post(system.gatewayUrl, SHELF, { ...from('198.51.100.8'), ...shop.headers });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ data: { tenant: { name: `Shop ${shop.slug}` } } });

    // The same unknown key again is answered from the directory's short negative cache.
    const repeated = { ...from('198.51.100.9'), ...guess() };
    await post(system.gatewayUrl, SHELF, repeated);
    const once = await lookups();
    expect((await post(system.gatewayUrl, SHELF, repeated)).body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(await lookups()).toBe(once);
  });

  it('over WebSocket: a refused address gets HTTP 429 on the upgrade, and connection_init closes with 4429', async () => {
    const wsUrl = system.gatewayUrl.replace(/^http/, 'ws');
    const upgrade = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: from('198.51.100.7') });
      socket.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined }));
      socket.on('open', () => reject(new Error('the upgrade was accepted')));
      socket.on('error', () => undefined);
    });
    expect(upgrade.status).toBe(429);
    expect(Number(upgrade.retryAfter)).toBeGreaterThan(0);

    // Connected before its address failed too often, initialised after.
    const socket = new WebSocket(wsUrl, 'graphql-transport-ws', { headers: from('198.51.100.10') });
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    for (let i = 0; i < 5; i++) await post(system.gatewayUrl, SHELF, { ...from('198.51.100.10'), ...guess() });
    socket.send(JSON.stringify({ type: 'connection_init', payload: shop.posHeaders }));
    const { code, reason } = await closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/^Too many failed authentications from this address; retry in \d+ s\.$/);
  });

  it('keys anonymous rate limits on the address a trusted proxy forwards, and ignores forwarding headers from anyone else', async () => {
    const storefront = shop.storefrontHeaders;
    for (let i = 0; i < 3; i++) expect((await post(system.gatewayUrl, SHELF, { ...storefront, ...from('203.0.113.1') })).status).toBe(200);
    const limited = await post(system.gatewayUrl, SHELF, { ...storefront, ...from('203.0.113.1') });
    expect(limited.status).toBe(429);
    expect(limited.body.errors?.map((e) => e.extensions.code)).toEqual(['RATE_LIMITED']);
    // Each client behind the proxy has a budget of its own (Forwarded works as well).
    expect((await post(system.gatewayUrl, SHELF, { ...storefront, ...from('203.0.113.2') })).status).toBe(200);
    expect((await post(system.gatewayUrl, SHELF, { ...storefront, forwarded: 'for="[2001:db8::7]:4711"' })).status).toBe(200);

    // 127.0.0.2 is no trusted proxy: what it claims in X-Forwarded-For changes nothing.
    for (let i = 0; i < 3; i++) {
      expect((await post(system.gatewayUrl, SHELF, { ...storefront, ...from(`203.0.113.${10 + i}`) }, '127.0.0.2')).status).toBe(200);
    }
    const spoofed = await post(system.gatewayUrl, SHELF, { ...storefront, ...from('203.0.113.20') }, '127.0.0.2');
    expect(spoofed.status).toBe(429);
  });
});
