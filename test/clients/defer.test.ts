import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, type OperationVariables } from '@apollo/client';
import { tap } from 'rxjs';
import { Defer20220824Handler, GraphQL17Alpha9Handler } from '@apollo/client/incremental';
import type { DocumentNode } from 'graphql';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Apollo Client 4 with `@defer` and `@stream` (issue 24), configured with nothing but the URL, a
 * key and one of its two incremental handlers: a product page gets its titles first and the
 * stock and prices of its variants in a later payload; a streamed list grows item by item.
 */
const PAGE = gql`
  query Page($id: ID!, $store: ID!) {
    product(id: $id) {
      id
      title
      variants {
        id
        sku
        title
        ... @defer(label: "offer") {
          stock(storeId: $store) { id available }
          price(storeId: $store) { amount currencyCode }
        }
      }
    }
  }
`;
const PAGE_AT_ONCE = gql`
  query PageAtOnce($id: ID!, $store: ID!) {
    product(id: $id) {
      id
      title
      variants { id sku title stock(storeId: $store) { id available } price(storeId: $store) { amount currencyCode } }
    }
  }
`;
const VARIANTS = gql`
  query Variants($id: ID!) {
    product(id: $id) { id variants @stream(initialCount: 1) { id sku } }
  }
`;

type Page = { product: { title: string; variants: { sku: string; stock?: { available: number } | null; price?: { amount: string } | null }[] } };

/** Every state a watched query shows until `done` says it has all it waits for (default: complete). */
async function statesOf<T>(
  client: ApolloClient,
  query: DocumentNode,
  variables: OperationVariables,
  done: (state: { dataState: string; data: T }) => boolean = (state) => state.dataState === 'complete',
): Promise<{ dataState: string; data: T }[]> {
  const states: { dataState: string; data: T }[] = [];
  await new Promise<void>((resolve, reject) => {
    const subscription = client.watchQuery({ query, variables, fetchPolicy: 'network-only' }).subscribe({
      next: (result) => {
        if (result.error) reject(result.error);
        if (result.dataState === 'empty') return;
        const state = { dataState: result.dataState, data: result.data as T };
        states.push(state);
        if (done(state)) {
          subscription.unsubscribe();
          resolve();
        }
      },
      error: reject,
    });
  });
  return states;
}

describe('Apollo Client 4 with @defer and @stream', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let productId: string;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    productId = (await addProduct(system, shop, 'Pour Over', ['POUR-1', 'POUR-2', 'POUR-3'])).id;
    await receiveStock(system, shop, 'POUR-1', 5);
    await setPrice(system, shop, 'POUR-1', '3.20');
  }, 120_000);
  afterAll(() => system?.stop());

  describe.each([
    ['Defer20220824Handler', () => new Defer20220824Handler()],
    ['GraphQL17Alpha9Handler', () => new GraphQL17Alpha9Handler()],
  ])('%s', (_name, handler) => {
    let client: ApolloClient;
    /** Each payload as HttpLink hands it to the client (a watched query shows only the last of those read in one go). */
    let received: Record<string, any>[] = [];

    beforeAll(() => {
      const seen = new ApolloLink((operation, forward) => forward(operation).pipe(tap((result) => void received.push(result))));
      client = new ApolloClient({ link: ApolloLink.from([seen, new HttpLink({ uri: system.gatewayUrl, headers: shop.headers })]), cache: new InMemoryCache(), incrementalHandler: handler() });
    });
    afterAll(() => client?.stop());

    it('shows the titles first, then stock and prices; the cache ends as the query without @defer answers', async () => {
      const variables = { id: productId, store: shop.storeId };
      const states = await statesOf<Page>(client, PAGE, variables);
      const first = states[0]!;
      // Titles, without stock or prices yet.
      expect(first.dataState).toBe('streaming');
      expect(first.data.product.title).toBe('Pour Over');
      expect(first.data.product.variants.map((v) => [v.sku, v.stock, v.price])).toEqual([
        ['POUR-1', undefined, undefined],
        ['POUR-2', undefined, undefined],
        ['POUR-3', undefined, undefined],
      ]);
      const last = states.at(-1)!;
      expect(last.dataState).toBe('complete');
      expect(last.data.product.variants[0]).toMatchObject({ sku: 'POUR-1', stock: { available: 5 }, price: { amount: '3.20' } });
      // What the cache holds now is what a fresh client gets for the same fields asked at once.
      const fresh = new ApolloClient({ link: new HttpLink({ uri: system.gatewayUrl, headers: shop.headers }), cache: new InMemoryCache() });
      try {
        const atOnce = await fresh.query({ query: PAGE_AT_ONCE, variables });
        expect(atOnce.error).toBeUndefined();
        expect(client.readQuery({ query: PAGE_AT_ONCE, variables })).toEqual(atOnce.data);
      } finally {
        fresh.stop();
      }
    });

    it('grows a streamed list item by item', async () => {
      received = [];
      // Apollo Client calls a result without pending @defer complete: the watch waits for the whole list.
      const states = await statesOf<{ product: { variants: { sku: string }[] } }>(client, VARIANTS, { id: productId }, (state) => state.data.product.variants.length === 3);
      expect(states[0]!.data.product.variants.map((v) => v.sku)).toEqual(['POUR-1']);
      // The first payload holds the initial count; each later one an item, the last with hasNext false.
      expect(received[0]).toMatchObject({ data: { product: { variants: [{ sku: 'POUR-1' }] } }, hasNext: true });
      expect(received.slice(1).map((payload) => [payload.incremental?.[0]?.items?.map((v: { sku: string }) => v.sku), payload.hasNext])).toEqual([
        [['POUR-2'], true],
        [['POUR-3'], false],
      ]);
      expect(states.at(-1)!.dataState).toBe('complete');
      expect(states.at(-1)!.data.product.variants.map((v) => v.sku)).toEqual(['POUR-1', 'POUR-2', 'POUR-3']);
    });
  });
});
