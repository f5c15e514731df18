import { randomUUID } from 'node:crypto';
import { signShopify } from '../../lib/webhooks/signatures.js';
import { createShop, UPSERT_PRODUCT, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const VERSIONS = `query ($id: ID!, $first: Int, $after: String) { product(id: $id) { version versions(first: $first, after: $after) {
  edges { node { version changedBy source changes { field from to } } } pageInfo { hasNextPage endCursor }
} } }`;
const VERSION = 'query ($id: ID!, $version: Int!) { productVersion(id: $id, version: $version) { version source changedAt state { title brand published category { name } } } }';
const REVERT = 'mutation ($id: ID!, $version: Int!) { revertProduct(id: $id, version: $version) { title brand version } }';
const SAVE_DRAFT = 'mutation ($input: SaveProductDraftInput!) { saveProductDraft(input: $input) { title draft { title brand changes { field from to } publishAt updatedBy } } }';
const PUBLISH = 'mutation ($id: ID!, $at: String) { publishProduct(id: $id, at: $at) { title published draft { publishAt } } }';
const SHOPPER_VIEW = 'query ($id: ID!, $q: String!) { product(id: $id) { title } search(query: $q) { totalCount } }';
const WOO_SECRET = 'woo-secret-versions-0123456789';

const SUBGRAPH_OPTIONS = { ingestion: { maxAttempts: 8, backoffMs: 50, pollMs: 50 } };

type Version = { version: number; changedBy: string; source: string; changes: { field: string; from: string | null; to: string | null }[] };

describe('product versions, revert, drafts and scheduled publishing, through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;

  const upsert = async (input: object) => (await system.ok<{ upsertProduct: { id: string } }>(UPSERT_PRODUCT, { input }, shop.headers)).upsertProduct.id;
  const versions = async (id: string, args: { first?: number; after?: string } = {}) =>
    (await system.ok<{ product: { version: number; versions: { edges: { node: Version }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } }>(VERSIONS, { id, ...args }, shop.headers)).product;
  const productId = async (query: string) =>
    eventually(async () => {
      const { products } = await system.ok<{ products: { edges: { node: { id: string } }[] } }>('query ($q: String) { products(first: 2, query: $q) { edges { node { id } } } }', { q: query }, shop.headers);
      if (products.edges.length !== 1) throw new Error(`${products.edges.length} products match ${query}`);
      return products.edges[0]!.node.id;
    }, 15_000);

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: SUBGRAPH_OPTIONS });
    shop = await createShop(system);
    other = await createShop(system);
  });
  afterAll(() => system.stop());

  it('records a version per change from each source, with who and how, page by page', async () => {
    const id = await upsert({ title: 'Oat Drink', brand: 'Oatly', variants: [{ sku: 'VER-OAT-1', title: '1 l' }] });
    await upsert({ id, title: 'Oat Drink Barista', brand: 'Oatly', variants: [] });
    // The same values again change nothing, so no version.
    await upsert({ id, title: 'Oat Drink Barista', brand: 'Oatly', variants: [] });
    const history = await versions(id);
    expect(history.version).toBe(2);
    expect(history.versions.edges.map((e) => e.node)).toEqual([
      { version: 2, changedBy: expect.stringMatching(/^key:/), source: 'api', changes: [{ field: 'title', from: 'Oat Drink', to: 'Oat Drink Barista' }] },
      {
        version: 1,
        changedBy: expect.stringMatching(/^key:/),
        source: 'api',
        changes: [
          { field: 'title', from: null, to: 'Oat Drink' },
          { field: 'handle', from: null, to: 'oat-drink' },
          { field: 'brand', from: null, to: 'Oatly' },
          { field: 'published', from: null, to: 'true' },
          // Its variants, written in the same transaction, belong to its first version.
          { field: 'variants', from: null, to: 'VER-OAT-1 "1 l"' },
        ],
      },
    ]);
    const first = await versions(id, { first: 1 });
    expect(first.versions.edges.map((e) => e.node.version)).toEqual([2]);
    expect(first.versions.pageInfo.hasNextPage).toBe(true);
    const second = await versions(id, { first: 1, after: first.versions.pageInfo.endCursor });
    expect({ versions: second.versions.edges.map((e) => e.node.version), more: second.versions.pageInfo.hasNextPage }).toEqual({ versions: [1], more: false });

    // A feed: one set-based statement per batch, still one version per product, named after its import,
    // which holds the new product's variants (written with the product, in their feed order).
    const IMPORT = 'mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }';
    const csv = ['handle,title,sku,variant_title,barcode', 'ver-tea,Green Tea Feedver,VER-TEA-2,Loose,4006381333931', 'ver-tea,Green Tea Feedver,VER-TEA-1,,'].join('\n');
    const { importCatalogFeed } = await system.ok<{ importCatalogFeed: { id: string } }>(IMPORT, { csv }, shop.headers);
    const tea = await productId('Feedver');
    const teaVersions = (await versions(tea)).versions.edges.map((e) => e.node);
    expect(teaVersions.map((v) => [v.source, v.changedBy])).toEqual([['feed', `feed-import:${importCatalogFeed.id}`]]);
    expect(teaVersions[0]!.changes.find((c) => c.field === 'variants')).toEqual({ field: 'variants', from: null, to: 'VER-TEA-2 "Loose" [4006381333931], VER-TEA-1 "Green Tea Feedver"' });
    // A later feed that adds a variant to it: a new version of the product, from all its variants
    // (in order of their feed line, then sku: the new one is line 2 of its feed).
    const again = await system.ok<{ importCatalogFeed: { id: string } }>(IMPORT, { csv: ['handle,title,sku', 'ver-tea,Green Tea Feedver,VER-TEA-3'].join('\n') }, shop.headers);
    const added = await eventually(async () => {
      const [newest] = (await versions(tea)).versions.edges.map((e) => e.node);
      if (newest?.version !== 2) throw new Error('no second version yet');
      return newest;
    }, 15_000);
    expect([added.changedBy, added.changes]).toEqual([
      `feed-import:${again.importCatalogFeed.id}`,
      [{ field: 'variants', from: 'VER-TEA-2 "Loose" [4006381333931], VER-TEA-1 "Green Tea Feedver"', to: 'VER-TEA-2 "Loose" [4006381333931], VER-TEA-3 "Green Tea Feedver", VER-TEA-1 "Green Tea Feedver"' }],
    ]);

    // A merchant system's product, by signed WooCommerce webhook.
    await system.ok('mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { path } }', { input: { source: 'WOO', secret: WOO_SECRET, currencyCode: 'EUR' } }, shop.headers);
    const body = JSON.stringify({
      id: 901, name: 'Wooversion Cold Brew', type: 'simple', status: 'publish', sku: 'VER-WOO-1', description: '', short_description: '',
      price: '3.49', regular_price: '3.49', sale_price: '', manage_stock: false, stock_quantity: null, stock_status: 'instock',
      date_modified_gmt: new Date(Date.now() - 60_000).toISOString().slice(0, 19), categories: [], brands: [], variations: [], attributes: [],
    });
    const delivery = randomUUID();
    const response = await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/woo/${shop.slug}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wc-webhook-topic': 'product.created', 'x-wc-webhook-signature': signShopify(body, WOO_SECRET), 'x-wc-webhook-delivery-id': delivery },
      body,
    });
    expect(response.status).toBe(202);
    const { id: ingestionId } = (await response.json()) as { id: string };
    const woo = await productId('Wooversion');
    expect((await versions(woo)).versions.edges.map((e) => [e.node.source, e.node.changedBy])).toEqual([['woo', `ingestion:${ingestionId}`]]);
  });

  it('records a change to a product’s variants as a version of the product, which revert leaves alone', async () => {
    const id = await upsert({ title: 'Cold Brew', variants: [{ sku: 'VER-CB-1', title: '250 ml' }] });
    await upsert({ id, title: 'Cold Brew', variants: [{ sku: 'VER-CB-1', title: '250 ml can' }, { sku: 'VER-CB-2', title: '1 l', barcode: '4006381333931' }] });
    const history = await versions(id);
    expect(history.version).toBe(2);
    expect(history.versions.edges[0]!.node).toEqual({
      version: 2, changedBy: expect.stringMatching(/^key:/), source: 'api',
      changes: [{ field: 'variants', from: 'VER-CB-1 "250 ml"', to: 'VER-CB-1 "250 ml can", VER-CB-2 "1 l" [4006381333931]' }],
    });
    // Revert restores the product's fields; its skus stay (inventory, pricing and orders know them).
    expect((await system.ok(REVERT, { id, version: 1 }, shop.headers)).revertProduct).toEqual({ title: 'Cold Brew', brand: null, version: 2 });
  });

  it('reverts to an old version as a new version, and refuses what does not exist', async () => {
    const id = await upsert({ title: 'Rye Bread', brand: 'Baker', variants: [{ sku: 'VER-RYE-1', title: '500 g' }] });
    await upsert({ id, title: 'Rye Bread Sliced', brand: 'Big Baker', variants: [] });
    const { revertProduct } = await system.ok(REVERT, { id, version: 1 }, shop.headers);
    expect(revertProduct).toEqual({ title: 'Rye Bread', brand: 'Baker', version: 3 });
    const latest = (await versions(id, { first: 1 })).versions.edges[0]!.node;
    expect(latest).toEqual({
      version: 3, changedBy: expect.stringMatching(/^key:/), source: 'revert',
      changes: [{ field: 'title', from: 'Rye Bread Sliced', to: 'Rye Bread' }, { field: 'brand', from: 'Big Baker', to: 'Baker' }],
    });
    const { productVersion } = await system.ok(VERSION, { id, version: 2 }, shop.headers);
    expect(productVersion).toEqual({ version: 2, source: 'api', changedAt: expect.any(String), state: { title: 'Rye Bread Sliced', brand: 'Big Baker', published: true, category: null } });

    expect((await system.request(REVERT, { id, version: 9 }, shop.headers)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await system.request(REVERT, { id, version: 0 }, shop.headers)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await system.request(VERSIONS, { id, first: 500 }, shop.headers)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('keeps a draft from shoppers until it is published', async () => {
    const id = await upsert({ title: 'Lemonade', variants: [{ sku: 'VER-LEM-1', title: '330 ml' }] });
    const { saveProductDraft } = await system.ok(SAVE_DRAFT, { input: { id, title: 'Sparkling Draftlemon', brand: 'Fizz' } }, shop.headers);
    expect(saveProductDraft).toEqual({
      title: 'Lemonade',
      draft: {
        title: 'Sparkling Draftlemon', brand: 'Fizz', publishAt: null, updatedBy: expect.stringMatching(/^key:/),
        changes: [{ field: 'title', from: 'Lemonade', to: 'Sparkling Draftlemon' }, { field: 'brand', from: null, to: 'Fizz' }],
      },
    });
    expect(await system.ok(SHOPPER_VIEW, { id, q: 'Draftlemon' }, shop.storefrontHeaders)).toEqual({ product: { title: 'Lemonade' }, search: { totalCount: 0 } });
    expect((await versions(id)).version).toBe(1);

    expect((await system.ok(PUBLISH, { id }, shop.headers)).publishProduct).toEqual({ title: 'Sparkling Draftlemon', published: true, draft: null });
    await eventually(async () => expect(await system.ok(SHOPPER_VIEW, { id, q: 'Draftlemon' }, shop.storefrontHeaders)).toEqual({ product: { title: 'Sparkling Draftlemon' }, search: { totalCount: 1 } }));
    expect((await versions(id, { first: 1 })).versions.edges[0]!.node).toEqual(expect.objectContaining({ version: 2, source: 'publish' }));

    const badTime = await system.request(PUBLISH, { id, at: 'tomorrow' }, shop.headers);
    expect(badTime.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badTitle = await system.request(SAVE_DRAFT, { input: { id, title: '  ' } }, shop.headers);
    expect(badTitle.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('publishes a scheduled draft by the worker, once, though the catalog restarted in between', async () => {
    const id = await upsert({ title: 'Summer Menu', variants: [{ sku: 'VER-SUM-1', title: 'Default' }] });
    await system.ok(SAVE_DRAFT, { input: { id, title: 'Summer Menu Scheduled' } }, shop.headers);
    const at = new Date(Date.now() + 2_000).toISOString();
    expect((await system.ok(PUBLISH, { id, at }, shop.headers)).publishProduct).toEqual({ title: 'Summer Menu', published: true, draft: { publishAt: at } });
    // A deployment: the schedule is a row, so the new catalog process publishes it.
    await system.redeploy('catalog', SUBGRAPH_OPTIONS);
    await eventually(async () => expect((await system.ok(SHOPPER_VIEW, { id, q: 'Scheduled' }, shop.storefrontHeaders)).product).toEqual({ title: 'Summer Menu Scheduled' }), 15_000);
    const history = await versions(id);
    expect(history.versions.edges.map((e) => [e.node.version, e.node.source, e.node.changedBy])).toEqual([
      [2, 'schedule', expect.stringMatching(/^key:/)],
      [1, 'api', expect.stringMatching(/^key:/)],
    ]);
  });

  it('keeps versions and drafts within their tenant, and from non-admins', async () => {
    const id = await upsert({ title: 'Private Blend', variants: [{ sku: 'VER-PRV-1', title: 'Default' }] });
    await system.ok(SAVE_DRAFT, { input: { id, title: 'Private Blend Draft' } }, shop.headers);
    expect((await system.ok(VERSION, { id, version: 1 }, other.headers)).productVersion).toBeNull();
    for (const [query, variables] of [[REVERT, { id, version: 1 }], [PUBLISH, { id }], [SAVE_DRAFT, { input: { id, title: 'Taken over' } }]] as const) {
      expect((await system.request(query, variables, other.headers)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    expect((await system.request(VERSIONS, { id }, shop.posHeaders)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await system.ok('query ($id: ID!) { product(id: $id) { title draft { title } } }', { id }, shop.headers)).product).toEqual({ title: 'Private Blend', draft: { title: 'Private Blend Draft' } });
    const { discardProductDraft } = await system.ok('mutation ($id: ID!) { discardProductDraft(id: $id) { title draft { title } } }', { id }, shop.headers);
    expect(discardProductDraft).toEqual({ title: 'Private Blend', draft: null });
  });
});
