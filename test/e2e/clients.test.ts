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
});
