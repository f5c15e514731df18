import { createHash, randomUUID } from 'node:crypto';
import { getNamedType, getNullableType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType, type GraphQLInputType, type GraphQLSchema } from 'graphql';
import { Client } from 'pg';
import { Supergraph } from '@apollo/federation-internals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBGRAPHS } from '../../lib/subgraphs.js';
import { DEFAULT_OUTBOUND_WEBHOOKS } from '../../subgraphs/tenant/src/webhooks/config.js';
import { signJson } from '../../lib/webhooks/signatures.js';
import { CREATE_API_KEY, addProduct, cartQuoted, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { startWebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Every mutation of the composed schema, run through the gateway with valid input, must leave an
 * audit record in the subgraph that ran it. The recipes below make the input valid (in an order
 * where each finds what it needs); a mutation without a recipe (one added later) is run with
 * input made from its argument types, and counts when that succeeds. A mutation that cannot be
 * run here is listed in NOT_RUN with the reason; the suite fails on any other that did not run.
 */
const NOT_RUN: Record<string, string> = {
  resetPassword: 'needs the reset token, which is only mailed (requestPasswordReset runs)',
};

const SUPERGRAPH = readFileSync(join(__dirname, '..', '..', 'schema', 'supergraph.graphql'), 'utf8');
const POS_SECRET = 'audit-pos-secret-0123456789';

describe('every mutation writes an audit record', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const ran = new Map<string, number>();
  const failures = new Map<string, string>();

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    system = await startSupergraph({
      subgraphOptions: {
        webhooks: { ...DEFAULT_OUTBOUND_WEBHOOKS, policy: { requireHttps: false, allowedCidrs: ['127.0.0.0/8'] }, retryBaseMs: 40, retryWindowMs: 1_000, timeoutMs: 500, pollMs: 100 },
        ingestion: { maxAttempts: 1, backoffMs: 50, pollMs: 50 },
      },
    });
    shop = await createShop(system);
    // createShop ran these through the gateway (platform key).
    for (const name of ['createTenant', 'createStore', 'createApiKey']) ran.set(name, 3);
  });
  afterAll(async () => {
    await system.stop();
    await receiver.stop();
  });

  /** Runs one mutation; `name` is the field counted. Throws (with the errors) unless it succeeded. */
  const run = async (name: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = shop.headers, retry = false) => {
    const once = async () => {
      const result = await system.request(query, variables, headers);
      if (result.errors?.length || !result.data) throw new Error(`${name}: ${JSON.stringify(result.errors)}`);
      return result.data as Record<string, any>;
    };
    const data = retry ? await eventually(once, 10_000) : await once();
    ran.set(name, (ran.get(name) ?? 0) + 1);
    return data[name];
  };

  it('runs each mutation of the schema, and finds a record of each in its subgraph', async () => {
    // Jest cannot copy some thrown errors (cyclic ones): the stack, as text.
    await body().catch((error: Error) => {
      throw new Error(String(error.stack ?? error));
    });
  });
  const body = async () => {
    const s = shop.storeId;
    const d = shop.stores[1]!.id;
    const pos = shop.posHeaders;
    const front = shop.storefrontHeaders;
    await addProduct(system, shop, 'Audit Tee', ['AUD-1', 'AUD-2']);
    ran.set('upsertProduct', 1);
    await setPrice(system, shop, 'AUD-1', '10.00');
    await setPrice(system, shop, 'AUD-2', '5.00');
    await receiveStock(system, shop, 'AUD-1', 100);
    await receiveStock(system, shop, 'AUD-2', 100);
    ran.set('setPrice', 2).set('receiveStock', 2);

    // tenant
    const key = await run('createApiKey', CREATE_API_KEY, { input: { name: 'temp', role: 'POS' } });
    await run('revokeApiKey', 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: key.apiKey.id });
    const body = 'query AuditTenant { tenant { slug } }';
    await run('publishPersistedDocuments', 'mutation ($i: PublishPersistedDocumentsInput!) { publishPersistedDocuments(input: $i) { count } }', {
      i: { app: 'audit', operations: [{ id: createHash('sha256').update(body).digest('hex'), body, name: 'AuditTenant', type: 'query' }] },
    });
    await run('configureWebhookSource', 'mutation ($i: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $i) { __typename } }', { i: { source: 'POS', secret: POS_SECRET, currencyCode: 'EUR' } });
    await run('setStoreTimeZone', 'mutation ($s: ID!) { setStoreTimeZone(storeId: $s, timeZone: "Europe/Berlin") { timeZone } }', { s });
    await run('setTenantLocale', 'mutation { setTenantLocale(locale: "en-GB") { locale } }', {});
    const sub = await run('createWebhookSubscription', 'mutation ($i: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $i) { secret subscription { id } } }', {
      i: { url: receiver.url('/audit'), eventTypes: ['inventory.stock-level.changed'] },
    });
    const rotated = await run('rotateWebhookSecret', 'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', { id: sub.subscription.id });
    const session = await run('registerCustomer', 'mutation ($i: RegisterCustomerInput!) { registerCustomer(input: $i) { accessToken refreshToken } }', {
      i: { email: 'audit@example.com', password: 'audit password 1', name: 'Ada' },
    }, front);
    const customer = { authorization: `Bearer ${session.accessToken}` };
    await run('customerLogin', 'mutation ($i: CustomerLoginInput!) { customerLogin(input: $i) { __typename } }', { i: { email: 'audit@example.com', password: 'audit password 1' } }, front);
    const refreshed = await run('refreshCustomerToken', 'mutation ($t: String!) { refreshCustomerToken(refreshToken: $t) { accessToken refreshToken } }', { t: session.refreshToken }, front);
    await run('requestPasswordReset', 'mutation { requestPasswordReset(email: "audit@example.com") }', {}, front);
    await run('addCustomerAddress', 'mutation ($a: AddressInput!) { addCustomerAddress(input: $a) { id } }', { a: { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, customer);

    // catalog
    await run('createCategory', 'mutation { createCategory(input: { name: "Shirts" }) { id } }', {});
    await run('setSearchSynonyms', 'mutation { setSearchSynonyms(input: { groups: [["tee", "t-shirt"]] }) }', {});
    await run('setEnrichmentRules', 'mutation { setEnrichmentRules(input: { brands: [], categoryKeywords: [{ category: "Shirts", keywords: ["shirt"] }] }) { __typename } }', {});
    const DECIDE = (name: string) => `mutation ($id: ID!) { ${name}(productId: $id, field: "category") { review { field } } }`;
    const one = await addProduct(system, shop, 'plain shirt one', ['AUD-S1']);
    const two = await addProduct(system, shop, 'plain shirt two', ['AUD-S2']);
    await run('applyEnrichment', DECIDE('applyEnrichment'), { id: one.id });
    await run('rejectEnrichment', DECIDE('rejectEnrichment'), { id: two.id });
    // Product versions: a draft published now, another discarded, and a revert to version 1.
    const DRAFT = 'mutation ($i: SaveProductDraftInput!) { saveProductDraft(input: $i) { id } }';
    await run('saveProductDraft', DRAFT, { i: { id: one.id, title: 'Plain Shirt One' } });
    await run('publishProduct', 'mutation ($id: ID!) { publishProduct(id: $id) { id } }', { id: one.id });
    await run('saveProductDraft', DRAFT, { i: { id: two.id, title: 'Plain Shirt Two' } });
    await run('discardProductDraft', 'mutation ($id: ID!) { discardProductDraft(id: $id) { id } }', { id: two.id });
    await run('revertProduct', 'mutation ($id: ID!) { revertProduct(id: $id, version: 1) { id } }', { id: one.id });
    // Menus: AUD-S2 becomes a modifier of the plain shirt one (a made-up menu, what matters is the record).
    await run('setModifierGroups', 'mutation ($id: ID!) { setModifierGroups(productId: $id, groups: [{ name: "Print", minSelections: 0, maxSelections: 1, modifiers: [{ sku: "AUD-S2", name: "Print" }] }]) { id } }', { id: one.id });
    await run('setAvailabilityWindows', 'mutation ($i: SetAvailabilityWindowsInput!) { setAvailabilityWindows(input: $i) { id } }', { i: { productId: one.id, storeId: s, timeZone: 'Europe/Berlin', windows: [{ from: '07:00', to: '11:00' }] } });
    await run('importCatalogFeed', 'mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv: 'sku,title,store\nAUD-F1,Feed item,S1' });
    // Attributes and archiving (issue 15): an empty category is archived, a product archived and restored.
    await run('defineAttribute', 'mutation { defineAttribute(input: { name: "fabric", kind: TEXT }) { name } }', {});
    const spare = await run('createCategory', 'mutation { createCategory(input: { name: "Spare" }) { id } }', {});
    await run('archiveCategory', 'mutation ($id: ID!) { archiveCategory(id: $id) { id } }', { id: spare.id });
    await run('archiveProduct', 'mutation ($id: ID!) { archiveProduct(id: $id) { id } }', { id: two.id });
    await run('archiveProduct', 'mutation ($id: ID!) { archiveProduct(id: $id, archived: false) { id } }', { id: two.id });

    // pricing
    await run('configureStorePricing', 'mutation ($i: ConfigureStorePricingInput!) { configureStorePricing(input: $i) { __typename } }', { i: { storeId: d, currencyCode: 'EUR', pricesIncludeTax: true } }, shop.headers, true);
    const list = await run('createPriceList', 'mutation { createPriceList(input: { name: "VIP", currencyCode: "EUR" }) { id } }', {});
    await run('setPriceListPrices', 'mutation ($i: SetPriceListPricesInput!) { setPriceListPrices(input: $i) { id } }', { i: { priceListId: list.id, prices: [{ sku: 'AUD-1', amount: '9.00' }] } });
    await run('createPromotion', 'mutation { createPromotion(input: { name: "Ten", kind: PERCENT_OFF, value: "10", couponCode: "TEN" }) { id } }', {});
    await run('setTaxRate', 'mutation ($s: ID!) { setTaxRate(input: { storeId: $s, rate: "0.19", name: "VAT" }) { __typename } }', { s }, shop.headers, true);
    await run('claimQuote', 'mutation ($s: ID!) { claimQuote(input: { storeId: $s, lines: [{ sku: "AUD-1", quantity: 1 }] }) { __typename } }', { s }, pos, true);

    // inventory
    await run('adjustStock', 'mutation ($s: ID!) { adjustStock(input: { sku: "AUD-1", storeId: $s, delta: -1, reason: "audit" }) { __typename } }', { s });
    await run('mapExternalSku', 'mutation { mapExternalSku(input: { source: SHOPIFY, externalId: "ext-1", sku: "AUD-1" }) { __typename } }', {}, shop.headers, true);
    await run('mapExternalLocation', 'mutation ($s: ID!) { mapExternalLocation(input: { source: SHOPIFY, externalId: "loc-1", storeId: $s }) { __typename } }', { s }, shop.headers, true);
    const RESERVE = 'mutation ($s: ID!) { reserveStock(input: { sku: "AUD-1", storeId: $s, quantity: 1 }) { id } }';
    const r1 = await run('reserveStock', RESERVE, { s }, pos);
    await run('releaseReservation', 'mutation ($id: ID!) { releaseReservation(id: $id) { id } }', { id: r1.id }, pos);
    const r2 = await run('reserveStock', RESERVE, { s }, pos);
    await run('commitReservation', 'mutation ($id: ID!) { commitReservation(id: $id) { id } }', { id: r2.id }, pos);
    const transfer = await run('transferStock', 'mutation ($s: ID!, $d: ID!) { transferStock(input: { sku: "AUD-1", fromStoreId: $s, toStoreId: $d, quantity: 1 }) { id } }', { s, d }, shop.headers, true);
    await run('receiveTransfer', 'mutation ($id: ID!) { receiveTransfer(id: $id) { id } }', { id: transfer.id });
    // A webhook: the gateway verifies it and runs receiveWebhook as the source.
    const webhook = async (items: object[]) => {
      const body = JSON.stringify({ event_id: randomUUID(), type: 'stock.delta', occurred_at: new Date().toISOString(), items });
      const response = await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/pos/${shop.slug}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, POS_SECRET) }, body });
      expect(response.status).toBe(202);
      ran.set('receiveWebhook', (ran.get('receiveWebhook') ?? 0) + 1);
      return (await response.json()) as { id: string };
    };
    await eventually(async () => webhook([{ sku: 'AUD-2', location: 'S1', delta: 1 }]), 10_000);
    const failed = await webhook([{ sku: 'NO-SUCH-SKU', location: 'S1', delta: 1 }]);
    await eventually(async () => {
      const { ingestionEvent } = await system.ok('query ($id: ID!) { ingestionEvent(id: $id) { status } }', { id: failed.id }, shop.headers);
      if (ingestionEvent.status !== 'NEEDS_REVIEW' && ingestionEvent.status !== 'FAILED') throw new Error(ingestionEvent.status);
    }, 10_000);
    await run('retryIngestionEvent', 'mutation ($id: ID!) { retryIngestionEvent(id: $id) { id } }', { id: failed.id });

    // orders
    await run('setOrderHook', 'mutation { setOrderHook(input: { event: FULFIL, url: "http://127.0.0.1:9/hook" }) { __typename } }', {});
    await run('removeOrderHook', 'mutation { removeOrderHook(event: FULFIL) }', {});
    await run('createShippingMethod', 'mutation ($s: ID!) { createShippingMethod(input: { storeId: $s, currencyCode: "EUR", name: "Flat", kind: FLAT, amount: "4.00" }) { id } }', { s }, shop.headers, true);
    const pickup = await run('createShippingMethod', 'mutation ($s: ID!) { createShippingMethod(input: { storeId: $s, currencyCode: "EUR", name: "Pickup", kind: PICKUP }) { id } }', { s });
    const readyCart = async (methodId: string | undefined, headers: Record<string, string>) => {
      const cart = await run('createCart', 'mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s }, headers);
      const c = cart.id;
      await run('addCartLines', 'mutation ($c: ID!) { addCartLines(cartId: $c, lines: [{ sku: "AUD-1", quantity: 2 }, { sku: "AUD-2", quantity: 1 }]) { id } }', { c }, headers, true);
      await run('updateCartLines', 'mutation ($c: ID!) { updateCartLines(cartId: $c, lines: [{ sku: "AUD-1", quantity: 3 }]) { id } }', { c }, headers);
      await run('removeCartLines', 'mutation ($c: ID!) { removeCartLines(cartId: $c, skus: ["AUD-2"]) { id } }', { c }, headers);
      await run('applyCouponCode', 'mutation ($c: ID!) { applyCouponCode(cartId: $c, code: "AUDIT10") { id } }', { c }, headers);
      await run('removeCouponCode', 'mutation ($c: ID!) { removeCouponCode(cartId: $c, code: "AUDIT10") { id } }', { c }, headers);
      await run('setCartEmail', 'mutation ($c: ID!) { setCartEmail(cartId: $c, email: "audit@example.com") { id } }', { c }, headers);
      await run('setShippingAddress', 'mutation ($c: ID!, $a: AddressInput!) { setShippingAddress(cartId: $c, address: $a) { id } }', { c, a: { name: 'Ada', line1: '1 Main St', city: 'Berlin', postalCode: '10115', countryCode: 'DE' } }, headers);
      const { availableShippingMethods } = await system.ok('query ($c: ID!) { availableShippingMethods(cartId: $c) { id name } }', { c }, headers);
      const method = methodId ?? availableShippingMethods.find((m: { name: string }) => m.name === 'Flat').id;
      await run('setShippingMethod', 'mutation ($c: ID!, $m: ID!) { setShippingMethod(cartId: $c, shippingMethodId: $m) { id } }', { c, m: method }, headers);
      return c as string;
    };
    const CHECKOUT = 'mutation ($i: CheckoutInput!) { checkout(input: $i) { id status } }';
    const status = (id: string) => eventually(async () => (await system.ok('query ($id: ID!) { order(id: $id) { status } }', { id }, pos)).order.status as string);
    const until = (id: string, wanted: string) => eventually(async () => expect(await status(id)).toBe(wanted), 10_000);
    // Card: the processor's signed webhook (receivePaymentWebhook) authorises, then capture, ship, return, refund.
    const paid = await run('checkout', CHECKOUT, { i: await cartQuoted(system, { cartId: await readyCart(undefined, customer), paymentMethod: { provider: 'TEST_CARD', cardNumber: '4242 4242 4242 4242' }, idempotencyKey: 'audit-1' }, customer) }, customer);
    await until(paid.id, 'AUTHORIZED');
    ran.set('receivePaymentWebhook', 1);
    await run('capturePayment', 'mutation ($id: ID!) { capturePayment(orderId: $id) { id } }', { id: paid.id }, pos);
    await run('createShipment', 'mutation ($id: ID!) { createShipment(input: { orderId: $id, lines: [{ sku: "AUD-1", quantity: 3 }], carrier: "DHL", trackingNumber: "A1" }) { id } }', { id: paid.id }, pos);
    const back = await run('requestReturn', 'mutation ($id: ID!) { requestReturn(input: { orderId: $id, lines: [{ sku: "AUD-1", quantity: 1 }] }) { id } }', { id: paid.id }, pos);
    await run('receiveReturn', 'mutation ($id: ID!) { receiveReturn(input: { returnId: $id, restock: true }) { id } }', { id: back.id }, pos);
    const withdrawn = await run('requestReturn', 'mutation ($id: ID!) { requestReturn(input: { orderId: $id, lines: [{ sku: "AUD-1", quantity: 1 }] }) { id } }', { id: paid.id }, customer);
    await run('cancelReturn', 'mutation ($id: ID!) { cancelReturn(input: { returnId: $id, reason: "kept it" }) { id } }', { id: withdrawn.id }, customer);
    await run('refundOrder', 'mutation ($id: ID!) { refundOrder(input: { orderId: $id, amount: "1.00" }) { id } }', { id: paid.id }, pos);
    // An anonymous cart merged into the customer's after sign-in.
    const anonymousCart = await run('createCart', 'mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s }, front);
    await run('mergeCart', 'mutation ($c: ID!) { mergeCart(cartId: $c) { id } }', { c: anonymousCart.id }, customer);
    // A 3-D-Secure-style card: the shopper completes the challenge with the cart's id.
    const challengeCart = await readyCart(undefined, customer);
    const challenged = await run('checkout', CHECKOUT, { i: await cartQuoted(system, { cartId: challengeCart, paymentMethod: { provider: 'TEST_CARD', cardNumber: '4000 0000 0000 3220' }, idempotencyKey: 'audit-5' }, customer) }, customer);
    await run('completePaymentAction', 'mutation ($c: ID!) { completePaymentAction(input: { cartId: $c, actionResult: "authenticated" }) { id } }', { c: challengeCart }, customer);
    await until(challenged.id, 'AUTHORIZED');
    // Pickup, paid at the till.
    const till = await run('checkout', CHECKOUT, { i: await cartQuoted(system, { cartId: await readyCart(pickup.id, front), paymentMethod: { provider: 'MANUAL' }, idempotencyKey: 'audit-2' }, front) }, front);
    await until(till.id, 'RESERVED');
    await run('payOrder', 'mutation ($id: ID!) { payOrder(id: $id) { id } }', { id: till.id }, pos);
    await run('markReadyForPickup', 'mutation ($id: ID!) { markReadyForPickup(orderId: $id) { id } }', { id: till.id }, pos);
    await run('markPickedUp', 'mutation ($id: ID!) { markPickedUp(orderId: $id) { id } }', { id: till.id }, pos);
    // Placed at the till, paid, fulfilled; another cancelled.
    const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }';
    const sale = async (k: string) => ({ i: await quoted(system, { storeId: s, lines: [{ sku: 'AUD-2', quantity: 1 }], idempotencyKey: k }, pos) });
    const placed = await run('placeOrder', PLACE, await sale('audit-3'), pos);
    await until(placed.id, 'RESERVED');
    await run('payOrder', 'mutation ($id: ID!) { payOrder(id: $id) { id } }', { id: placed.id }, pos);
    await run('fulfillOrder', 'mutation ($id: ID!) { fulfillOrder(id: $id) { id } }', { id: placed.id }, pos);
    const cancelled = await run('placeOrder', PLACE, await sale('audit-4'), pos);
    await run('cancelOrder', 'mutation ($id: ID!) { cancelOrder(id: $id) { id } }', { id: cancelled.id }, pos);

    // The stock changes above were delivered to the subscription: send one again, then delete it.
    const delivery = await eventually(async () => {
      const { webhookDeliveries } = await system.ok('query ($id: ID!) { webhookDeliveries(subscriptionId: $id, first: 1) { edges { node { id } } } }', { id: sub.subscription.id }, shop.headers);
      return webhookDeliveries.edges[0].node.id as string;
    }, 10_000);
    await run('redeliverWebhook', 'mutation ($id: ID!) { redeliverWebhook(deliveryId: $id) { id } }', { id: delivery });
    await run('deleteWebhookSubscription', 'mutation ($id: ID!) { deleteWebhookSubscription(id: $id) { id } }', { id: sub.subscription.id });

    // Mutations no recipe knows (added later): input made from their types, as the platform or an admin.
    const schema = Supergraph.build(SUPERGRAPH, { supportedFeatures: null }).apiSchema().toGraphQLJSSchema();
    const mutations = Object.keys(schema.getMutationType()!.getFields());
    for (const name of mutations.filter((m) => !ran.has(m) && !NOT_RUN[m])) {
      const field = schema.getMutationType()!.getFields()[name]!;
      const args = field.args.filter((a) => isNonNullType(a.type));
      const query = `mutation (${args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ') || '$unused: Boolean'}) { ${name}${args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : ''} ${selection(schema, field.type)} }`;
      const variables = Object.fromEntries(args.map((a) => [a.name, sample(a.type, a.name, { s, sku: 'AUD-1' })]));
      const platform = { authorization: `Bearer ${system.platformApiKey}`, 'x-tenant-id': shop.slug };
      for (const headers of [shop.headers, platform]) {
        const done = await run(name, query.replace('($unused: Boolean)', ''), variables, headers).then(() => true, (error: Error) => failures.set(name, error.message) && false);
        if (done) break;
      }
    }

    // Every mutation ran (or is listed with its reason), and left its record in its subgraph.
    const notRun = mutations.filter((m) => !ran.has(m) && !NOT_RUN[m]);
    expect(notRun.map((m) => `${m}: ${failures.get(m) ?? 'no recipe'}`)).toEqual([]);
    const recorded = await recordedOperations(system);
    const missing = mutations.filter((m) => ran.has(m) && !recorded.has(m));
    expect(missing).toEqual([]);
    // The webhook and the processor's confirmation name their source.
    expect(recorded.get('receiveWebhook')).toEqual(expect.arrayContaining(['webhook:POS']));
    expect(recorded.get('receivePaymentWebhook')).toEqual(expect.arrayContaining(['webhook:TEST_CARD']));
    // No secret that went in or came out is anywhere in the records (inputs, rows before and after).
    const secrets = [shop.adminKey, key.key, sub.secret, rotated.secret, POS_SECRET, 'audit password 1', '4242 4242 4242 4242', session.accessToken, session.refreshToken, refreshed.refreshToken];
    const everything = await everyRecordAsText(system);
    expect(everything.length).toBeGreaterThan(10_000);
    expect(secrets.filter((secret) => everything.includes(secret))).toEqual([]);
  };
});

