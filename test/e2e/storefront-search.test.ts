import { addProduct, bearer, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { SearchService } from '../../subgraphs/catalog/src/services/search.service.js';

const SEARCH = `query ($q: String, $filter: SearchFilter, $sort: SearchSort, $store: ID, $first: Int, $after: String) {
  search(query: $q, filter: $filter, sort: $sort, storeId: $store, first: $first, after: $after) {
    totalCount
    edges { cursor node { title brand } }
    pageInfo { hasNextPage endCursor }
    facets { name label values { value label count } }
  }
}`;

interface Result {
  totalCount: number;
  edges: { cursor: string; node: { title: string; brand: string | null } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  facets: { name: string; values: { value: string; label: string; count: number }[] }[];
}

describe('storefront search through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const categories: Record<string, string> = {};

  const search = async (variables: Record<string, unknown>, headers = shop.storefrontHeaders) =>
    (await system.ok<{ search: Result }>(SEARCH, variables, headers)).search;
  const titles = async (variables: Record<string, unknown>, headers?: Record<string, string>) =>
    (await search(variables, headers)).edges.map((e) => e.node.title);
  const facet = (result: Result, name: string) =>
    Object.fromEntries((result.facets.find((f) => f.name === name)?.values ?? []).map((v) => [v.label, v.count]));

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    const category = async (name: string, parentId?: string) => {
      const { createCategory } = await system.ok<{ createCategory: { id: string } }>(
        'mutation ($input: CreateCategoryInput!) { createCategory(input: $input) { id } }', { input: { name, parentId } }, shop.headers,
      );
      categories[name] = createCategory.id;
    };
    await category('Drinks');
    await category('Coffee', categories.Drinks);
    await category('Tea', categories.Drinks);
    await category('Sweets');
    await addProduct(system, shop, 'Espresso Beans', ['ESP-1'], { brand: 'Alpine', categoryId: categories.Coffee, description: 'dark roast' });
    await addProduct(system, shop, 'Café Crème', ['CAF-1'], { brand: 'Alpine', categoryId: categories.Coffee });
    await addProduct(system, shop, 'Green Tea', ['TEA-1'], { brand: 'Leaf', categoryId: categories.Tea });
    await addProduct(system, shop, 'Dark Chocolate', ['CHO-1', 'CHO-2'], { brand: 'Cacao', categoryId: categories.Sweets });
    await addProduct(system, shop, 'Secret Draft Roast', ['DRA-1'], { brand: 'Alpine', categoryId: categories.Coffee, published: false });
    await setPrice(system, shop, 'ESP-1', '12.50');
    await setPrice(system, shop, 'CAF-1', '4.00');
    await setPrice(system, shop, 'TEA-1', '30.00');
    await setPrice(system, shop, 'CHO-2', '2.20');
    await receiveStock(system, shop, 'ESP-1', 5);
    await receiveStock(system, shop, 'CHO-1', 3);
    // The read model follows pricing's and inventory's events.
    await eventually(async () => expect((await search({ store: shop.storeId, filter: { inStock: true } })).totalCount).toBe(2));
  });
  afterAll(() => system.stop());

  it('matches category words, accents, prefixes and typos', async () => {
    expect(await titles({ q: 'coffee' })).toEqual(expect.arrayContaining(['Espresso Beans', 'Café Crème']));
    expect(await titles({ q: 'drinks' })).toHaveLength(3);
    expect(await titles({ q: 'cafe' })).toEqual(['Café Crème']);
    expect(await titles({ q: 'choc' })).toEqual(['Dark Chocolate']);
    expect(await titles({ q: 'expresso' })).toEqual(['Espresso Beans']);
    expect(await titles({ q: 'CHO-2' })).toEqual(['Dark Chocolate']);
    expect(await titles({ q: 'quokka' })).toEqual([]);
  });

  it('ranks a title match above a description match', async () => {
    expect((await titles({ q: 'dark' }))[0]).toBe('Dark Chocolate');
  });

  it('finds synonyms the tenant set', async () => {
    expect(await titles({ q: 'candy' })).toEqual([]);
    await system.ok('mutation { setSearchSynonyms(input: { groups: [["candy", "chocolate"]] }) }', {}, shop.headers);
    expect(await titles({ q: 'candy' })).toEqual(['Dark Chocolate']);
  });

  it('counts facets over the matches, each ignoring its own filter', async () => {
    const all = await search({ store: shop.storeId });
    expect(all.totalCount).toBe(4);
    expect(facet(all, 'brand')).toEqual({ Alpine: 2, Leaf: 1, Cacao: 1 });
    expect(facet(all, 'category')).toEqual({ Drinks: 3, Coffee: 2, Tea: 1, Sweets: 1 });
    expect(facet(all, 'price')).toEqual({ '0 to 10': 2, '10 to 25': 1, '25 to 50': 1 });
    expect(facet(all, 'inStock')).toEqual({ 'In stock': 2, 'Out of stock': 2 });

    const alpine = await search({ store: shop.storeId, filter: { brands: ['Alpine'] } });
    expect(alpine.totalCount).toBe(2);
    expect(facet(alpine, 'brand')).toEqual({ Alpine: 2, Leaf: 1, Cacao: 1 });
    expect(facet(alpine, 'inStock')).toEqual({ 'In stock': 1, 'Out of stock': 1 });
  });

  it('filters by a category and its descendants, price and stock in a store', async () => {
    expect(await titles({ filter: { categoryIds: [categories.Drinks] }, sort: 'TITLE' })).toEqual(['Café Crème', 'Espresso Beans', 'Green Tea']);
    expect(await titles({ store: shop.storeId, filter: { price: { min: '3', max: '20' } }, sort: 'PRICE_ASC' })).toEqual(['Café Crème', 'Espresso Beans']);
    expect(await titles({ store: shop.storeId, filter: { inStock: true }, sort: 'PRICE_DESC' })).toEqual(['Espresso Beans', 'Dark Chocolate']);
  });

  it('pages with cursors in every sort', async () => {
    for (const sort of ['TITLE', 'PRICE_ASC', 'PRICE_DESC', 'NEWEST']) {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page += 1) {
        const result: Result = await search({ store: shop.storeId, sort, first: 1, after });
        seen.push(...result.edges.map((e) => e.node.title));
        if (!result.pageInfo.hasNextPage) break;
        after = result.pageInfo.endCursor;
      }
      const whole = await titles({ store: shop.storeId, sort, first: 10 });
      expect(seen).toEqual(whole);
      expect(new Set(seen).size).toBe(4);
    }
  });

  it('shows drafts to staff only', async () => {
    expect(await titles({ q: 'secret' })).toEqual([]);
    expect(await titles({ q: 'secret' }, shop.headers)).toEqual(['Secret Draft Roast']);
  });

  it("keeps to the caller's tenant: another shop finds none of these products, words or synonyms", async () => {
    const other = await createShop(system);
    for (const q of [null, 'coffee', 'candy', 'expresso']) {
      const result = await search({ q, store: other.storeId }, other.storefrontHeaders);
      expect(result.totalCount).toBe(0);
      expect(result.facets.flatMap((f) => f.values)).toEqual([]);
    }
  });

  it('answers bad input with BAD_USER_INPUT', async () => {
    const bad = [
      { filter: { inStock: true } },
      { store: shop.storeId, filter: { price: { min: '10', max: '5' } } },
      { filter: { attributes: [{ name: 'roast' }] } },
      { q: 'x'.repeat(201) },
      { first: 0 },
      { first: 101 },
      { sort: 'TITLE', after: 'nonsense' },
    ];
    for (const variables of bad) {
      const response = await system.request(SEARCH, variables, shop.storefrontHeaders);
      expect(response.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('keeps products(query:) working', async () => {
    const { products } = await system.ok<{ products: { edges: { node: { title: string } }[] } }>(
      'query { products(query: "chocolate") { edges { node { title } } } }', {}, shop.storefrontHeaders,
    );
    expect(products.edges.map((e) => e.node.title)).toEqual(['Dark Chocolate']);
  });

  it('answers a category tree', async () => {
    const { categories: all } = await system.ok<{ categories: { name: string; parent: { name: string } | null; children: { name: string }[]; path: { name: string }[] }[] }>(
      'query { categories { name parent { name } children { name } path { name } } }', {}, shop.storefrontHeaders,
    );
    expect(all.find((c) => c.name === 'Coffee')).toEqual({ name: 'Coffee', parent: { name: 'Drinks' }, children: [], path: [{ name: 'Drinks' }, { name: 'Coffee' }] });
    expect(all.find((c) => c.name === 'Drinks')?.children).toEqual([{ name: 'Coffee' }, { name: 'Tea' }]);
  });

  it('makes a handle from the title, keeps it unique, and finds a product by it', async () => {
    // A shop of its own (same system): the test counts every product the shop has.
    const shop = await createShop(system);
    await addProduct(system, shop, 'Café Crème!', ['H-1']);
    await addProduct(system, shop, 'Cafe creme', ['H-2']);
    await addProduct(system, shop, 'Given', ['H-3'], { handle: 'my-own-handle' });
    const byHandle = async (handle: string) =>
      (await system.ok<{ productByHandle: { title: string; handle: string } | null }>(
        'query ($h: String!) { productByHandle(handle: $h) { title handle } }', { h: handle }, shop.storefrontHeaders,
      )).productByHandle;
    expect(await byHandle('cafe-creme')).toEqual({ title: 'Café Crème!', handle: 'cafe-creme' });
    expect(await byHandle('my-own-handle')).toEqual({ title: 'Given', handle: 'my-own-handle' });
    expect(await byHandle('nothing-here')).toBeNull();
    const { products } = await system.ok<{ products: { edges: { node: { handle: string } }[] } }>('{ products { edges { node { handle } } } }', {}, shop.storefrontHeaders);
    const handles = products.edges.map((e) => e.node.handle);
    expect(new Set(handles).size).toBe(3);
    expect(handles.find((h) => h.startsWith('cafe-creme-'))).toMatch(/^cafe-creme-[0-9a-f]{8}$/);
    const taken = await system.request('mutation { upsertProduct(input: { title: "X", handle: "my-own-handle", variants: [{ sku: "H-4", title: "X" }] }) { id } }', {}, shop.headers);
    expect(taken.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const malformed = await system.request('mutation { upsertProduct(input: { title: "X", handle: "Not A Handle", variants: [{ sku: "H-5", title: "X" }] }) { id } }', {}, shop.headers);
    expect(malformed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("stems the words of the tenant's language once it sets its locale, and stops when its language has no stemmer", async () => {
    await addProduct(system, shop, 'Hiking Boots', ['TRL-7'], { brand: 'Trail' });
    // Without a locale a word is matched as written, as a prefix or a likely typo: "hike" is none of "hiking".
    expect(await titles({ q: 'hike' })).toEqual([]);
    const LOCALE = 'mutation ($l: String!) { setTenantLocale(locale: $l) { locale } }';
    expect((await system.ok(LOCALE, { l: 'en-gb' }, shop.headers)).setTenantLocale).toEqual({ locale: 'en-GB' });
    expect((await system.ok('{ tenant { locale } }', {}, shop.headers)).tenant).toEqual({ locale: 'en-GB' });
    // The catalog re-indexes once it has the event: English stems "hiking", "hikes" and "hike" alike.
    await eventually(async () => expect(await titles({ q: 'hike' })).toEqual(['Hiking Boots']));
    expect(await titles({ q: 'hikes boot' })).toEqual(['Hiking Boots']);
    // Everything else keeps working: accents, typos, synonyms.
    expect(await titles({ q: 'cafe' })).toEqual(['Café Crème']);
    expect(await titles({ q: 'expresso' })).toEqual(['Espresso Beans']);
    // Japanese has no stemmer here: the stems go, the locale is kept.
    expect((await system.ok(LOCALE, { l: 'ja-JP' }, shop.headers)).setTenantLocale).toEqual({ locale: 'ja-JP' });
    await eventually(async () => expect(await titles({ q: 'hike' })).toEqual([]));
    for (const l of ['', 'not a locale', 'x'.repeat(36)]) {
      expect((await system.request(LOCALE, { l }, shop.headers)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    expect((await system.request(LOCALE, { l: 'de' }, shop.posHeaders)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A new tenant may be given its locale from the start (the platform key).
    const CREATE = 'mutation ($i: CreateTenantInput!) { createTenant(input: $i) { locale } }';
    const platform = bearer(system.platformApiKey);
    const slug = `de-${Date.now().toString(36)}`;
    expect((await system.ok(CREATE, { i: { slug, name: 'Laden', locale: 'DE-at' } }, platform)).createTenant).toEqual({ locale: 'de-AT' });
    expect((await system.request(CREATE, { i: { slug: `${slug}-x`, name: 'Laden', locale: 'deutsch!' } }, platform)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("keeps answers only until the next write of the tenant, per audience and per tenant (the catalog's search cache)", async () => {
    // A service of its own over the catalog's database: its cache is this test's, and nothing
    // between it and the database (the gateway's storefront cache) can hide a stale answer.
    const service = new SearchService(system.dataSources.catalog, async () => undefined);
    const as = (tenantId: string, role: 'storefront' | 'admin') => ({ tenantId, roles: [role], requestId: 'cache-test' }) as Parameters<SearchService['search']>[0];
    const found = async (ctx: ReturnType<typeof as>, args: Parameters<SearchService['search']>[1]) => (await service.search(ctx, args)).edges.map((e) => e.node.title).sort();
    const shopper = as(shop.tenantId, 'storefront');
    expect(await found(shopper, { query: 'kettle' })).toEqual([]);
    const before = { ...service.cache.stats };
    expect(await found(shopper, { query: 'kettle' })).toEqual([]);
    expect(service.cache.stats.hits).toBe(before.hits + 1);
    // A product written through the gateway is in the very next search (no waiting: the write committed).
    await addProduct(system, shop, 'Copper Kettle', ['KET-1'], { brand: 'Forge' });
    expect(await found(shopper, { query: 'kettle' })).toEqual(['Copper Kettle']);
    // Drafts: the same arguments answer staff and shoppers apart.
    await addProduct(system, shop, 'Draft Kettle', ['KET-2'], { brand: 'Forge', published: false });
    expect(await found(shopper, { query: 'kettle' })).toEqual(['Copper Kettle']);
    expect(await found(as(shop.tenantId, 'admin'), { query: 'kettle' })).toEqual(['Copper Kettle', 'Draft Kettle']);
    expect(await found(shopper, { query: 'kettle' })).toEqual(['Copper Kettle']);
    // Price and stock reach the read model by events; the kept answer goes as soon as they are applied.
    const cheap = { storeId: shop.storeId, filter: { price: { max: '5.00' } } };
    const cheapBefore = await found(shopper, cheap);
    expect(cheapBefore).not.toContain('Copper Kettle');
    await setPrice(system, shop, 'KET-1', '3.00');
    await eventually(async () => expect(await found(shopper, cheap)).toEqual([...cheapBefore, 'Copper Kettle'].sort()));
    const stocked = { storeId: shop.storeId, filter: { inStock: true } };
    expect(await found(shopper, stocked)).not.toContain('Copper Kettle');
    await receiveStock(system, shop, 'KET-1', 2);
    await eventually(async () => expect(await found(shopper, stocked)).toContain('Copper Kettle'));
    // Tenants: another tenant's same search, through the same cache, sees only its own catalog.
    const other = await createShop(system);
    expect(await found(as(other.tenantId, 'storefront'), { query: 'kettle' })).toEqual([]);
    await addProduct(system, other, 'Tin Kettle', ['TIN-1']);
    expect(await found(as(other.tenantId, 'storefront'), { query: 'kettle' })).toEqual(['Tin Kettle']);
    expect(await found(shopper, { query: 'kettle' })).toEqual(['Copper Kettle']);
  });
});
