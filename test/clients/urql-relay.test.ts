import { Client, fetchExchange, gql } from '@urql/core';
import { cacheExchange as graphcache } from '@urql/exchange-graphcache';
import { Environment, Network, RecordSource, Store, fetchQuery, type ConcreteRequest } from 'relay-runtime';
import { addProduct, createShop, receiveStock, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * urql (its defaults: GET for a query within the URL limit, POST for a mutation) with Graphcache,
 * and Relay's runtime with a real Environment and Network, each given the URL and a key only
 * (issue 24). The only thing added is a look at the requests' methods, through to the real fetch.
 */
const STOCK = gql`
  query UrqlStock($sku: ID!, $store: ID!) {
    variant(sku: $sku) { id sku stock(storeId: $store) { id available } }
  }
`;
const RECEIVE = gql`
  mutation UrqlReceive($input: ReceiveStockInput!) {
    receiveStock(input: $input) { id available }
  }
`;

/**
 * What Relay's compiler would emit for
 * `query ProductNodeQuery($id: ID!) { node(id: $id) { __typename ... on Product { title } id } }`,
 * written by hand (relay-runtime runs artifacts; only the compiler needs Babel).
 */
const scalar = (name: string) => ({ alias: null, args: null, kind: 'ScalarField', name, storageKey: null });
const nodeSelections = [
  {
    alias: null,
    args: [{ kind: 'Variable', name: 'id', variableName: 'id' }],
    concreteType: null,
    kind: 'LinkedField',
    name: 'node',
    plural: false,
    selections: [scalar('__typename'), { kind: 'InlineFragment', selections: [scalar('title')], type: 'Product', abstractKey: null }, scalar('id')],
    storageKey: null,
  },
];
const argumentDefinitions = [{ defaultValue: null, kind: 'LocalArgument', name: 'id' }];
const PRODUCT_NODE_QUERY = {
  fragment: { argumentDefinitions, kind: 'Fragment', metadata: null, name: 'ProductNodeQuery', selections: nodeSelections, type: 'Query', abstractKey: null },
  kind: 'Request',
  operation: { argumentDefinitions, kind: 'Operation', name: 'ProductNodeQuery', selections: nodeSelections },
  params: {
    cacheID: 'ProductNodeQuery',
    id: null,
    metadata: {},
    name: 'ProductNodeQuery',
    operationKind: 'query',
    text: 'query ProductNodeQuery($id: ID!) { node(id: $id) { __typename ... on Product { title } id } }',
  },
} as unknown as ConcreteRequest;

describe('urql and Relay against the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let productId: string;
  const methods: string[] = [];
  const watchedFetch: typeof fetch = (input, init) => {
    methods.push(init?.method ?? 'GET');
    return fetch(input, init);
  };

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    productId = (await addProduct(system, shop, 'Oat Latte', ['OAT-1'])).id;
    await receiveStock(system, shop, 'OAT-1', 2);
  }, 120_000);
  afterAll(async () => {
    await system?.stop();
  });

  it('urql with Graphcache: a query over GET, and a mutation\'s answer updates the cached query by id', async () => {
    const client = new Client({ url: system.gatewayUrl, exchanges: [graphcache(), fetchExchange], fetchOptions: { headers: shop.headers }, fetch: watchedFetch });
    const seen: number[] = [];
    const watched = client.query(STOCK, { sku: 'OAT-1', store: shop.storeId }).subscribe((result) => {
      if (result.error) throw result.error;
      const available = (result.data as { variant?: { stock?: { available: number } } } | undefined)?.variant?.stock?.available;
      if (available !== undefined) seen.push(available);
    });
    try {
      await eventually(async () => expect(seen).toEqual([2]));
      expect(methods).toEqual(['GET']);
      const mutation = await client.mutation(RECEIVE, { input: { sku: 'OAT-1', storeId: shop.storeId, quantity: 3 } }).toPromise();
      expect(mutation.error).toBeUndefined();
      // The answer's StockLevel (typename and id) is the one the query cached: Graphcache updates it, no refetch.
      await eventually(async () => expect(seen).toEqual([2, 5]));
      expect(methods).toEqual(['GET', 'POST']);
    } finally {
      watched.unsubscribe();
    }
  });

  it('Relay: a `node` refetch by global id through a real Environment updates the record it normalized', async () => {
    const environment = new Environment({
      network: Network.create(async (params, variables) => {
        const response = await fetch(system.gatewayUrl, {
          method: 'POST',
          headers: { ...shop.headers, 'content-type': 'application/json' },
          body: JSON.stringify({ query: params.text, variables }),
        });
        return response.json();
      }),
      store: new Store(new RecordSource()),
    });
    const first = await fetchQuery(environment, PRODUCT_NODE_QUERY, { id: productId }).toPromise();
    expect(first).toEqual({ node: { __typename: 'Product', title: 'Oat Latte', id: productId } });
    expect(environment.getStore().getSource().get(productId)).toMatchObject({ __id: productId, __typename: 'Product', title: 'Oat Latte' });

    await system.ok('mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id } }', { input: { id: productId, title: 'Oat Flat White', variants: [{ sku: 'OAT-1', title: 'Oat Latte OAT-1' }] } }, shop.headers);
    const again = await fetchQuery(environment, PRODUCT_NODE_QUERY, { id: productId }, { fetchPolicy: 'network-only' }).toPromise();
    expect(again).toEqual({ node: { __typename: 'Product', title: 'Oat Flat White', id: productId } });
    // One record per id: the refetch updated it in place.
    expect(environment.getStore().getSource().get(productId)).toMatchObject({ title: 'Oat Flat White' });
  });
});
