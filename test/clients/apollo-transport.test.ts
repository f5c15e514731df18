import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Apollo Client 4's own transports against the gateway, configured with the URL and a key only
 * (issue 24): automatic persisted queries over POST and over GET (PersistedQueryLink), and a
 * subscription over its plain HttpLink (multipart HTTP, no WebSocket link).
 */
const sha256 = (query: string) => createHash('sha256').update(query).digest('hex');

const STOCK_CHANGED = gql`
  subscription StockChanged($store: ID!, $skus: [ID!]) {
    stockChanged(storeId: $store, skus: $skus, snapshot: false) { id sku onHand }
  }
`;

/** What went over the wire: each request's method and whether it carried the query text. */
interface Sent {
  method: string;
  withQuery: boolean;
  status: number;
}

describe('Apollo Client transports against the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    await addProduct(system, shop, 'Flat White', ['FW-1']);
    await receiveStock(system, shop, 'FW-1', 5);
  }, 120_000);
  afterAll(() => system.stop());

  /** A client whose fetch records each request before passing it on unchanged. */
  const recording = (sent: Sent[], headers: Record<string, string>, link: (http: HttpLink) => ConstructorParameters<typeof ApolloClient>[0]['link']) => {
    const fetchAndRecord: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      const withQuery = method === 'GET' ? url.searchParams.has('query') : JSON.parse(String(init?.body ?? '{}')).query !== undefined;
      const response = await fetch(input, init);
      sent.push({ method, withQuery, status: response.status });
      return response;
    };
    return new ApolloClient({ link: link(new HttpLink({ uri: system.gatewayUrl, headers, fetch: fetchAndRecord })), cache: new InMemoryCache() });
  };

  it.each([
    ['POST', false],
    ['GET', true],
  ])('runs a query by its hash over %s after registering it once', async (method, useGETForHashedQueries) => {
    const persisted = (http: HttpLink) => new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(http);
    // A title unique to this case, so the hash is one the gateway has not seen.
    const query = gql`
      query ${`Title${method}`}($sku: ID!) {
        variant(sku: $sku) { id sku title }
      }
    `;
    const first: Sent[] = [];
    const one = recording(first, shop.headers, persisted);
    expect((await one.query({ query, variables: { sku: 'FW-1' } })).data).toEqual({ variant: { __typename: 'Variant', id: expect.any(String), sku: 'FW-1', title: 'Flat White FW-1' } });
    // The hash alone first (unknown: PERSISTED_QUERY_NOT_FOUND), then the query with its hash.
    expect(first.map((s) => [s.method, s.withQuery])).toEqual([
      [method, false],
      ['POST', true],
    ]);

    // Another client (a fresh cache, another process): the hash alone is enough now.
    const second: Sent[] = [];
    const two = recording(second, shop.headers, persisted);
    expect((await two.query<{ variant: { sku: string } }>({ query, variables: { sku: "FW-1" } })).data?.variant).toEqual(expect.objectContaining({ sku: 'FW-1' }));
    expect(second).toEqual([{ method, withQuery: false, status: 200 }]);
  });

  it('receives a subscription over its plain HttpLink (multipart HTTP)', async () => {
    const client = new ApolloClient({ link: new HttpLink({ uri: system.gatewayUrl, headers: shop.posHeaders }), cache: new InMemoryCache() });
    const seen: number[] = [];
    const errors: unknown[] = [];
    const subscription = client.subscribe({ query: STOCK_CHANGED, variables: { store: shop.storeId, skus: ['FW-1'] } }).subscribe({
      next: ({ data, error }) => (error ? errors.push(error) : seen.push((data as { stockChanged: { onHand: number } }).stockChanged.onHand)),
      error: (error) => errors.push(error),
    });
    try {
      // The subscription is live once the gateway registered it: write until a change arrives
      // (each write adds one unit), then the last write's level is what the client saw last.
      let onHand = 0;
      for (let attempt = 0; attempt < 15 && seen.length === 0 && errors.length === 0; attempt++) {
        onHand = (await receiveStock(system, shop, 'FW-1', 1)).receiveStock.onHand;
        for (let waited = 0; waited < 2_000 && seen.length === 0; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(errors).toEqual([]);
      await eventually(async () => expect(seen.at(-1)).toBe(onHand));
    } finally {
      subscription.unsubscribe();
    }
  });
});
