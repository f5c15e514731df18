import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * Issue 15's catalog for a storefront, through the gateway: typed attributes (and search's
 * attribute filters and facets, checked against a brute-force count), options, media, archiving,
 * and recommendations learnt from order and ledger events.
 */
const SEARCH = `query ($q: String, $filter: SearchFilter, $store: ID) {
  search(query: $q, filter: $filter, storeId: $store, first: 100) {
    totalCount
    edges { node { title } }
    facets { name label values { value label count } }
  }
}`;
const PRODUCT = `query ($id: ID!) { product(id: $id) {
  title archived
  attributes { name label value unit kind }
  options { name values }
  media { url alt kind position }
  variants { sku options { name value } media { url position } }
} }`;
const RECOMMEND = 'query ($id: ID!, $s: ID!, $k: RecommendationKind!) { product(id: $id) { recommendations(storeId: $s, kind: $k, first: 5) { title } } }';
const TRENDING = 'query ($s: ID!) { trending(storeId: $s, first: 5) { title } }';
const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }';
const ORDER = 'query ($id: ID!) { order(id: $id) { status } }';

interface Facet {
  name: string;
  label: string;
  values: { value: string; label: string; count: number }[];
}

/** What the brute force knows of each product: its brand and attribute values. */
const CATALOG: { title: string; sku: string; brand: string; attributes: Record<string, string> }[] = [
  { title: 'Espresso Beans', sku: 'SC-ESP', brand: 'Alpine', attributes: { roast: 'dark', weight: '250', organic: 'true', origin: 'Colombia' } },
  { title: 'House Blend', sku: 'SC-HOU', brand: 'Alpine', attributes: { roast: 'medium', weight: '1000', organic: 'false' } },
  { title: 'Decaf Beans', sku: 'SC-DEC', brand: 'Mountain', attributes: { roast: 'dark', weight: '500', organic: 'false' } },
  { title: 'Green Tea', sku: 'SC-TEA', brand: 'Leaf', attributes: { weight: '100', organic: 'true' } },
  { title: 'Dark Chocolate', sku: 'SC-CHO', brand: 'Cacao', attributes: { weight: '100' } },
];

type Filter = { brands?: string[]; attributes?: { name: string; values?: string[]; min?: number; max?: number }[] };
const passes = (p: (typeof CATALOG)[number], f: Filter, except?: string) =>
  (except === 'brand' || !f.brands || f.brands.includes(p.brand)) &&
  (f.attributes ?? []).every((a) => {
    if (a.name === except) return true;
    const v = p.attributes[a.name];
    if (v === undefined) return false;
    // A number's values compare as numbers ("100.0" is 100).
    const same = (x: string) => (a.name === 'weight' ? Number(x) === Number(v) : x === v);
    return (!a.values || a.values.some(same)) && (a.min === undefined || Number(v) >= a.min) && (a.max === undefined || Number(v) <= a.max);
  });
