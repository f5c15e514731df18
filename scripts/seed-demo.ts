import { metrics } from '../lib/observability/metrics.js';
import { graphqlOk } from './graphql-request.js';
import type { RunningSystem } from './system.js';

const BRANDS = ['Alpine', 'Brightside', 'Cascade', 'Driftwood', 'Evergreen', 'Foxglove', 'Granite', 'Harbor'];
const CATEGORIES = {
  Coffee: ['Espresso Beans', 'Filter Roast', 'Cold Brew', 'Decaf Blend', 'Single Origin Ethiopia', 'Single Origin Colombia', 'Moka Blend'],
  Tea: ['Earl Grey', 'Sencha', 'Chai', 'Rooibos', 'Peppermint', 'Jasmine Pearls', 'Breakfast Tea'],
  Bakery: ['Sourdough Loaf', 'Croissant', 'Rye Bread', 'Cinnamon Roll', 'Bagel', 'Focaccia', 'Baguette'],
  Dairy: ['Whole Milk', 'Oat Drink', 'Greek Yogurt', 'Butter', 'Cheddar', 'Mozzarella', 'Cream'],
  Pantry: ['Olive Oil', 'Pasta', 'Basmati Rice', 'Honey', 'Peanut Butter', 'Oats', 'Tomato Sauce'],
  Snacks: ['Dark Chocolate', 'Sea Salt Crisps', 'Trail Mix', 'Granola Bar', 'Almonds', 'Popcorn', 'Rice Cakes'],
  Drinks: ['Sparkling Water', 'Orange Juice', 'Lemonade', 'Kombucha', 'Iced Tea', 'Cola', 'Ginger Beer'],
  Home: ['Dish Soap', 'Paper Towels', 'Candle'],
};
const SIZES = [
  ['Small', 1],
  ['Large', 1.8],
] as const;

export interface DemoSeedResult {
  tenantId: string;
  /** Keys created when the demo tenant was created (shown this once): admin and pos. */
  keys?: { admin: string; pos: string };
  stores: { id: string; code: string; name: string }[];
  products: number;
  variants: number;
}

/** What the seed reports as it goes (`npm start` prints it). */
export type SeedProgress = (message: string) => void;

/**
 * Creates the demo tenant (slug `demo`, hosts `demo.localhost` and `localhost`) with a store, a
 * dark store and a warehouse, then 52 products with 69 variants, each store's prices and opening
 * stock. In bulk, through the services' own write paths: one catalog feed per store (products
 * and variants upserted in one transaction, that store's prices and stock levels applied by
 * pricing and inventory from the feed's event, stock through the ledger), then each product's
 * category. A second run changes nothing: it finds the products and stops.
 */
