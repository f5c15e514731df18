import { randomUUID } from 'node:crypto';
import type { InProcessEndpoint } from '../../lib/graphql/service.js';
import { CONTEXT_HEADER, REQUEST_ID_HEADER, signContext } from '../../lib/tenant/signed-context.js';
import { addProduct, createShop, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// `npm start` runs the gateway and the subgraphs in one process, and the gateway hands its
// subgraph calls to them in that process (SUBGRAPH_CALLS=in-process, the default): the same
// request must get the same answer there as over HTTP, status, content type and text alike.
describe('subgraph calls in one process', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Rye Bread', ['RYE-1']);
  });
  afterAll(() => system.stop());

  const endpoint = (): InProcessEndpoint => {
    const local = system.subgraphs.catalog.inProcess?.();
    if (!local) throw new Error('the catalog serves no in-process calls');
    return local;
  };
  const signed = (query: string, variables: Record<string, unknown> = {}, options: { roles?: string[]; boundTo?: Record<string, unknown> } = {}) => {
    const requestId = randomUUID();
    const context = signContext({ tenantId: shop.tenantId, roles: (options.roles ?? ['admin']) as never, requestId }, { query, variables: options.boundTo ?? variables, operationName: undefined }, system.subgraphSecret);
    return { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId, [CONTEXT_HEADER]: context };
  };
  const overHttp = async (headers: Record<string, string>, body: string) => {
    const response = await fetch(system.subgraphUrls.catalog, { method: 'POST', headers, body });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  };
  // Over HTTP a plain POST (fetch's default Accept, `*/*`) takes the subgraph's short path to
  // the same endpoint (decision 0050); `accept: application/json` takes yoga's whole HTTP path
  // (the same media type), which every answer must equal.
  const both = async (headers: Record<string, string>, body: string) => {
    const inProcess = await endpoint()(system.subgraphUrls.catalog, { method: 'POST', headers: { ...headers }, body });
    const http = await overHttp(headers, body);
    expect(http).toEqual(await overHttp({ accept: 'application/json', ...headers }, body));
    return { inProcess, http };
  };

  const PRODUCTS = 'query Products($first: Int!) { products(first: $first) { edges { node { title } } } }';

  it('answers a signed query as HTTP does', async () => {
    const body = JSON.stringify({ query: PRODUCTS, variables: { first: 5 } });
    const { inProcess, http } = await both(signed(PRODUCTS, { first: 5 }), body);
    expect(JSON.parse(inProcess.text)).toEqual({ data: { products: { edges: [{ node: { title: 'Rye Bread' } }] } } });
    expect(inProcess).toEqual(http);
  });

  it('refuses what HTTP refuses: no signature, a signature for other variables, bad variables, an invalid document, a body that is not JSON', async () => {
    const body = JSON.stringify({ query: PRODUCTS, variables: { first: 5 } });
    const cases: [string, Record<string, string>, string][] = [
      ['unsigned', { 'content-type': 'application/json' }, body],
      ['signed for other variables', signed(PRODUCTS, { first: 5 }, { boundTo: { first: 6 } }), body],
      ['variables of the wrong type', signed(PRODUCTS, { first: 'many' }), JSON.stringify({ query: PRODUCTS, variables: { first: 'many' } })],
      ['an unknown field', signed('{ nothingHere }'), JSON.stringify({ query: '{ nothingHere }', variables: {} })],
      ['not JSON', signed(PRODUCTS, { first: 5 }), '{"query":'],
      ['an Accept header', { ...signed(PRODUCTS, { first: 5 }), accept: 'application/graphql-response+json' }, body],
    ];
    for (const [what, headers, text] of cases) {
      const { inProcess, http } = await both(headers, text);
      expect({ what, ...inProcess }).toEqual({ what, ...http });
    }
    const refused = await endpoint()(system.subgraphUrls.catalog, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(JSON.parse(refused.text).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('shares the replay guard with HTTP: a mutation signed once runs once, whichever way it comes', async () => {
    const mutation = 'mutation Create($input: UpsertProductInput!) { upsertProduct(input: $input) { title } }';
    const variables = { input: { title: 'Spelt Bread', variants: [{ sku: 'SPE-1', title: 'Spelt Bread SPE-1' }] } };
    const requestId = randomUUID();
    const context = signContext({ tenantId: shop.tenantId, roles: ['admin'], requestId }, { query: mutation, variables, operationName: undefined }, system.subgraphSecret, { singleUse: true });
    const headers = { 'content-type': 'application/json', [REQUEST_ID_HEADER]: requestId, [CONTEXT_HEADER]: context };
    const body = JSON.stringify({ query: mutation, variables });
    const first = await endpoint()(system.subgraphUrls.catalog, { method: 'POST', headers: { ...headers }, body });
    expect(JSON.parse(first.text)).toEqual({ data: { upsertProduct: { title: 'Spelt Bread' } } });
    const again = await overHttp(headers, body);
    expect(JSON.parse(again.text).errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/already used/) });
  });

  it('serves no in-process calls while stopped, so the gateway reports the subgraph down as over HTTP', async () => {
    const port = Number(new URL(system.subgraphUrls.inventory).port);
    await system.subgraphs.inventory.stop();
    try {
      expect(system.subgraphs.inventory.inProcess?.()).toBeUndefined();
      const degraded = await system.request('{ products(first: 1) { edges { node { title variants { sku stock(storeId: "' + shop.storeId + '") { onHand } } } } } }', {}, shop.headers);
      expect(degraded.errors).toEqual([expect.objectContaining({ message: 'The inventory service is unavailable.', extensions: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }) })]);
    } finally {
      await system.subgraphs.inventory.start(port);
    }
    expect(system.subgraphs.inventory.inProcess?.()).toBeDefined();
  });
});
