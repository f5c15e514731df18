import { createHash } from 'node:crypto';
import { addProduct, bearer, CREATE_API_KEY, createShop, RECEIVE_STOCK, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
type Body = { data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] };
const codes = (body: Body) => (body.errors ?? []).map((e) => e.extensions?.code);

const PUBLISH = 'mutation ($input: PublishPersistedDocumentsInput!) { publishPersistedDocuments(input: $input) { app count } }';
const VARIANT = 'query Variant($sku: ID!) { variant(sku: $sku) { sku product { title } } }';
const TENANT = 'query Tenant { tenant { slug } }';
const STOCK_SUBSCRIPTION = 'subscription Stock($store: ID!) { stockChanged(storeId: $store) { sku } }';
/** The `operations` of an Apollo persisted-query manifest (generate-persisted-query-manifest). */
const manifest = [VARIANT, TENANT, STOCK_SUBSCRIPTION].map((body) => ({ id: sha256(body), body, name: /(?:query|subscription) (\w+)/.exec(body)![1], type: body.split(' ')[0] }));

async function post(url: string, body: unknown, headers: Record<string, string>) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Body };
}
async function get(url: string, params: Record<string, unknown>, headers: Record<string, string>) {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const response = await fetch(`${url}?${search}`, { headers: { accept: 'application/graphql-response+json, application/json', ...headers } });
  return { status: response.status, body: (await response.json()) as Body };
}

describe('trusted documents', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;
  let onlyDocuments: Record<string, string>;
  const salt = { data: { variant: { sku: 'SALT-1', product: { title: 'Salt' } } } };

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    other = await createShop(system);
    await addProduct(system, shop, 'Salt', ['SALT-1']);
    const { publishPersistedDocuments } = await system.ok<{ publishPersistedDocuments: { app: string; count: number } }>(PUBLISH, { input: { app: 'pos', operations: manifest } }, shop.headers);
    expect(publishPersistedDocuments).toEqual({ app: 'pos', count: 3 });
    const { createApiKey } = await system.ok<{ createApiKey: { key: string } }>(CREATE_API_KEY, { input: { name: 'till', role: 'POS', persistedDocumentsOnly: true } }, shop.headers);
    onlyDocuments = bearer(createApiKey.key);
  });
  afterAll(() => system.stop());

  it('runs a published document by documentId (POST and GET) and by its APQ hash, for its tenant only', async () => {
    const id = sha256(VARIANT);
    expect((await post(system.gatewayUrl, { documentId: id, variables: { sku: 'SALT-1' } }, shop.headers)).body).toEqual(salt);
    const byGet = await get(system.gatewayUrl, { documentId: id, variables: { sku: 'SALT-1' } }, shop.headers);
    expect(byGet).toEqual({ status: 200, body: salt });
    // Apollo's PersistedQueryLink sends the hash alone: a published document needs no registration.
    expect((await post(system.gatewayUrl, { variables: { sku: 'SALT-1' }, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }, shop.headers)).body).toEqual(salt);
    // Another tenant's documents are not visible.
    const elsewhere = await post(system.gatewayUrl, { documentId: id, variables: { sku: 'SALT-1' } }, other.headers);
    expect(elsewhere.status).toBe(400);
    expect(codes(elsewhere.body)).toEqual(['PERSISTED_DOCUMENT_NOT_FOUND']);
  });

  it('a persistedDocumentsOnly key runs published documents only', async () => {
    expect((await post(system.gatewayUrl, { documentId: sha256(TENANT) }, onlyDocuments)).body).toEqual({ data: { tenant: { slug: shop.slug } } });
    const raw = await post(system.gatewayUrl, { query: TENANT }, onlyDocuments);
    expect(raw.status).toBe(400);
    expect(codes(raw.body)).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
    expect(codes((await post(system.gatewayUrl, { documentId: sha256('{ tenant { id } }') }, onlyDocuments)).body)).toEqual(['PERSISTED_DOCUMENT_NOT_FOUND']);
    // Nor can it register a document through APQ.
    const apq = { query: '{ tenant { id } }', extensions: { persistedQuery: { version: 1, sha256Hash: sha256('{ tenant { id } }') } } };
    expect(codes((await post(system.gatewayUrl, apq, onlyDocuments)).body)).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
    // Over graphql-ws a query is refused too; a published document runs by its id (decision 0026).
    const socket = liveClient(system.gatewayUrl, onlyDocuments);
    const failureOf = (live: { failure?: unknown }) => (live.failure as { extensions?: { code?: string } }[] | undefined)?.map((e) => e.extensions?.code);
    const rawLive = subscribe(socket, STOCK_SUBSCRIPTION, { store: shop.storeId });
    await rawLive.waitFor(1);
    expect(failureOf(rawLive)).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
    const unknown = subscribe(socket, '', {}, { documentId: sha256('subscription { stockChanged(storeId: "x") { sku } }') });
    await unknown.waitFor(1);
    expect(failureOf(unknown)).toEqual(['PERSISTED_DOCUMENT_NOT_FOUND']);
    const tenant = subscribe(socket, '', {}, { documentId: sha256(TENANT) });
    expect(await tenant.waitFor(1)).toEqual([{ data: { tenant: { slug: shop.slug } } }]);
    const live = subscribe(socket, '', { store: shop.storeId }, { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(STOCK_SUBSCRIPTION) } } });
    await eventually(async () => {
      await system.ok(RECEIVE_STOCK, { input: { sku: 'SALT-1', storeId: shop.storeId, quantity: 1 } }, shop.headers);
      expect(live.failure).toBeUndefined();
      expect(live.results.map((r) => r.data?.stockChanged?.sku)).toContain('SALT-1');
    });
    await socket.dispose();
    // The metric counts by document id.
    const metrics = await (await fetch(`${new URL(system.gatewayUrl).origin}/metrics`)).text();
    expect(metrics).toContain(`gateway_persisted_documents_total{document_id="${sha256(TENANT)}"}`);
  });

  it('refuses bad manifests with coded errors and publishes nothing of them', async () => {
    const publish = (input: Record<string, unknown>, headers = shop.headers) => post(system.gatewayUrl, { query: PUBLISH, variables: { input } }, headers);
    const cases = [
      { app: 'pos', operations: [{ id: sha256('{ a }'), body: '{ tenant { slug } }' }] },
      { app: 'pos', operations: [{ id: sha256('{ tenant '), body: '{ tenant ' }] },
      { app: 'pos', operations: [{ id: 'short', body: TENANT }] },
      { app: '', operations: manifest },
      { app: 'pos', operations: [] },
      { app: 'pos', operations: [{ ...manifest[0], type: 'fragment' }] },
    ];
    for (const input of cases) expect({ input, codes: codes((await publish(input)).body) }).toEqual({ input, codes: ['BAD_USER_INPUT'] });
    // An admin publishes for its own tenant only; a POS key not at all.
    expect(codes((await publish({ app: 'pos', tenantId: other.tenantId, operations: manifest })).body)).toEqual(['FORBIDDEN']);
    expect(codes((await publish({ app: 'pos', operations: manifest }, shop.posHeaders)).body)).toEqual(['FORBIDDEN']);
    expect(codes((await post(system.gatewayUrl, { documentId: sha256('{ a }') }, shop.headers)).body)).toEqual(['PERSISTED_DOCUMENT_NOT_FOUND']);
  });
});
