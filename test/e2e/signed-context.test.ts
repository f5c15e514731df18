import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import { graphqlRequest } from '../../scripts/graphql-request.js';
import { SUPERGRAPH_PATH } from '../../schema/compose-supergraph.js';
import { CREATE_API_KEY, bearer, createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const JWT_SECRET = 'test-jwt-secret-of-enough-length-0123456789';
const codeOf = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => result.errors?.[0]?.extensions?.code;

interface Captured {
  headers: Record<string, string>;
  body: { query: string; variables?: Record<string, unknown>; operationName?: string };
}

/** A recording proxy in front of a real subgraph: what an attacker on the internal network would see. */
async function captureProxy(target: string): Promise<{ url: string; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string' && name !== 'host' && name !== 'content-length') headers[name] = value;
      if (req.method === 'POST' && text) seen.push({ headers, body: JSON.parse(text) });
      void fetch(new URL(req.url ?? '/', target), { method: req.method, headers, body: req.method === 'POST' ? text : undefined }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/graphql`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('signed contexts are bound to their request', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let rival: Shop;
  let gateway: Gateway;
  let gatewayUrl: string;
  let tenantProxy: Awaited<ReturnType<typeof captureProxy>>;
  let ordersProxy: Awaited<ReturnType<typeof captureProxy>>;

  beforeAll(async () => {
    system = await startSupergraph({ jwt: { secret: JWT_SECRET } });
    shop = await createShop(system);
    rival = await createShop(system);
    await system.ok('mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { path } }', { input: { source: 'POS', secret: 'rival-webhook-secret-0123456789' } }, rival.headers);
    // A second, real gateway whose tenant and orders traffic passes a recording proxy.
    tenantProxy = await captureProxy(system.subgraphUrls.tenant);
    ordersProxy = await captureProxy(system.subgraphUrls.orders);
    gateway = await buildGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
      subgraphUrls: { ...system.subgraphUrls, tenant: tenantProxy.url, orders: ordersProxy.url },
      auth: { subgraphSecret: system.subgraphSecret, platformApiKey: system.platformApiKey },
      log: () => {},
    });
    gatewayUrl = `${await gateway.start(0)}/graphql`;
  });
  afterAll(async () => {
    await gateway?.stop();
    await tenantProxy?.close();
    await ordersProxy?.close();
    await system?.stop();
  });

  const keyCount = async (who: Shop) => (await system.ok('{ apiKeys { id } }', {}, who.headers)).apiKeys.length;

  it('refuses a JWT that claims the platform role', async () => {
    const token = await new SignJWT({ tenant: shop.slug, roles: ['platform'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
    const before = await keyCount(rival);
    const attempt = await system.request(CREATE_API_KEY, { input: { name: 'stolen', role: 'ADMIN', tenantId: rival.tenantId } }, bearer(token));
    expect({ code: codeOf(attempt), data: attempt.data ?? null }).toEqual({ code: 'UNAUTHENTICATED', data: null });
    expect(attempt.errors?.[0]?.message).toMatch(/only the platform key is the platform/);
    const mixed = await new SignJWT({ tenant: shop.slug, roles: ['admin', 'platform'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(JWT_SECRET));
    expect(codeOf(await system.request('mutation { createTenant(input: { slug: "jwt-made", name: "No" }) { id } }', {}, bearer(mixed)))).toBe('UNAUTHENTICATED');
    expect(await keyCount(rival)).toBe(before);
    // The platform key itself still is the platform.
    const made = await system.request(CREATE_API_KEY, { input: { name: 'by platform', role: 'POS', tenantId: rival.tenantId } }, bearer(system.platformApiKey));
    expect(made.data?.createApiKey.apiKey.role).toBe('POS');
  });

  it('refuses a captured context replayed as another operation (createApiKey) or with other variables', async () => {
    tenantProxy.seen.length = 0;
    await graphqlRequest(gatewayUrl, '{ stores { code } }', {}, shop.headers);
    const read = tenantProxy.seen.find((c) => c.body.query.includes('stores'));
    expect(read).toBeDefined();
    const before = await keyCount(shop);
    const asMutation = await graphqlRequest(
      system.subgraphUrls.tenant,
      'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }',
      { input: { name: 'replayed', role: 'ADMIN' } },
      { 'x-commerce-context': read!.headers['x-commerce-context']! },
    );
    expect({ code: codeOf(asMutation), data: asMutation.data ?? null }).toEqual({ code: 'UNAUTHENTICATED', data: null });
    expect(asMutation.errors?.[0]?.message).toMatch(/another operation/);
    expect(await keyCount(shop)).toBe(before);
    // The same operation with the signature it came with still answers (a read may be repeated within its 30 s).
    const same = await graphqlRequest(system.subgraphUrls.tenant, read!.body.query, read!.body.variables ?? {}, { 'x-commerce-context': read!.headers['x-commerce-context']! });
    expect(same.errors).toBeUndefined();
  });

  it("refuses the gateway's directory signature replayed to read another tenant's webhook secret", async () => {
    tenantProxy.seen.length = 0;
    // A fresh tenant name makes the gateway ask the directory (no cache).
    const fresh = await createShop(system);
    await graphqlRequest(gatewayUrl, '{ tenant { slug } }', {}, fresh.storefrontHeaders);
    const lookup = tenantProxy.seen.find((c) => c.body.query.includes('resolveTenant'));
    expect(lookup?.body.variables).toEqual({ slug: fresh.slug });
    const context = { 'x-commerce-context': lookup!.headers['x-commerce-context']! };
    const secretQuery = 'query ($tenantSlug: String!, $source: String!) { webhookSecret(tenantSlug: $tenantSlug, source: $source) { secret } }';
    const stolen = await graphqlRequest(system.subgraphUrls.tenant, secretQuery, { tenantSlug: rival.slug, source: 'POS' }, context);
    expect({ code: codeOf(stolen), data: stolen.data ?? null }).toEqual({ code: 'UNAUTHENTICATED', data: null });
    const otherSlug = await graphqlRequest(system.subgraphUrls.tenant, lookup!.body.query, { slug: rival.slug }, context);
    expect(otherSlug.errors?.[0]?.message).toMatch(/other variables/);
    expect(JSON.stringify([stolen, otherSlug])).not.toContain('rival-webhook-secret');
  });

  it("accepts a mutation's signature once: the exact replay is refused", async () => {
    tenantProxy.seen.length = 0;
    const made = await graphqlRequest(gatewayUrl, CREATE_API_KEY, { input: { name: 'once', role: 'POS' } }, shop.headers);
    expect(made.errors).toBeUndefined();
    const sent = tenantProxy.seen.find((c) => c.body.query.includes('createApiKey'));
    const before = await keyCount(shop);
    const replay = await graphqlRequest(system.subgraphUrls.tenant, sent!.body.query, sent!.body.variables ?? {}, { 'x-commerce-context': sent!.headers['x-commerce-context']! });
    expect({ code: codeOf(replay), data: replay.data ?? null }).toEqual({ code: 'UNAUTHENTICATED', data: null });
    expect(replay.errors?.[0]?.message).toMatch(/already used/);
    expect(await keyCount(shop)).toBe(before);
  });

  it('binds and spends signatures the same way on the orders subgraph (mercurius)', async () => {
    ordersProxy.seen.length = 0;
    await graphqlRequest(gatewayUrl, '{ orders(first: 1) { edges { cursor } } }', {}, shop.headers);
    const read = ordersProxy.seen.find((c) => c.body.query.includes('orders'));
    const context = { 'x-commerce-context': read!.headers['x-commerce-context']! };
    const same = await graphqlRequest(system.subgraphUrls.orders, read!.body.query, read!.body.variables ?? {}, context);
    expect(same.errors).toBeUndefined();
    const other = await graphqlRequest(system.subgraphUrls.orders, '{ orders(first: 100) { edges { cursor } } }', {}, context);
    expect({ code: codeOf(other), data: other.data ?? null }).toEqual({ code: 'UNAUTHENTICATED', data: null });
    const cancel = await graphqlRequest(system.subgraphUrls.orders, 'mutation { cancelOrder(id: "00000000-0000-4000-8000-000000000000") { id } }', {}, context);
    expect(cancel.errors?.[0]?.message).toMatch(/another operation/);
  });
});
