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

/**
 * Creates the demo tenant (slug `demo`, hosts `demo.localhost` and `localhost`) with a store, a
 * dark store and a warehouse, then 50+ products with variants, prices and opening stock, all
 * through the gateway's mutations (stock is received through the ledger). Idempotency keys make
 * a second run change nothing.
 */
export async function seedDemo(system: Pick<RunningSystem, 'gatewayUrl' | 'tenants' | 'apiKeys'>): Promise<DemoSeedResult> {
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
  const entries = Object.entries(CATEGORIES);
  if (page.edges.length === 0) {
    const mutations: string[] = [];
    const stockAndPrices: string[] = [];
    let n = 0;
    for (const [category, names] of entries) {
      const { createCategory } = await call<{ createCategory: { id: string } }>(
        'mutation ($name: String!) { createCategory(input: { name: $name }) { id } }',
        { name: category },
      );
      for (const name of names) {
        n += 1;
        const brand = BRANDS[n % BRANDS.length]!;
        const base = 2 + ((n * 37) % 180) / 10;
        const sizes = n % 3 === 0 ? SIZES : SIZES.slice(0, 1);
        const skuBase = `${category.slice(0, 3).toUpperCase()}-${String(n).padStart(3, '0')}`;
        const variantInputs = sizes.map(([size]) => ({ sku: `${skuBase}-${size[0]}`, title: `${name} ${size}`, barcode: `40000000${String(n).padStart(3, '0')}${size === 'Small' ? 1 : 2}` }));
        mutations.push(
          `p${n}: upsertProduct(input: ${inputLiteral({ title: name, brand, description: `${brand} ${name.toLowerCase()}, a demo product.`, categoryId: createCategory.id, variants: variantInputs })}) { id }`,
        );
        products += 1;
        for (const [size, factor] of sizes) {
          const sku = `${skuBase}-${size[0]}`;
          variants += 1;
          for (const [i, store] of stores.entries()) {
            const amount = (base * factor * (store.kind === 'DARK_STORE' ? 1.05 : 1)).toFixed(2);
            stockAndPrices.push(
              `price_${sku.replace(/-/g, '_')}_${i}: setPrice(input: { sku: "${sku}", storeId: "${store.id}", amount: "${amount}", currencyCode: "EUR" }) { version }`,
              `stock_${sku.replace(/-/g, '_')}_${i}: receiveStock(input: { sku: "${sku}", storeId: "${store.id}", quantity: ${10 + ((n * 13 + i * 7) % 90)}, reference: "opening stock", idempotencyKey: "seed-${sku}-${store.code}" }) { onHand }`,
            );
          }
        }
      }
    }
    // In batches that the gateway's operation limits (aliases, tokens) accept.
    const batches = (fields: string[], size = 20) => Array.from({ length: Math.ceil(fields.length / size) }, (_, i) => fields.slice(i * size, (i + 1) * size));
    for (const batch of batches(mutations, 10)) await call(`mutation SeedProducts { ${batch.join('\n')} }`);
    // Pricing and inventory learn the new skus from catalog events: on Redis that takes a
    // moment, so retry. Safe: setPrice to the same price and keyed receipts apply once.
    for (const batch of batches(stockAndPrices)) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await call(`mutation SeedStockAndPrices { ${batch.join('\n')} }`);
          break;
        } catch (error) {
          if (attempt === 20) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    }
  }
  await system.apiKeys.revoke(platform, seedKey.apiKey.id);
  return { tenantId: tenant.id, keys, stores: stores.map(({ id, code, name }) => ({ id, code, name })), products, variants };
}

/** A GraphQL input object literal (keys unquoted, strings JSON-escaped). */
function inputLiteral(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inputLiteral).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{ ${Object.entries(value).map(([k, v]) => `${k}: ${inputLiteral(v)}`).join(', ')} }`;
  }
  return JSON.stringify(value);
}
