import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Apollo Client 4 with its default InMemoryCache, configured with nothing but the URL and a key
 * (issue 24): every object it caches has an `id`, so a mutation's answer updates what a watched
 * query shows, and two queries of one object with different fields merge instead of overwriting.
 */
const STOCK = gql`
  query Stock($sku: ID!, $store: ID!) {
    variant(sku: $sku) { id sku stock(storeId: $store) { id available } }
  }
`;
const RECEIVE = gql`
  mutation Receive($input: ReceiveStockInput!) {
    receiveStock(input: $input) { id available }
  }
`;
const LIST = gql`
  query List {
    products(first: 10) { edges { node { id title variants { id sku title } } } }
  }
`;
const DETAIL = gql`
  query Detail($id: ID!) {
    product(id: $id) { id title variants { id sku } }
  }
`;

const CART = gql`
  query Cart($id: ID!) {
    cart(id: $id) { id lines { id sku quantity } }
  }
`;
const ADD_LINES = gql`
  mutation AddLines($cart: ID!, $lines: [CartLineInput!]!) {
    addCartLines(cartId: $cart, lines: $lines) { id lines { id sku quantity } }
  }
`;
const UPDATE_LINES = gql`
  mutation UpdateLines($cart: ID!, $lines: [CartLineInput!]!) {
    updateCartLines(cartId: $cart, lines: $lines) { id lines { id quantity } }
  }
`;

describe('Apollo Client default cache against the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let client: ApolloClient;
  let productId: string;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    productId = (await addProduct(system, shop, 'Cold Brew', ['BREW-1', 'BREW-2'])).id;
    await receiveStock(system, shop, 'BREW-1', 3);
    await setPrice(system, shop, 'BREW-1', '4.00');
    client = new ApolloClient({ link: new HttpLink({ uri: system.gatewayUrl, headers: shop.headers }), cache: new InMemoryCache() });
  }, 120_000);
  afterAll(async () => {
    client?.stop();
    await system?.stop();
  });

  it('updates a watched query from a mutation\'s answer, without refetching', async () => {
    const seen: number[] = [];
    const watched = client.watchQuery({ query: STOCK, variables: { sku: 'BREW-1', store: shop.storeId } }).subscribe(({ data }) => {
      const available = (data as { variant?: { stock?: { available: number } } } | undefined)?.variant?.stock?.available;
      if (available !== undefined) seen.push(available);
    });
    try {
      await eventually(async () => expect(seen).toEqual([3]));
      await client.mutate({ mutation: RECEIVE, variables: { input: { sku: 'BREW-1', storeId: shop.storeId, quantity: 4 } } });
      // The answer's StockLevel has the id the watched query cached: the cache updates it in place.
      await eventually(async () => expect(seen).toEqual([3, 7]));
    } finally {
      watched.unsubscribe();
    }
  });

  it('updates a watched cart from a cart mutation\'s answer: the cart and each line by its id', async () => {
    const { createCart } = await system.ok('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: shop.storeId }, shop.headers);
    const seen: { sku: string; quantity: number }[][] = [];
    const watched = client.watchQuery({ query: CART, variables: { id: createCart.id } }).subscribe(({ data }) => {
      const lines = (data as { cart?: { lines: { sku: string; quantity: number }[] } } | undefined)?.cart?.lines;
      if (lines) seen.push(lines.map(({ sku, quantity }) => ({ sku, quantity })));
    });
    try {
      await eventually(async () => expect(seen).toEqual([[]]));
      // Variants and prices reach orders by events: retry until the sku is known there.
      await eventually(() => client.mutate({ mutation: ADD_LINES, variables: { cart: createCart.id, lines: [{ sku: 'BREW-1', quantity: 2 }] } }), 10_000);
      await eventually(async () => expect(seen.at(-1)).toEqual([{ sku: 'BREW-1', quantity: 2 }]));
      // The next answer carries only the lines' ids and quantities: the cached line is updated in place.
      await client.mutate({ mutation: UPDATE_LINES, variables: { cart: createCart.id, lines: [{ sku: 'BREW-1', quantity: 5 }] } });
      await eventually(async () => expect(seen.at(-1)).toEqual([{ sku: 'BREW-1', quantity: 5 }]));
    } finally {
      watched.unsubscribe();
    }
  });

  it('keeps a list complete after a detail query of one of its products asks for fewer fields', async () => {
    const list = await client.query({ query: LIST });
    expect(list.error).toBeUndefined();
    await client.query({ query: DETAIL, variables: { id: productId } });
    // Read from the cache alone: with ids the variants were merged, not replaced by the detail's.
    const cached = client.readQuery({ query: LIST }) as { products: { edges: { node: { id: string; variants: { sku: string; title: string }[] } }[] } } | null;
    const product = cached?.products.edges.find((e) => e.node.id === productId)?.node;
    expect(product?.variants.map((v) => [v.sku, typeof v.title])).toEqual([
      ['BREW-1', 'string'],
      ['BREW-2', 'string'],
    ]);
  });
});
