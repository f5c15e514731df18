import { createHash } from 'node:crypto';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/** What Apollo Client 4 sends with each incremental handler (its `prepareRequest`), then HttpLink's defaults. */
const ACCEPT_2022 = 'multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9';
const ACCEPT_ALPHA9 = 'multipart/mixed;incrementalSpec=v0.2,application/graphql-response+json,application/json;q=0.9';

const PAGE = `query Page($id: ID!, $store: ID!) {
  product(id: $id) {
    id title
    variants { sku title ... @defer(label: "offer") { stock(storeId: $store) { available } price(storeId: $store) { amount currencyCode } } }
  }
}`;
const PAGE_AT_ONCE = PAGE.replace(' @defer(label: "offer")', '');

/** Every part of a multipart/mixed body (boundary `graphql`), in order, and the whole body as sent. */
async function multipart(response: Response): Promise<{ parts: any[]; body: string }> {
  const body = await response.text();
  expect(body.endsWith('\r\n--graphql--\r\n')).toBe(true);
  const parts = body
    .slice(0, -'--\r\n'.length)
    .split('\r\n--graphql')
    .filter((raw) => raw.includes('\r\n\r\n'))
    .map((raw) => {
      const [headers, json] = raw.split('\r\n\r\n');
      expect(headers!.trim().toLowerCase()).toBe('content-type: application/json; charset=utf-8');
      return JSON.parse(json!);
    });
  return { parts, body };
}

