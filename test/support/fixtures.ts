import { randomBytes } from 'node:crypto';
import { eventually, type TestSupergraph } from './start-supergraph.js';

export interface Shop {
  tenantId: string;
  slug: string;
  headers: Record<string, string>;
  stores: { id: string; code: string }[];
  /** The first store's id. */
  storeId: string;
}

/** A fresh tenant with two stores (a store and a dark store), as the platform creates them. */
export async function createShop(system: TestSupergraph, slug = `shop-${randomBytes(3).toString('hex')}`): Promise<Shop> {
  const tenant = await system.tenants.createTenant({ slug, name: `Shop ${slug}`, domains: [`${slug}.test`] });
  const s1 = await system.tenants.createStore(tenant.id, { code: 'S1', name: 'Main Street', kind: 'STORE' });
  const d1 = await system.tenants.createStore(tenant.id, { code: 'D1', name: 'Dark Store', kind: 'DARK_STORE' });
  return {
    tenantId: tenant.id,
    slug,
    headers: { 'x-tenant-id': slug },
    stores: [
      { id: s1.id, code: 'S1' },
      { id: d1.id, code: 'D1' },
    ],
    storeId: s1.id,
  };
}

export const UPSERT_PRODUCT = `mutation ($input: UpsertProductInput!) {
  upsertProduct(input: $input) { id title variants { sku title } }
}`;

/** Creates a product with the given skus through the gateway. */
export async function addProduct(
  system: TestSupergraph,
  shop: Shop,
  title: string,
  skus: string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string }> {
  const { upsertProduct } = await system.ok<{ upsertProduct: { id: string } }>(
    UPSERT_PRODUCT,
    { input: { title, variants: skus.map((sku) => ({ sku, title: `${title} ${sku}` })), ...extra } },
    shop.headers,
  );
  return upsertProduct;
}

export const SET_PRICE = `mutation ($input: SetPriceInput!) {
  setPrice(input: $input) { sku storeId amount { amount currencyCode } version updatedAt }
}`;

export const RECEIVE_STOCK = `mutation ($input: ReceiveStockInput!) {
  receiveStock(input: $input) { sku storeId onHand reserved available orderable version }
}`;

/**
 * Runs a mutation that depends on another subgraph's events (a new sku or store), retrying
 * while the answer is NOT_FOUND: on Redis the events arrive a moment after the first write.
 */
export async function okOnceKnown<D = Record<string, any>>(
  system: TestSupergraph,
  shop: Shop,
  query: string,
  variables: Record<string, unknown>,
): Promise<D> {
  return eventually(async () => {
    const result = await system.request<D>(query, variables, shop.headers);
    if (result.errors?.length || !result.data) throw new Error(JSON.stringify(result.errors));
    return result.data;
  });
}

export const setPrice = (system: TestSupergraph, shop: Shop, sku: string, amount: string, storeId = shop.storeId) =>
  okOnceKnown(system, shop, SET_PRICE, { input: { sku, storeId, amount, currencyCode: 'EUR' } });

export const receiveStock = (system: TestSupergraph, shop: Shop, sku: string, quantity: number, storeId = shop.storeId) =>
  okOnceKnown(system, shop, RECEIVE_STOCK, { input: { sku, storeId, quantity } });