/** Operation → sources of the records every subgraph of the system holds (all tenants, read as the owner in a system transaction). */
async function recordedOperations(system: TestSupergraph): Promise<Map<string, string[]>> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const found = new Map<string, string[]>();
  try {
    for (const { name } of SUBGRAPHS) {
      await client.query("BEGIN; SELECT set_config('app.system', 'on', true)");
      const { rows } = await client.query<{ operation: string; source: string }>(`SELECT DISTINCT operation, source FROM "${name}${system.schemaSuffix}".audit_log`);
      await client.query('COMMIT');
      for (const row of rows) found.set(row.operation, [...(found.get(row.operation) ?? []), row.source]);
    }
  } finally {
    await client.end();
  }
  return found;
}

/** Every record and change of every subgraph of the system, as one text. */
async function everyRecordAsText(system: TestSupergraph): Promise<string> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const texts: string[] = [];
  try {
    for (const { name } of SUBGRAPHS) {
      const schema = `"${name}${system.schemaSuffix}"`;
      await client.query("BEGIN; SELECT set_config('app.system', 'on', true)");
      const { rows } = await client.query<{ text: string }>(
        `SELECT coalesce(string_agg(l::text, E'\n'), '') || coalesce((SELECT string_agg(c::text, E'\n') FROM ${schema}.audit_change c), '') AS text FROM ${schema}.audit_log l`,
      );
      await client.query('COMMIT');
      texts.push(rows[0]!.text);
    }
  } finally {
    await client.end();
  }
  return texts.join('\n');
}

/** A value of `type` for an argument or input field named `name`: known ids by name, else the simplest value. */
function sample(type: GraphQLInputType, name: string, known: { s: string; sku: string }): unknown {
  const t = getNullableType(type);
  if (isListType(t)) return [sample(t.ofType as GraphQLInputType, name, known)];
  if (isEnumType(t)) return t.getValues()[0]!.value;
  if (isInputObjectType(t)) {
    return Object.fromEntries(Object.values(t.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type, f.name, known)]));
  }
  if (isScalarType(t)) {
    if (t.name === 'Boolean') return true;
    if (t.name === 'Int' || t.name === 'Float') return 1;
    if (/storeId$/i.test(name)) return known.s;
    if (/^skus?$/.test(name)) return known.sku;
    return `audit-${name}`;
  }
  return null;
}

/** The smallest selection of a field's type: `__typename` for objects, nothing for leaves. */
function selection(schema: GraphQLSchema, type: Parameters<typeof getNamedType>[0]): string {
  const named = getNamedType(type);
  return !named || isScalarType(named) || isEnumType(named) || !schema.getType(named.name) ? '' : '{ __typename }';
}
