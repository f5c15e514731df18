import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);

describe('hardening at the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ rateLimitPerMinute: { authenticated: 1000, anonymous: 1000 } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Salt', ['SALT-1']);
  });
  afterAll(() => system.stop());

  it('refuses a query 50 levels deep and 1,000 aliases, before any subgraph runs it', async () => {
    let deep = 'sku';
    for (let i = 0; i < 25; i += 1) deep = `product { variants { ${deep} } }`;
    const tooDeep = await system.request(`{ variant(sku: "SALT-1") { ${deep} } }`, {}, shop.headers);
    expect(tooDeep.data ?? null).toBeNull();
    expect(tooDeep.errors?.[0]).toEqual(expect.objectContaining({ message: expect.stringMatching(/depth|cost/i), extensions: { code: 'OPERATION_LIMIT_EXCEEDED' } }));
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: tenant { slug }`).join(' ');
    const tooMany = await system.request(`{ ${aliases} }`, {}, shop.headers);
    expect(tooMany.data ?? null).toBeNull();
    expect(tooMany.errors?.map((e) => e.message).join(' ')).toMatch(/alias|token/i);
    expect(codes(tooMany)).toContain('OPERATION_LIMIT_EXCEEDED');
  });

  it('refuses a 10 MB body with 413, and a batch of more than 10 operations', async () => {
    const huge = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...shop.headers },
      body: JSON.stringify({ query: '{ tenant { slug } }', variables: { padding: 'x'.repeat(10 * 1024 * 1024) } }),
    }).catch((error: unknown) => error);
    if (huge instanceof Response) {
      expect(huge.status).toBe(413);
      expect((await huge.json()).errors[0].message).toMatch(/larger than/);
    } else {
      // The server may close the socket before the whole body is sent: refused either way.
      expect(String(huge)).toMatch(/fetch failed|socket|ECONNRESET|EPIPE/i);
    }
    const batch = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...shop.headers },
      body: JSON.stringify(Array.from({ length: 11 }, () => ({ query: '{ tenant { slug } }' }))),
    });
    const body = await batch.json();
    expect(JSON.stringify(body)).toMatch(/batch/i);
  });

  it('treats SQL and JSON fragments in string arguments as plain text', async () => {
    const fragments = ["' OR 1=1 --", '"; DROP TABLE product; --', '{"$gt": ""}', '%', '_', '\\', '${tenant}'];
    for (const text of fragments) {
      const search = await system.ok('query ($q: String) { products(query: $q) { edges { node { title } } } }', { q: text }, shop.headers);
      expect({ text, found: search.products.edges }).toEqual({ text, found: [] });
      const variant = await system.ok('query ($sku: ID!) { variant(sku: $sku) { sku } }', { sku: text }, shop.headers);
      expect(variant.variant).toBeNull();
      const stock = await system.request('mutation ($i: ReceiveStockInput!) { receiveStock(input: $i) { onHand } }', { i: { sku: text, storeId: text, quantity: 1 } }, shop.headers);
      expect(codes(stock)).toEqual(['NOT_FOUND']);
      const tenant = await system.request('{ tenant { slug } }', {}, { 'x-tenant-id': text });
      expect(codes(tenant)).toEqual(['UNAUTHENTICATED']);
    }
    const sku = await system.request('mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }', { i: { title: 'x', variants: [{ sku: "X'; --", title: 'x' }] } }, shop.headers);
    expect(codes(sku)).toEqual(['BAD_USER_INPUT']);
    const stored = await system.ok(
      'mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { title description } }',
      { i: { title: "Bobby'); DROP TABLE product;--", description: '{"$where": "1"}', variants: [{ sku: 'BOBBY-1', title: 'x' }] } },
      shop.headers,
    );
    expect(stored.upsertProduct).toEqual({ title: "Bobby'); DROP TABLE product;--", description: '{"$where": "1"}' });
    await receiveStock(system, shop, 'SALT-1', 1);
    const products = await system.ok('{ products { edges { node { title } } } }', {}, shop.headers);
    expect(products.products.edges).toHaveLength(2);
  });

  it('refuses cross-site requests a browser would not preflight (CSRF), and runs GETs as clients send them', async () => {
    // A form's POST: no preflight, so it must not run (test/e2e/clients.test.ts has every simple type).
    const formPost = await fetch(system.gatewayUrl, {
      method: 'POST',
      headers: { ...shop.headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('{ tenant { slug } }')}`,
    });
    expect(formPost.status).toBe(403);
    expect(codes(await formPost.json())).toEqual(['CSRF_REFUSED']);
    // A GET carries no credential a browser attaches by itself: urql's default runs without a header.
    const plainGet = await fetch(`${system.gatewayUrl}?query=${encodeURIComponent('{ tenant { slug } }')}`, { headers: { ...shop.headers, accept: 'application/json' } });
    expect(await plainGet.json()).toEqual({ data: { tenant: { slug: shop.slug } } });
  });

  it("allows browsers from the tenant's own domains only (CORS)", async () => {
    const preflight = (origin: string) =>
      fetch(system.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const own = await preflight(`https://${shop.slug}.test`);
    expect(own.headers.get('access-control-allow-origin')).toBe(`https://${shop.slug}.test`);
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('rate limits', () => {
  let system: TestSupergraph;
  let shop: Shop;
  beforeAll(async () => {
    system = await startSupergraph({ rateLimitPerMinute: { authenticated: 5, anonymous: 3 } });
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('answers 429 with Retry-After past the limit, per anonymous client and per key', async () => {
    const send = (headers: Record<string, string>) =>
      fetch(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ tenant { slug } }' }) });
    for (let i = 0; i < 3; i += 1) expect((await send(shop.storefrontHeaders)).status).toBe(200);
    const limited = await send(shop.storefrontHeaders);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = await limited.json();
    expect(body.errors[0]).toEqual(expect.objectContaining({ extensions: expect.objectContaining({ code: 'RATE_LIMITED' }) }));
    // A key has its own budget (createShop spent none of this one's).
    expect((await send(shop.posHeaders)).status).toBe(200);
  });
});
