import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildGateway, type Gateway } from '../../gateway/src/app.js';
import { createRedisPersistedQueryStore } from '../../gateway/src/persisted-queries/persisted-query-store.js';
import { addProduct, createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const codes = (body: { errors?: { extensions?: Record<string, unknown> }[] }) => (body.errors ?? []).map((e) => e.extensions?.code);
const persisted = (hash: string) => ({ persistedQuery: { version: 1, sha256Hash: hash } });

/** What a client sends, as it sends it: no CSRF header, the content type it chooses. */
async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string> = {}) {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const response = await fetch(`${url}?${search}`, { headers: { accept: 'application/graphql-response+json, application/json', ...headers } });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] } };
}

describe('clients as they come', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ rateLimitPerMinute: { authenticated: 10_000, anonymous: 10_000 } });
    shop = await createShop(system);
    other = await createShop(system);
    await addProduct(system, shop, 'Salt', ['SALT-1']);
  });
  afterAll(() => system.stop());

  describe('automatic persisted queries (Apollo protocol)', () => {
    const query = 'query Variant($sku: ID!) { variant(sku: $sku) { sku product { title } } }';
    const hash = sha256(query);

    it('answers an unknown hash PERSISTED_QUERY_NOT_FOUND, registers query + hash, then runs the hash alone over POST and GET', async () => {
      const unknown = await post(system.gatewayUrl, { variables: { sku: 'SALT-1' }, extensions: persisted(hash) }, shop.headers);
      expect(unknown.body.errors?.[0]?.message).toBe('PersistedQueryNotFound');
      expect(codes(unknown.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      // No data: 200 under application/json (as Apollo Server answers), 4xx under application/graphql-response+json.
      expect((await post(system.gatewayUrl, { extensions: persisted(hash) }, { ...shop.headers, accept: 'application/json' })).status).toBe(200);
      expect((await post(system.gatewayUrl, { extensions: persisted(hash) }, { ...shop.headers, accept: 'application/graphql-response+json' })).status).toBe(400);

      const registered = await post(system.gatewayUrl, { query, variables: { sku: 'SALT-1' }, extensions: persisted(hash) }, shop.headers);
      expect(registered.body).toEqual({ data: { variant: { sku: 'SALT-1', product: { title: 'Salt' } } } });

      const byPost = await post(system.gatewayUrl, { variables: { sku: 'SALT-1' }, extensions: persisted(hash) }, shop.headers);
      expect(byPost.body).toEqual(registered.body);
      // A GET by hash alone, as Apollo Client sends it with useGETForHashedQueries (no CSRF header).
      const byGet = await get(system.gatewayUrl, { operationName: 'Variant', variables: { sku: 'SALT-1' }, extensions: persisted(hash) }, shop.headers);
      expect(byGet.status).toBe(200);
      expect(byGet.body).toEqual(registered.body);
    });

    it('refuses a query whose hash does not match, and keeps nothing', async () => {
      const forged = sha256('{ tenant { slug } }');
      const mismatch = await post(system.gatewayUrl, { query: '{ tenant { id } }', extensions: persisted(forged) }, shop.headers);
      expect(mismatch.status).toBe(400);
      expect(codes(mismatch.body)).toEqual(['BAD_USER_INPUT']);
      const after = await post(system.gatewayUrl, { extensions: persisted(forged) }, shop.headers);
      expect(codes(after.body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      const badHash = await post(system.gatewayUrl, { extensions: persisted('not-a-hash') }, shop.headers);
      expect(codes(badHash.body)).toEqual(['BAD_USER_INPUT']);
      const badVersion = await post(system.gatewayUrl, { extensions: { persistedQuery: { version: 2, sha256Hash: hash } } }, shop.headers);
      expect(codes(badVersion.body)).toEqual(['PERSISTED_QUERY_NOT_SUPPORTED']);
    });

    it('keeps documents per tenant, and only those that ran', async () => {
      const tenantQuery = '{ tenant { slug } }';
      const tenantHash = sha256(tenantQuery);
      expect((await post(system.gatewayUrl, { query: tenantQuery, extensions: persisted(tenantHash) }, shop.headers)).body).toEqual({ data: { tenant: { slug: shop.slug } } });
      // Another tenant does not see what this one registered.
      expect(codes((await post(system.gatewayUrl, { extensions: persisted(tenantHash) }, other.headers)).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      // An operation refused by validation is not kept.
      const invalid = '{ tenant { noSuchField } }';
      expect(codes((await post(system.gatewayUrl, { query: invalid, extensions: persisted(sha256(invalid)) }, shop.headers)).body)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(codes((await post(system.gatewayUrl, { extensions: persisted(sha256(invalid)) }, shop.headers)).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      // A bad credential is refused before any lookup.
      expect(codes((await post(system.gatewayUrl, { extensions: persisted(tenantHash) }, { authorization: 'Bearer sk_nope' })).body)).toEqual(['UNAUTHENTICATED']);
    });

    (process.env.REDIS_URL ? it : it.skip)('shares documents between gateways through Redis', async () => {
      const prefix = `apq:${system.redisStream}`;
      const second: Gateway = await buildGateway({
        supergraphSdl: readFileSync(join(__dirname, '../../schema/supergraph.graphql'), 'utf8'),
        subgraphUrls: system.subgraphUrls,
        auth: { subgraphSecret: system.subgraphSecret, platformApiKey: system.platformApiKey },
        persistedQueries: { store: await createRedisPersistedQueryStore(process.env.REDIS_URL!, { prefix }) },
        log: () => {},
      });
      const url = `${await second.start(0)}/graphql`;
      try {
        const shared = '{ tenant { slug name } }';
        expect(codes((await post(url, { extensions: persisted(sha256(shared)) }, shop.headers)).body)).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
        await post(system.gatewayUrl, { query: shared, extensions: persisted(sha256(shared)) }, shop.headers);
        const elsewhere = await get(url, { extensions: persisted(sha256(shared)) }, shop.headers);
        expect(elsewhere.body.data?.tenant?.slug).toBe(shop.slug);
      } finally {
        await second.stop();
      }
    });
  });

  describe("the browser's defaults (CSRF)", () => {
    it("runs urql's default: a GET query without a CSRF header, with or without a bearer", async () => {
      const anonymous = await get(system.gatewayUrl, { query: '{ tenant { slug } }' }, { 'x-tenant-id': shop.slug });
      expect(anonymous).toEqual(expect.objectContaining({ status: 200, body: { data: { tenant: { slug: shop.slug } } } }));
      const withBearer = await get(system.gatewayUrl, { query: '{ tenant { slug } }' }, shop.headers);
      expect(withBearer.body).toEqual({ data: { tenant: { slug: shop.slug } } });
      // A GET never runs a mutation.
      const mutation = await fetch(`${system.gatewayUrl}?query=${encodeURIComponent('mutation { __typename }')}`, { headers: shop.headers });
      expect(mutation.status).toBe(405);
    });

    it("streams GraphiQL's subscription transport: a GET with Accept: text/event-stream", async () => {
      const controller = new AbortController();
      const query = 'subscription ($store: ID!) { stockChanged(storeId: $store, skus: ["SALT-1"]) { sku onHand } }';
      const response = await fetch(`${system.gatewayUrl}?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(JSON.stringify({ store: shop.storeId }))}`, {
        headers: { accept: 'text/event-stream', ...shop.headers },
        signal: controller.signal,
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('event: next')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      controller.abort();
      expect(text).toContain('"sku":"SALT-1"');
    });

    it('runs nothing from a cross-site simple POST (text/plain, form, multipart, no content type)', async () => {
      const body = JSON.stringify({ query: 'mutation { createStore(input: { code: "EVIL", name: "Evil", kind: WAREHOUSE }) { id } }' });
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const response = await fetch(system.gatewayUrl, { method: 'POST', headers: { ...shop.headers, ...(type ? { 'content-type': type } : {}) }, body });
        // fetch adds text/plain to a string body without a content type: what a browser sends too.
        expect({ type, status: response.status }).toEqual({ type, status: 403 });
        const refused = await response.json();
        expect({ type, codes: codes(refused) }).toEqual({ type, codes: ['CSRF_REFUSED'] });
        expect(refused.errors[0].message).not.toMatch(/validation/i);
      }
      const stores = await system.ok('{ tenant { stores { code } } }', {}, shop.headers);
      expect(stores.tenant.stores.map((s: { code: string }) => s.code)).not.toContain('EVIL');
      // With the header a page cannot set cross-site without a preflight, it passes the check (and meets the parser: 415 for text/plain).
      const withHeader = await fetch(system.gatewayUrl, { method: 'POST', headers: { ...shop.headers, 'content-type': 'text/plain', 'x-graphql-csrf': '1' }, body: JSON.stringify({ query: '{ tenant { slug } }' }) });
      expect(withHeader.status).toBe(415);
    });

    it('answers CORS with Vary: Origin', async () => {
      const origin = `https://${shop.slug}.test`;
      const preflight = await fetch(system.gatewayUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('vary')?.toLowerCase()).toContain('origin');
      const answer = await post(system.gatewayUrl, { query: '{ tenant { slug } }' }, { ...shop.headers, origin });
      expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
      expect(answer.headers.get('vary')?.toLowerCase()).toContain('origin');
    });
  });

  describe('HTTP semantics (GraphQL over HTTP)', () => {
    const RECEIVE = 'mutation ($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }';
    const STRICT = { accept: 'application/graphql-response+json' };

    it('answers a wrongly typed or missing variable 400 BAD_USER_INPUT naming it, under either media type', async () => {
      for (const accept of ['application/json', 'application/graphql-response+json']) {
        const wrong = await post(system.gatewayUrl, { query: RECEIVE, variables: { input: { sku: 'SALT-1', storeId: shop.storeId, quantity: '3' } } }, { ...shop.headers, accept });
        expect({ accept, status: wrong.status, codes: codes(wrong.body) }).toEqual({ accept, status: 400, codes: ['BAD_USER_INPUT'] });
        expect(wrong.body.errors?.[0]?.message).toMatch(/\$input.*quantity/);
        const missing = await post(system.gatewayUrl, { query: RECEIVE }, { ...shop.headers, accept });
        expect({ accept, status: missing.status, codes: codes(missing.body) }).toEqual({ accept, status: 400, codes: ['BAD_USER_INPUT'] });
        expect(missing.body.errors?.[0]?.message).toMatch(/\$input/);
      }
    });

    it('answers 4xx under application/graphql-response+json when there is no data', async () => {
      const unauthenticated = await post(system.gatewayUrl, { query: '{ tenant { slug } }' }, { ...STRICT, authorization: 'Bearer sk_nope' });
      expect({ status: unauthenticated.status, codes: codes(unauthenticated.body) }).toEqual({ status: 401, codes: ['UNAUTHENTICATED'] });
      const forbidden = await post(system.gatewayUrl, { query: '{ apiKeys { id } }' }, { ...STRICT, ...shop.posHeaders });
      expect({ status: forbidden.status, codes: codes(forbidden.body) }).toEqual({ status: 403, codes: ['FORBIDDEN'] });
      let deep = 'sku';
      for (let i = 0; i < 25; i += 1) deep = `product { variants { ${deep} } }`;
      const tooDeep = await post(system.gatewayUrl, { query: `{ variant(sku: "SALT-1") { ${deep} } }` }, { ...STRICT, ...shop.headers });
      expect(tooDeep.status).toBe(400);
      expect(codes(tooDeep.body)).toContain('OPERATION_LIMIT_EXCEEDED');
      for (const error of tooDeep.body.errors ?? []) expect(error.message).not.toMatch(/^Syntax Error/);
      // Under application/json the status stays 200 for GraphQL errors of a well-formed request.
      const legacy = await post(system.gatewayUrl, { query: '{ tenant { slug } }' }, { accept: 'application/json', authorization: 'Bearer sk_nope' });
      expect(codes(legacy.body)).toEqual(['UNAUTHENTICATED']);
    });

    it('keeps limit errors from reading as syntax errors, whatever the limit', async () => {
      const tokens = `{ ${Array.from({ length: 2600 }, () => 'tenant { slug }').join(' ')} }`;
      const tooMany = await post(system.gatewayUrl, { query: tokens }, shop.headers);
      expect(codes(tooMany.body)).toContain('OPERATION_LIMIT_EXCEEDED');
      for (const error of tooMany.body.errors ?? []) expect(error.message).not.toMatch(/^Syntax Error/);
    });

    it('answers /favicon.ico without a 404', async () => {
      const favicon = await fetch(new URL('/favicon.ico', system.gatewayUrl));
      expect(favicon.status).toBe(204);
    });
  });
});