export async function seedDemo(system: Pick<RunningSystem, 'gatewayUrl' | 'tenants' | 'apiKeys'>, progress: SeedProgress = () => {}): Promise<DemoSeedResult> {
  const existing = await system.tenants.resolve({ slug: 'demo' });
  const tenant =
    existing ?? (await system.tenants.createTenant({ slug: 'demo', name: 'Demo Market', domains: ['demo.localhost', 'localhost'] }));
  const platform = { tenantId: undefined, roles: ['platform' as const], requestId: 'seed' };
  const ctx = { tenantId: tenant.id, roles: ['admin' as const], requestId: 'seed' };
  const keys = existing
    ? undefined
    : {
        admin: (await system.apiKeys.create(platform, { name: 'demo admin', role: 'ADMIN', tenantId: tenant.id })).key,
        pos: (await system.apiKeys.create(platform, { name: 'demo pos', role: 'POS', tenantId: tenant.id })).key,
      };
  // The seed writes through the gateway with a key of its own, revoked when it is done.
  const seedKey = await system.apiKeys.create(platform, { name: 'seed', role: 'ADMIN', tenantId: tenant.id });
  const have = await system.tenants.stores(ctx);
  const wanted = [
    { code: 'S1', name: 'Downtown Store', kind: 'STORE' as const },
    { code: 'D1', name: 'Dark Store North', kind: 'DARK_STORE' as const },
    { code: 'W1', name: 'Central Warehouse', kind: 'WAREHOUSE' as const },
  ];
  for (const store of wanted) {
    if (!have.some((s) => s.code === store.code)) await system.tenants.createStore(tenant.id, store);
  }
  const stores = await system.tenants.stores(ctx);
  const call = <D>(query: string, variables: Record<string, unknown> = {}) =>
    graphqlOk<D>(system.gatewayUrl, query, variables, { authorization: `Bearer ${seedKey.key}` });

  const { products: page } = await call<{ products: { edges: unknown[] } }>('{ products(first: 1) { edges { cursor } } }');
  let products = 0;
  let variants = 0;
  if (page.edges.length === 0) {
    progress(`demo data: tenant "demo", stores ${stores.map((s) => s.code).join(', ')}`);
    const header = ['handle', 'title', 'sku', 'variant_title', 'brand', 'description', 'barcode', 'price', 'currency', 'store', 'stock'];
    const feeds = stores.map(() => [header.join(',')]);
    const categoryOf = new Map<string, string>();
    let n = 0;
    for (const [category, names] of Object.entries(CATEGORIES)) {
      for (const name of names) {
        n += 1;
        const brand = BRANDS[n % BRANDS.length]!;
        const base = 2 + ((n * 37) % 180) / 10;
        const sizes = n % 3 === 0 ? SIZES : SIZES.slice(0, 1);
        const skuBase = `${category.slice(0, 3).toUpperCase()}-${String(n).padStart(3, '0')}`;
        categoryOf.set(skuBase, category);
        products += 1;
        for (const [size, factor] of sizes) {
          const sku = `${skuBase}-${size[0]}`;
          variants += 1;
          for (const [i, store] of stores.entries()) {
            const amount = (base * factor * (store.kind === 'DARK_STORE' ? 1.05 : 1)).toFixed(2);
            const row = [skuBase, name, sku, `${name} ${size}`, brand, `${brand} ${name.toLowerCase()}, a demo product.`, `40000000${String(n).padStart(3, '0')}${size === 'Small' ? 1 : 2}`];
            feeds[i]!.push([...row, amount, 'EUR', store.code, String(10 + ((n * 13 + i * 7) % 90))].map(csvField).join(','));
          }
        }
      }
    }
    // One feed per store (a feed row sets one store's price and stock), imported one after another.
    for (const [i, store] of stores.entries()) {
      const { importCatalogFeed } = await call<{ importCatalogFeed: { id: string } }>('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv: `${feeds[i]!.join('\n')}\n` });
      const done = await until(() => call<{ feedImport: { status: string; imported: number; failed: number; error: string | null } }>(
        'query ($id: ID!) { feedImport(id: $id) { status imported failed error } }',
        { id: importCatalogFeed.id },
      ), (r) => !['RECEIVING', 'QUEUED', 'RUNNING', 'PROPAGATING'].includes(r.feedImport.status));
      if (done.feedImport.status !== 'COMPLETED' || done.feedImport.failed > 0) throw new Error(`demo feed for ${store.code}: ${done.feedImport.status} ${done.feedImport.error ?? `${done.feedImport.failed} rows refused`}`);
      progress(`demo data: ${products} products, ${variants} variants with prices and stock in ${store.code}`);
    }
    // Each product's category (the feed has no column for it), under a tree: Coffee and Tea are Hot Beverages.
    const { parent } = await call<{ parent: { id: string } }>(`mutation SeedTree { parent: createCategory(input: { name: "Hot Beverages" }) { id } }`);
    const names = Object.keys(CATEGORIES);
    const parentOf = (name: string) => (name === 'Coffee' || name === 'Tea' ? `, parentId: ${JSON.stringify(parent.id)}` : '');
    const created = await call<Record<string, { id: string }>>(`mutation SeedCategories { ${names.map((name, i) => `c${i}: createCategory(input: { name: ${JSON.stringify(name)}${parentOf(name)} }) { id }`).join('\n')} }`);
    const categoryId = new Map(names.map((name, i) => [name, created[`c${i}`]!.id]));
    // Typed attributes a storefront filters by (README: a faceted search).
    await call(`mutation SeedAttributes {
      roast: defineAttribute(input: { name: "roast", label: "Roast", kind: TEXT }) { name }
      weight: defineAttribute(input: { name: "weight", label: "Weight", kind: NUMBER, unit: "g" }) { name }
      organic: defineAttribute(input: { name: "organic", label: "Organic", kind: BOOLEAN }) { name }
    }`);
    const listed = await call<{ products: { edges: { node: { id: string; title: string; handle: string; brand: string | null; description: string | null; variants: { sku: string; title: string }[] } }[] } }>(
      '{ products(first: 100) { edges { node { id title handle brand description variants { sku title } } } } }',
    );
    const updates = listed.products.edges.map(({ node }, i) => {
      const skuBase = node.variants[0]!.sku.replace(/-[A-Z]$/, '');
      const category = categoryOf.get(skuBase)!;
      const n = Number(skuBase.slice(-3));
      // An upsert states the whole product: brand and description as the feed gave them.
      const { id, title, brand, description } = node;
      const attributes = [
        ...(category === 'Coffee' ? [{ name: 'roast', value: ['light', 'medium', 'dark'][n % 3] }] : []),
        { name: 'weight', value: String([250, 500, 1000][n % 3]) },
        { name: 'organic', value: String(n % 2 === 0) },
      ];
      const sized = node.variants.length > 1;
      const options = sized ? [{ name: 'Size', values: SIZES.map(([size]) => size) }] : [];
      const variants = sized ? node.variants.map((v) => ({ sku: v.sku, title: v.title, options: [{ name: 'Size', value: v.sku.endsWith('-L') ? 'Large' : 'Small' }] })) : [];
      const media = [{ url: `https://images.example.com/demo/${node.handle}.jpg`, alt: title }];
      return `p${i}: upsertProduct(input: ${inputLiteral({ id, title, brand, description, categoryId: categoryId.get(category), variants, attributes, options, media })}) { id }`;
    });
    for (let i = 0; i < updates.length; i += 25) await call(`mutation SeedCategories { ${updates.slice(i, i + 25).join('\n')} }`);
    progress(`demo data: ${names.length} categories`);
    // Prices and stock are applied from the feeds' events: on Redis that can take a moment.
    const lastSku = `${[...categoryOf.keys()].at(-1)}-S`;
    await until(
      () => call<Record<string, { stock: { onHand: number } | null; price: { amount: string } | null } | null>>(
        `query ($sku: ID!) { ${stores.map((s, i) => `s${i}: variant(sku: $sku) { stock(storeId: ${JSON.stringify(s.id)}) { onHand } price(storeId: ${JSON.stringify(s.id)}) { amount } }`).join('\n')} }`,
        { sku: lastSku },
      ),
      (r) => Object.values(r).every((v) => Boolean(v?.stock && v.price)),
    );
  }
  await system.apiKeys.revoke(platform, seedKey.apiKey.id);
  await eventsApplied();
  return { tenantId: tenant.id, keys, stores: stores.map(({ id, code, name }) => ({ id, code, name })), products, variants };
}

/** Asks again until the answer is the one awaited (at most 120 s: a first start on a loaded machine is slow, not stuck). */
async function until<T>(ask: () => Promise<T>, done: (answer: T) => boolean): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const answer = await ask();
    if (done(answer)) return answer;
    if (Date.now() > deadline) throw new Error(`the demo data did not arrive: ${JSON.stringify(answer).slice(0, 200)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Waits (at most 20 s) until every service that applies a type of event has applied as many as
 * this process published: bulk writes leave a backlog on the bus, and a read model that lags
 * (orders' prices, on Redis) would price the first order at a seeded price just overwritten.
 * Read from this process's metrics, so only meaningful when the services run in it (npm start,
 * npm run seed, the tests); elsewhere there is nothing to count and it returns at once.
 */
async function eventsApplied(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const published = new Map<string, number>();
    for (const { labels, value } of (await metrics.eventsPublished.get()).values) published.set(String(labels.type), (published.get(String(labels.type)) ?? 0) + value);
    const behind = (await metrics.eventsConsumed.get()).values.filter(({ labels, value }) => value < (published.get(String(labels.type)) ?? 0));
    if (behind.length === 0 || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** A GraphQL input object literal (keys unquoted, strings JSON-escaped). */
function inputLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inputLiteral).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${inputLiteral(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}
