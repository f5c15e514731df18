import { addProduct, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const STOREFRONT = `query ($store: ID!, $first: Int, $after: String, $q: String) {
  products(first: $first, after: $after, query: $q) {
    edges { cursor node {
      id title brand category { name }
      variants { sku title product { title } price(storeId: $store) { amount currencyCode }
        stock(storeId: $store) { sku storeId store { id name } onHand reserved available orderable } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('storefront reads through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    const { createCategory } = await system.ok<{ createCategory: { id: string } }>(
      'mutation { createCategory(input: { name: "Coffee" }) { id } }', {}, shop.headers,
    );
    await addProduct(system, shop, 'Espresso Beans', ['ESP-1', 'ESP-2'], { brand: 'Alpine', categoryId: createCategory.id });
    await addProduct(system, shop, 'Filter Roast', ['FIL-1'], { brand: 'Cascade', description: 'bright and fruity' });
    await addProduct(system, shop, 'Green Tea', ['TEA-1']);
    await setPrice(system, shop, 'ESP-1', '12.5');
    await receiveStock(system, shop, 'ESP-1', 7);
  });
  afterAll(() => system.stop());

  it('answers one query with fields from tenant, catalog, pricing and inventory', async () => {
    const data = await system.ok(STOREFRONT, { store: shop.storeId, first: 1 }, shop.headers);
    expect(data.products).toEqual({
      edges: [
        {
          cursor: expect.any(String),
          node: {
            id: expect.any(String),
            title: 'Espresso Beans',
            brand: 'Alpine',
            category: { name: 'Coffee' },
            variants: [
              {
                sku: 'ESP-1', title: 'Espresso Beans ESP-1', product: { title: 'Espresso Beans' },
                price: { amount: '12.50', currencyCode: 'EUR' },
                stock: { sku: 'ESP-1', storeId: shop.storeId, store: { id: shop.storeId, name: 'Main Street' }, onHand: 7, reserved: 0, available: 7, orderable: 7 },
              },
              {
                sku: 'ESP-2', title: 'Espresso Beans ESP-2', product: { title: 'Espresso Beans' },
                price: null,
                stock: { sku: 'ESP-2', storeId: shop.storeId, store: { id: shop.storeId, name: 'Main Street' }, onHand: 0, reserved: 0, available: 0, orderable: 0 },
              },
            ],
          },
        },
      ],
      pageInfo: { hasNextPage: true, endCursor: expect.any(String) },
    });
  });

  it('pages with cursors until the last product', async () => {
    const titles: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page += 1) {
      const data: any = await system.ok(STOREFRONT, { store: shop.storeId, first: 2, after }, shop.headers);
      titles.push(...data.products.edges.map((e: any) => e.node.title));
      if (!data.products.pageInfo.hasNextPage) break;
      after = data.products.pageInfo.endCursor;
    }
    expect(titles).toEqual(['Espresso Beans', 'Filter Roast', 'Green Tea']);
  });

  it('searches titles, descriptions and skus', async () => {
    const titlesFor = async (q: string) =>
      ((await system.ok(STOREFRONT, { store: shop.storeId, q }, shop.headers)) as any).products.edges.map((e: any) => e.node.title);
    expect(await titlesFor('fruity')).toEqual(['Filter Roast']);
    expect(await titlesFor('tea')).toEqual(['Green Tea']);
    expect(await titlesFor('ESP-2')).toEqual(['Espresso Beans']);
    expect(await titlesFor('nothing-like-this')).toEqual([]);
  });

  it('finds a product by id, a variant by sku, and a store inventory', async () => {
    const first: any = await system.ok(STOREFRONT, { store: shop.storeId, first: 1 }, shop.headers);
    const id = first.products.edges[0].node.id;
    const data = await system.ok(
      `query ($id: ID!, $store: ID!) {
        product(id: $id) { title variants { sku } }
        variant(sku: "ESP-1") { sku stockLevels { storeId onHand } product { title } }
        missing: variant(sku: "NOPE") { sku }
        tenant { slug stores { id code name kind } }
        store(id: $store) { name inventory(first: 10) { edges { node { sku onHand variant { title } } } pageInfo { hasNextPage } } }
      }`,
      { id, store: shop.storeId },
      shop.headers,
    );
    expect(data).toEqual({
      product: { title: 'Espresso Beans', variants: [{ sku: 'ESP-1' }, { sku: 'ESP-2' }] },
      variant: { sku: 'ESP-1', stockLevels: [{ storeId: shop.storeId, onHand: 7 }], product: { title: 'Espresso Beans' } },
      missing: null,
      tenant: {
        slug: shop.slug,
        stores: [
          { id: shop.stores[1]!.id, code: 'D1', name: 'Dark Store', kind: 'DARK_STORE' },
          { id: shop.storeId, code: 'S1', name: 'Main Street', kind: 'STORE' },
        ],
      },
      store: {
        name: 'Main Street',
        inventory: { edges: [{ node: { sku: 'ESP-1', onHand: 7, variant: { title: 'Espresso Beans ESP-1' } } }], pageInfo: { hasNextPage: false } },
      },
    });
  });

  it('rejects bad pagination and unknown stores with codes', async () => {
    const tooMany = await system.request(STOREFRONT, { store: shop.storeId, first: 500 }, shop.headers);
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await system.request(STOREFRONT, { store: shop.storeId, after: 'garbage' }, shop.headers);
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknownStore = await system.request(STOREFRONT, { store: '00000000-0000-4000-8000-000000000000', first: 1 }, shop.headers);
    expect(unknownStore.errors?.map((e) => e.extensions?.code)).toContain('NOT_FOUND');
    expect(unknownStore.data?.products.edges[0].node.title).toBe('Espresso Beans');
  });

  it('hides unpublished products from the storefront, not from staff', async () => {
    const draft = await addProduct(system, shop, 'Secret Blend', ['SEC-1'], { published: false });
    const titles = async (headers: Record<string, string>) =>
      ((await system.ok('{ products(first: 50) { edges { node { title } } } }', {}, headers)) as any).products.edges.map((e: any) => e.node.title);
    expect(await titles(shop.headers)).toContain('Secret Blend');
    expect(await titles(shop.storefrontHeaders)).not.toContain('Secret Blend');
    const direct = await system.ok('query ($id: ID!) { product(id: $id) { title } variant(sku: "SEC-1") { sku } }', { id: draft.id }, shop.storefrontHeaders);
    expect(direct).toEqual({ product: null, variant: null });
    // Publishing is an update: the variants stay as they are.
    const published = await system.ok(
      'mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { published variants { sku } } }',
      { i: { id: draft.id, title: 'Secret Blend', published: true, variants: [] } },
      shop.headers,
    );
    expect(published.upsertProduct).toEqual({ published: true, variants: [{ sku: 'SEC-1' }] });
    expect(await titles(shop.storefrontHeaders)).toContain('Secret Blend');
  });

  it('answers a malformed query with a parse error, no stack trace', async () => {
    const result = await system.request('{ products(first: 1) { edges ', {}, shop.headers);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(result)).not.toMatch(/\bat \S+:\d+/);
  });
});
