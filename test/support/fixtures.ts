import { randomBytes } from 'node:crypto';
import { graphqlOk } from '../../scripts/graphql-request.js';
import { eventually, type TestSupergraph } from './start-supergraph.js';

export interface Shop {
  tenantId: string;
  slug: string;
  /** An admin API key's headers: everything within the tenant. */
  headers: Record<string, string>;
  /** A pos API key's headers. */
  posHeaders: Record<string, string>;
  /** No credential: the tenant's anonymous storefront. */
  storefrontHeaders: Record<string, string>;
  adminKey: string;
  stores: { id: string; code: string }[];
  /** The first store's id. */
  storeId: string;
}

const CREATE_TENANT = 'mutation ($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }';
const CREATE_STORE = 'mutation ($input: CreateStoreInput!) { createStore(input: $input) { id code } }';
export const CREATE_API_KEY = 'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name role prefix revokedAt } } }';

/** Bearer headers for a credential. */
export const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

/**
 * A fresh tenant with two stores (a store and a dark store) and an admin and a pos key, all
 * created through the gateway with the platform key, as an operator would.
 */
export async function createShop(system: TestSupergraph, slug = `shop-${randomBytes(3).toString('hex')}`): Promise<Shop> {
  const platform = bearer(system.platformApiKey);
  const { createTenant } = await system.ok<{ createTenant: { id: string } }>(
    CREATE_TENANT,
    { input: { slug, name: `Shop ${slug}`, domains: [`${slug}.test`] } },
    platform,
  );
  const tenantId = createTenant.id;
  const store = async (code: string, name: string, kind: string) =>
    (await system.ok<{ createStore: { id: string; code: string } }>(CREATE_STORE, { input: { tenantId, code, name, kind } }, platform)).createStore;
  const s1 = await store('S1', 'Main Street', 'STORE');
  const d1 = await store('D1', 'Dark Store', 'DARK_STORE');
  const key = async (role: string) =>
    (await system.ok<{ createApiKey: { key: string } }>(CREATE_API_KEY, { input: { name: `${role} key`, role, tenantId } }, platform)).createApiKey.key;
  const adminKey = await key('ADMIN');
  const posKey = await key('POS');
  return {
    tenantId,
    slug,
    headers: bearer(adminKey),
    posHeaders: bearer(posKey),
    storefrontHeaders: { 'x-tenant-id': slug },
    adminKey,
    stores: [s1, d1],
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

export const QUOTE_TOKEN = 'query ($input: QuoteInput!) { quote(input: $input) { token } }';

export interface OrderInput {
  storeId: string;
  lines: { sku: string; quantity: number; modifiers?: string[] }[];
  [field: string]: unknown;
}

/** What a quote must price for an order of these lines: each sku, and each line's modifiers, with quantities summed per sku. */
export function quoteLinesOf(lines: OrderInput['lines']): { sku: string; quantity: number }[] {
  const per = new Map<string, number>();
  for (const line of lines) for (const sku of [line.sku, ...(line.modifiers ?? [])]) per.set(sku, (per.get(sku) ?? 0) + line.quantity);
  return [...per].map(([sku, quantity]) => ({ sku, quantity }));
}

/**
 * A `placeOrder` input priced as a till does it (decision 0019): the lines are quoted by pricing
 * through the gateway and the input carries the quote's token. Throws when the quote fails (an
 * sku pricing does not know yet), so it belongs inside the same `eventually` as the placeOrder.
 */
export async function quoted<I extends OrderInput>(gateway: string | { gatewayUrl: string }, input: I, headers: Record<string, string>): Promise<I & { quoteToken: string }> {
  const url = typeof gateway === 'string' ? gateway : gateway.gatewayUrl;
  const { quote } = await graphqlOk<{ quote: { token: string } }>(url, QUOTE_TOKEN, { input: { storeId: input.storeId, lines: quoteLinesOf(input.lines) } }, headers);
  return { ...input, quoteToken: quote.token };
}

const CART_QUOTE_TOKEN = 'query ($id: ID!) { cart(id: $id) { quote { token } } }';

/**
 * A `checkout` input priced as a storefront does it (decision 0044): it carries the cart's own
 * quote (`Cart.quote.token`, pricing's preview of the cart's skus and coupon codes), which charges
 * a cart no coupon or limited promotion applies to (those need `claimQuote`). Throws when the cart
 * has no quote or pricing cannot price it yet (a sku it learns by event), so it belongs inside the
 * same `eventually` as the checkout when the cart's skus are new.
 */
export async function cartQuoted<I extends { cartId: string }>(gateway: string | { gatewayUrl: string }, input: I, headers: Record<string, string>): Promise<I & { quoteToken: string }> {
  const url = typeof gateway === 'string' ? gateway : gateway.gatewayUrl;
  const { cart } = await graphqlOk<{ cart: { quote: { token: string } | null } | null }>(url, CART_QUOTE_TOKEN, { id: input.cartId }, headers);
  if (!cart?.quote) throw new Error(`cart ${input.cartId} has no quote`);
  return { ...input, quoteToken: cart.quote.token };
}