/** Facet semantics by brute force: counts over the products passing every filter but the facet's own. */
function bruteFacets(f: Filter) {
  const count = (key: (p: (typeof CATALOG)[number]) => string | undefined, except: string) => {
    const counts: Record<string, number> = {};
    for (const p of CATALOG.filter((q) => passes(q, f, except))) {
      const k = key(p);
      if (k !== undefined) counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
  };
  return {
    total: CATALOG.filter((p) => passes(p, f)).length,
    brand: count((p) => p.brand, 'brand'),
    ...Object.fromEntries(['roast', 'weight', 'organic'].map((name) => [`attribute:${name}`, count((p) => p.attributes[name], name)])),
  };
}

describe('the catalog a storefront needs, through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const ids: Record<string, string> = {};
  const categories: Record<string, string> = {};

  const search = async (variables: Record<string, unknown>, headers = shop.storefrontHeaders) =>
    (await system.ok<{ search: { totalCount: number; edges: { node: { title: string } }[]; facets: Facet[] } }>(SEARCH, variables, headers)).search;
  const codeOf = async (query: string, variables: Record<string, unknown>, headers = shop.headers) =>
    (await system.request(query, variables, headers)).errors?.[0]?.extensions?.code;
  const titles = (list: { title: string }[]) => list.map((p) => p.title);

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { orderWorkflowVersion: 1 } });
    shop = await createShop(system);
    const define = (input: Record<string, unknown>) => system.ok('mutation ($i: DefineAttributeInput!) { defineAttribute(input: $i) { name } }', { i: input }, shop.headers);
    await define({ name: 'roast', label: 'Roast', kind: 'TEXT' });
    await define({ name: 'weight', label: 'Weight', kind: 'NUMBER', unit: 'g' });
    await define({ name: 'organic', label: 'Organic', kind: 'BOOLEAN' });
    await define({ name: 'origin', label: 'Origin', kind: 'TEXT', filterable: false });
    const category = async (name: string, parentId?: string) => {
      categories[name] = (await system.ok('mutation ($i: CreateCategoryInput!) { createCategory(input: $i) { id } }', { i: { name, parentId } }, shop.headers)).createCategory.id;
    };
    await category('Drinks');
    await category('Coffee', categories.Drinks);
    await category('Tea', categories.Drinks);
    await category('Sweets');
    const categoryOf: Record<string, string> = { 'Green Tea': 'Tea', 'Dark Chocolate': 'Sweets' };
    for (const p of CATALOG) {
      const extra: Record<string, unknown> = {
        brand: p.brand,
        categoryId: categories[categoryOf[p.title] ?? 'Coffee'],
        attributes: Object.entries(p.attributes).map(([name, value]) => ({ name, value })),
      };
      ids[p.title] = (await addProduct(system, shop, p.title, [p.sku], extra)).id;
    }
    // Everything but the decaf is priced and in stock in the first store.
    for (const p of CATALOG) {
      await setPrice(system, shop, p.sku, '5.00');
      if (p.title !== 'Decaf Beans') await receiveStock(system, shop, p.sku, 50);
    }
    await eventually(async () => expect((await search({ store: shop.storeId, filter: { inStock: true } })).totalCount).toBe(4));
  }, 120_000);
  afterAll(() => system.stop());

  it('keeps attributes, options and media on products and variants, written whole by upsertProduct', async () => {
    await system.ok(
      'mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }',
      {
        i: {
          id: ids['Espresso Beans'],
          title: 'Espresso Beans',
          brand: 'Alpine',
          categoryId: categories.Coffee,
          options: [{ name: 'Size', values: ['250g', '1kg'] }],
          media: [{ url: 'https://cdn.example/esp.jpg', alt: 'A bag of beans' }, { url: 'https://cdn.example/esp.mp4', kind: 'VIDEO' }],
          variants: [
            { sku: 'SC-ESP', title: 'Espresso 250g', options: [{ name: 'Size', value: '250g' }], media: [{ url: 'https://cdn.example/esp-s.jpg' }] },
            { sku: 'SC-ESP-L', title: 'Espresso 1kg', options: [{ name: 'Size', value: '1kg' }] },
          ],
        },
      },
      shop.headers,
    );
    const { product } = await system.ok(PRODUCT, { id: ids['Espresso Beans'] }, shop.storefrontHeaders);
    expect(product).toEqual({
      title: 'Espresso Beans',
      archived: false,
      // Absent from this upsert: kept.
      attributes: [
        { name: 'roast', label: 'Roast', value: 'dark', unit: null, kind: 'TEXT' },
        { name: 'weight', label: 'Weight', value: '250', unit: 'g', kind: 'NUMBER' },
        { name: 'organic', label: 'Organic', value: 'true', unit: null, kind: 'BOOLEAN' },
        { name: 'origin', label: 'Origin', value: 'Colombia', unit: null, kind: 'TEXT' },
      ],
      options: [{ name: 'Size', values: ['250g', '1kg'] }],
      media: [
        { url: 'https://cdn.example/esp.jpg', alt: 'A bag of beans', kind: 'IMAGE', position: 0 },
        { url: 'https://cdn.example/esp.mp4', alt: null, kind: 'VIDEO', position: 1 },
      ],
      variants: [
        { sku: 'SC-ESP', options: [{ name: 'Size', value: '250g' }], media: [{ url: 'https://cdn.example/esp-s.jpg', position: 0 }] },
        { sku: 'SC-ESP-L', options: [{ name: 'Size', value: '1kg' }], media: [] },
      ],
    });
    // Attribute and option values are words of the search document; a non-filterable attribute too.
    expect(titles((await search({ q: 'colombia' })).edges.map((e) => e.node))).toEqual(['Espresso Beans']);
    expect(titles((await search({ q: '1kg' })).edges.map((e) => e.node))).toEqual(['Espresso Beans']);
  });

  it('refuses undeclared attributes, values of the wrong kind, foreign option values and bad media, writing nothing', async () => {
    const upsert = (extra: Record<string, unknown>, variant: Record<string, unknown> = {}) =>
      codeOf('mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }', {
        i: { id: ids['House Blend'], title: 'Changed Title', variants: [{ sku: 'SC-HOU', title: 'House', ...variant }], ...extra },
      });
    expect(await upsert({ attributes: [{ name: 'colour', value: 'red' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({ attributes: [{ name: 'weight', value: 'heavy' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({ attributes: [{ name: 'organic', value: 'yes' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({ attributes: [{ name: 'roast', value: 'a' }, { name: 'roast', value: 'b' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({}, { options: [{ name: 'Size', value: 'XXL' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({ media: [{ url: 'javascript:alert(1)' }] })).toBe('BAD_USER_INPUT');
    expect(await upsert({ options: [{ name: 'Size', values: ['S', 'S'] }] })).toBe('BAD_USER_INPUT');
    const { product } = await system.ok('query ($id: ID!) { product(id: $id) { title attributes { value } } }', { id: ids['House Blend'] }, shop.headers);
    expect(product).toEqual({ title: 'House Blend', attributes: [{ value: 'medium' }, { value: '1000' }, { value: 'false' }] });

    const define = (i: Record<string, unknown>) => codeOf('mutation ($i: DefineAttributeInput!) { defineAttribute(input: $i) { name } }', { i });
    expect(await define({ name: 'weight', kind: 'TEXT' })).toBe('BAD_USER_INPUT');
    expect(await define({ name: 'Bad Name', kind: 'TEXT' })).toBe('BAD_USER_INPUT');
    expect(await define({ name: 'shade', kind: 'TEXT', unit: 'g' })).toBe('BAD_USER_INPUT');
    expect(await codeOf('mutation { defineAttribute(input: { name: "x", kind: TEXT }) { name } }', {}, shop.storefrontHeaders)).not.toBeUndefined();
  });

  it('filters by attributes and counts their facets as a brute force does', async () => {
    const filters: Filter[] = [
      {},
      { attributes: [{ name: 'roast', values: ['dark'] }] },
      { attributes: [{ name: 'weight', min: 200, max: 600 }] },
      { attributes: [{ name: 'weight', min: 100, max: 250 }, { name: 'organic', values: ['true'] }] },
      { brands: ['Alpine'], attributes: [{ name: 'roast', values: ['dark', 'medium'] }] },
      { attributes: [{ name: 'weight', values: ['100.0'] }] },
    ];
    for (const filter of filters) {
      const result = await search({ filter });
      const expected = bruteFacets(filter);
      const got = Object.fromEntries(result.facets.filter((f) => f.name === 'brand' || f.name.startsWith('attribute:')).map((f) => [f.name, Object.fromEntries(f.values.map((v) => [v.value, v.count]))]));
      const want = Object.fromEntries(Object.entries(expected).filter(([name, counts]) => name !== 'total' && Object.keys(counts as object).length > 0));
      expect({ filter, total: result.totalCount, facets: got }).toEqual({ filter, total: expected.total, facets: want });
    }
    const all = await search({});
    expect(all.facets.find((f) => f.name === 'attribute:weight')).toEqual({
      name: 'attribute:weight',
      label: 'Weight',
      values: [{ value: '100', label: '100 g', count: 2 }, { value: '1000', label: '1000 g', count: 1 }, { value: '250', label: '250 g', count: 1 }, { value: '500', label: '500 g', count: 1 }],
    });
    // Not filterable: no facet, and refused as a filter.
    expect(all.facets.some((f) => f.name === 'attribute:origin')).toBe(false);
    for (const attributes of [[{ name: 'origin', values: ['Colombia'] }], [{ name: 'nothing', values: ['x'] }], [{ name: 'roast', min: 1 }], [{ name: 'weight', min: 5, max: 1 }], [{ name: 'weight' }]]) {
      expect(await codeOf(SEARCH, { filter: { attributes } }, shop.storefrontHeaders)).toBe('BAD_USER_INPUT');
    }
  });

  it('hides archived products and categories from shoppers, not from staff, until restored', async () => {
    const tea = ids['Green Tea']!;
    const archive = (id: string, archived: boolean) =>
      system.ok('mutation ($id: ID!, $a: Boolean) { archiveProduct(id: $id, archived: $a) { archived } }', { id, a: archived }, shop.headers);
    expect((await archive(tea, true)).archiveProduct).toEqual({ archived: true });
    const read = async (headers: Record<string, string>) => (await system.ok('query ($id: ID!) { product(id: $id) { archived } }', { id: tea }, headers)).product;
    expect(await read(shop.storefrontHeaders)).toBeNull();
    expect(await read(shop.headers)).toEqual({ archived: true });
    expect(titles((await search({ q: 'tea' })).edges.map((e) => e.node))).toEqual([]);
    const { products } = await system.ok('{ products(first: 100) { edges { node { title } } } }', {}, shop.storefrontHeaders);
    expect(products.edges.map((e: { node: { title: string } }) => e.node.title)).not.toContain('Green Tea');
    // With a query, the archived product is left out before the page is chosen: full pages, and
    // the last page says so (it was filtered after, so a page came back short).
    const PAGE = 'query ($q: String, $n: Int, $after: String) { products(query: $q, first: $n, after: $after) { edges { node { title } } pageInfo { hasNextPage endCursor } } }';
    type Page = { products: { edges: { node: { title: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const pages = async (headers: Record<string, string>, n: number) => {
      const seen: string[][] = [];
      let after: string | null = null;
      for (;;) {
        const page: Page['products'] = (await system.ok<Page>(PAGE, { q: 'SC-', n, after }, headers)).products;
        seen.push(page.edges.map((e) => e.node.title));
        if (!page.pageInfo.hasNextPage) return seen;
        after = page.pageInfo.endCursor;
      }
    };
    expect(await pages(shop.storefrontHeaders, 4)).toEqual([['Espresso Beans', 'House Blend', 'Decaf Beans', 'Dark Chocolate']]);
    expect(await pages(shop.storefrontHeaders, 3)).toEqual([['Espresso Beans', 'House Blend', 'Decaf Beans'], ['Dark Chocolate']]);
    expect(await pages(shop.headers, 4)).toEqual([['Espresso Beans', 'House Blend', 'Decaf Beans', 'Green Tea'], ['Dark Chocolate']]);
    // search pages the same way: the archived product is not counted and takes no place on a page.
    const SEARCH_PAGE = 'query ($q: String) { search(query: $q, first: 2) { totalCount edges { node { title } } pageInfo { hasNextPage } } }';
    const firstPage = (await system.ok(SEARCH_PAGE, { q: 'sc' }, shop.storefrontHeaders)).search;
    expect(firstPage.totalCount).toBe(4);
    expect(firstPage.edges).toHaveLength(2);
    expect(firstPage.pageInfo.hasNextPage).toBe(true);

    // A category with a live product is refused; once empty, it leaves the shoppers' tree.
    const archiveCategory = (id: string, archived = true) => system.request('mutation ($id: ID!, $a: Boolean) { archiveCategory(id: $id, archived: $a) { name archived } }', { id, a: archived }, shop.headers);
    expect((await archiveCategory(categories.Sweets!)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await archiveCategory(categories.Drinks!)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await archiveCategory(categories.Tea!)).data).toEqual({ archiveCategory: { name: 'Tea', archived: true } });
    const names = async (headers: Record<string, string>) => (await system.ok('{ categories { name } }', {}, headers)).categories.map((c: { name: string }) => c.name);
    expect(await names(shop.storefrontHeaders)).toEqual(['Coffee', 'Drinks', 'Sweets']);
    expect(await names(shop.headers)).toEqual(['Coffee', 'Drinks', 'Sweets', 'Tea']);

    expect((await archiveCategory(categories.Tea!, false)).data).toEqual({ archiveCategory: { name: 'Tea', archived: false } });
    expect((await archive(tea, false)).archiveProduct).toEqual({ archived: false });
    expect(await read(shop.storefrontHeaders)).toEqual({ archived: false });
    expect(titles((await search({ q: 'tea' })).edges.map((e) => e.node))).toEqual(['Green Tea']);
  });

  it('recommends what orders bought together and what sells, only what the store can sell, falling back to similar', async () => {
    const recommend = async (title: string, kind: string, storeId = shop.storeId) =>
      titles((await system.ok(RECOMMEND, { id: ids[title], s: storeId, k: kind }, shop.storefrontHeaders)).product.recommendations);
    await setPrice(system, shop, 'SC-ESP-L', '9.00');
    await receiveStock(system, shop, 'SC-ESP-L', 50);
    // Cold start: no order yet, so bought-together is the similar list: same category and brand first.
    const similar = await recommend('Espresso Beans', 'SIMILAR');
    expect(similar[0]).toBe('House Blend');
    expect(similar).not.toContain('Espresso Beans');
    expect(similar).not.toContain('Decaf Beans'); // no stock in this store
    expect(await recommend('Espresso Beans', 'FREQUENTLY_BOUGHT_TOGETHER')).toEqual(similar);
    // Asked for as many as its own category and brand hold in stock, the near products answer
    // (found through indexes) and agree with scoring every product.
    const nearest = await system.ok(
      'query ($id: ID!, $s: ID!) { product(id: $id) { recommendations(storeId: $s, kind: SIMILAR, first: 1) { title } } }',
      { id: ids['Espresso Beans'], s: shop.storeId },
      shop.storefrontHeaders,
    );
    expect(titles(nearest.product.recommendations)).toEqual(similar.slice(0, 1));
    expect(await recommend('Espresso Beans', 'SIMILAR', shop.stores[1]!.id)).toEqual([]);

    const order = async (lines: { sku: string; quantity: number }[]) => {
      const id = await eventually(async () => (await system.ok(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines }, shop.posHeaders) }, shop.posHeaders)).placeOrder.id as string);
      await eventually(async () => expect((await system.ok(ORDER, { id }, shop.headers)).order.status).toBe('RESERVED'), 20_000);
      await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id }, shop.posHeaders);
      await system.ok('mutation ($id: ID!) { fulfillOrder(id: $id) { status } }', { id }, shop.posHeaders);
    };
    await order([{ sku: 'SC-ESP', quantity: 1 }, { sku: 'SC-CHO', quantity: 1 }]);
    await order([{ sku: 'SC-ESP-L', quantity: 1 }, { sku: 'SC-CHO', quantity: 2 }, { sku: 'SC-TEA', quantity: 1 }]);
    await order([{ sku: 'SC-TEA', quantity: 9 }]);
    await eventually(async () => {
      const together = await recommend('Espresso Beans', 'FREQUENTLY_BOUGHT_TOGETHER');
      expect(together.slice(0, 2)).toEqual(['Dark Chocolate', 'Green Tea']);
      // Then filled with similar products, never one twice nor itself.
      expect(together).toEqual(['Dark Chocolate', 'Green Tea', ...similar.filter((t) => t !== 'Dark Chocolate' && t !== 'Green Tea')].slice(0, 5));
    });
    // Units sold over 7 days: tea 10, chocolate 3, espresso 2 (both of its variants).
    await eventually(async () => expect(titles((await system.ok(TRENDING, { s: shop.storeId }, shop.storefrontHeaders)).trending)).toEqual(['Green Tea', 'Dark Chocolate', 'Espresso Beans']));
    expect((await system.ok(TRENDING, { s: shop.stores[1]!.id }, shop.storefrontHeaders)).trending).toEqual([]);

    // An archived product leaves every list.
    await system.ok('mutation ($id: ID!) { archiveProduct(id: $id) { archived } }', { id: ids['Dark Chocolate'] }, shop.headers);
    expect(titles((await system.ok(TRENDING, { s: shop.storeId }, shop.storefrontHeaders)).trending)).toEqual(['Green Tea', 'Espresso Beans']);
    expect(await recommend('Espresso Beans', 'FREQUENTLY_BOUGHT_TOGETHER')).not.toContain('Dark Chocolate');

    for (const [query, variables] of [
      [RECOMMEND, { id: ids['Espresso Beans'], s: 'not-a-store', k: 'SIMILAR' }],
      ['query ($s: ID!) { trending(storeId: $s, first: 51) { title } }', { s: shop.storeId }],
      ['query ($s: ID!) { trending(storeId: $s, first: 0) { title } }', { s: shop.storeId }],
    ] as const) {
      expect(await codeOf(query, variables, shop.storefrontHeaders)).toBe('BAD_USER_INPUT');
    }
  });
});