describe('@defer and @stream over multipart/mixed (raw HTTP)', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let productId: string;
  const post = (query: string, variables: Record<string, unknown>, accept: string, headers: Record<string, string> = shop.headers) =>
    fetch(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept, ...headers }, body: JSON.stringify({ query, variables }) });

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    productId = (await addProduct(system, shop, 'Espresso', ['ESP-1', 'ESP-2', 'ESP-3'])).id;
    await receiveStock(system, shop, 'ESP-1', 4);
    await setPrice(system, shop, 'ESP-1', '2.50');
  }, 120_000);
  afterAll(() => system?.stop());

  it('sends titles first, then stock and prices for each variant, in the 2022-08-24 format', async () => {
    const variables = { id: productId, store: shop.storeId };
    const response = await post(PAGE, variables, ACCEPT_2022);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";deferSpec=20220824');
    const { parts } = await multipart(response);
    expect(parts[0]).toEqual({
      data: { product: { id: productId, title: 'Espresso', variants: ['ESP-1', 'ESP-2', 'ESP-3'].map((sku) => ({ sku, title: `Espresso ${sku}` })) } },
      hasNext: true,
    });
    const increments = parts.slice(1).flatMap((part) => part.incremental ?? []);
    expect(increments).toEqual([
      { data: { stock: { available: 4 }, price: { amount: '2.50', currencyCode: 'EUR' } }, path: ['product', 'variants', 0], label: 'offer' },
      { data: { stock: { available: 0 }, price: null }, path: ['product', 'variants', 1], label: 'offer' },
      { data: { stock: { available: 0 }, price: null }, path: ['product', 'variants', 2], label: 'offer' },
    ]);
    expect(parts.at(-1).hasNext).toBe(false);
    expect(parts.slice(0, -1).every((part) => part.hasNext === true)).toBe(true);
    // Merged, the answer is the one the same query without @defer gets.
    const merged = parts[0].data;
    for (const { data, path } of increments) Object.assign(path.reduce((at: any, key: string | number) => at[key], merged), data);
    expect(merged).toEqual((await system.ok(PAGE_AT_ONCE, variables, shop.headers)));
  });

  it('announces pending ids and completes them, in the graphql-js 17 alpha 9 format', async () => {
    const response = await post(PAGE, { id: productId, store: shop.storeId }, ACCEPT_ALPHA9);
    expect(response.headers.get('content-type')).toBe('multipart/mixed;boundary="graphql";incrementalSpec=v0.2');
    const { parts } = await multipart(response);
    expect(parts[0].pending).toEqual([0, 1, 2].map((i) => ({ id: String(i), path: ['product', 'variants', i], label: 'offer' })));
    expect(parts[0].data.product.variants[0]).toEqual({ sku: 'ESP-1', title: 'Espresso ESP-1' });
    const rest = parts.slice(1);
    expect(rest.flatMap((part) => part.incremental ?? [])).toEqual([
      { id: '0', data: { stock: { available: 4 }, price: { amount: '2.50', currencyCode: 'EUR' } } },
      { id: '1', data: { stock: { available: 0 }, price: null } },
      { id: '2', data: { stock: { available: 0 }, price: null } },
    ]);
    expect(rest.flatMap((part) => part.completed ?? [])).toEqual([{ id: '0' }, { id: '1' }, { id: '2' }]);
    expect(parts.at(-1).hasNext).toBe(false);
  });

  it('answers a client that takes no multipart with the whole result at once', async () => {
    const variables = { id: productId, store: shop.storeId };
    const response = await post(PAGE, variables, 'application/graphql-response+json');
    expect(response.headers.get('content-type')).toContain('application/graphql-response+json');
    expect(await response.json()).toEqual({ data: await system.ok(PAGE_AT_ONCE, variables, shop.headers) });
  });

  it('streams a list after its initial count, one item a payload, in both formats', async () => {
    const query = 'query ($id: ID!) { product(id: $id) { title variants @stream(initialCount: 1, label: "more") { sku } } }';
    const old = await multipart(await post(query, { id: productId }, ACCEPT_2022));
    expect(old.parts[0]).toEqual({ data: { product: { title: 'Espresso', variants: [{ sku: 'ESP-1' }] } }, hasNext: true });
    expect(old.parts.slice(1)).toEqual([
      { incremental: [{ items: [{ sku: 'ESP-2' }], path: ['product', 'variants', 1], label: 'more' }], hasNext: true },
      { incremental: [{ items: [{ sku: 'ESP-3' }], path: ['product', 'variants', 2], label: 'more' }], hasNext: false },
    ]);
    const alpha9 = await multipart(await post(query, { id: productId }, ACCEPT_ALPHA9));
    expect(alpha9.parts).toEqual([
      { data: { product: { title: 'Espresso', variants: [{ sku: 'ESP-1' }] } }, pending: [{ id: '0', path: ['product', 'variants'], label: 'more' }], hasNext: true },
      { incremental: [{ id: '0', items: [{ sku: 'ESP-2' }] }], hasNext: true },
      { incremental: [{ id: '0', items: [{ sku: 'ESP-3' }] }], completed: [{ id: '0' }], hasNext: false },
    ]);
  });

  it('puts a subgraph error inside the deferred payload it belongs to, with its path', async () => {
    // pricing refuses a store id that is not a UUID; the titles come first all the same.
    const variables = { id: productId, store: 'not-a-store' };
    const { parts } = await multipart(await post(PAGE, variables, ACCEPT_2022));
    expect(parts[0].data.product.title).toBe('Espresso');
    expect(parts[0].errors).toBeUndefined();
    const increments = parts.slice(1).flatMap((part) => part.incremental ?? []);
    const errors = increments.flatMap((entry) => entry.errors ?? []);
    expect(errors.length).toBeGreaterThan(0);
    for (const entry of increments) for (const error of entry.errors ?? []) expect(error.path.slice(0, 3)).toEqual(entry.path);
    // The same errors (paths, codes) as the query without @defer reports.
    const atOnce = await system.request(PAGE_AT_ONCE, variables, shop.headers);
    const strip = (list: any[]) => list.map((e) => ({ path: e.path, code: e.extensions?.code })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(strip(errors)).toEqual(strip(atOnce.errors ?? []));
  });

  it('refuses a deferred field the caller may not see, as it refuses it undeferred', async () => {
    const deferred = 'query ($id: ID!) { product(id: $id) { title ... @defer { version } } }';
    const undeferred = 'query ($id: ID!) { product(id: $id) { title ... { version } } }';
    const refused = await (await post(deferred, { id: productId }, ACCEPT_2022, shop.storefrontHeaders)).json();
    const plain = await system.request(undeferred, { id: productId }, shop.storefrontHeaders);
    expect(plain.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(refused.errors.map((e: any) => e.extensions.code)).toEqual(plain.errors!.map((e) => e.extensions?.code));
    expect(refused.data ?? null).toEqual(plain.data ?? null);
  });

  it('runs a deferred query registered as a persisted query by its hash alone, still in parts', async () => {
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(PAGE).digest('hex') } };
    const variables = { id: productId, store: shop.storeId };
    const send = (body: Record<string, unknown>, accept: string) =>
      fetch(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept, ...shop.headers }, body: JSON.stringify({ ...body, variables, extensions }) });
    expect((await (await send({}, 'application/json')).json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await (await send({ query: PAGE }, 'application/json')).json()).data.product.title).toBe('Espresso');
    const { parts } = await multipart(await send({}, ACCEPT_2022));
    expect(parts[0].data.product.variants[0]).toEqual({ sku: 'ESP-1', title: 'Espresso ESP-1' });
    expect(parts.slice(1).flatMap((part) => part.incremental ?? []).map((entry) => entry.path)).toEqual([0, 1, 2].map((i) => ['product', 'variants', i]));
  });

  it('refuses @stream on a field that is not a list and an initialCount past its bound', async () => {
    const notList = await (await post('query ($id: ID!) { product(id: $id) { title @stream } }', { id: productId }, ACCEPT_2022)).json();
    expect(notList.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    const tooMany = await (await post('query ($id: ID!) { product(id: $id) { variants @stream(initialCount: 101) { sku } } }', { id: productId }, 'application/json')).json();
    expect(tooMany.errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('shows @defer and @stream, with label and if, in introspection', async () => {
    const { __schema } = await system.ok<{ __schema: { directives: { name: string; args: { name: string }[] }[] } }>(
      '{ __schema { directives { name args { name } } } }',
      {},
      shop.headers,
    );
    const args = (name: string) => __schema.directives.find((d) => d.name === name)?.args.map((a) => a.name).sort();
    expect(args('defer')).toEqual(['if', 'label']);
    expect(args('stream')).toEqual(['if', 'initialCount', 'label']);
  });
});
