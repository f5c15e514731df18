import { randomUUID } from 'node:crypto';
import { signJson, signShopify } from '../../lib/webhooks/signatures.js';
import { addProduct, createShop, okOnceKnown, receiveStock, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// Shaped as Shopify documents its webhooks. Its ids go beyond 2^53, as in its examples: written
// '#<digits>' here and sent as bare JSON numbers, so the gateway sees the exact bytes Shopify sends.
const shopifyJson = (payload: object) => JSON.stringify(payload).replace(/"#(\d+)"/g, '$1');
const SHOPIFY_LOCATION = 24826418;
// Deliveries older than the window (24 h) are refused: times are hours before the run.
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
const shopifyProduct = {
  id: '#788032119674292922',
  title: 'Example T-Shirt',
  body_html: '<p>An example T-Shirt</p>',
  vendor: 'Acme',
  product_type: 'Shirts',
  created_at: '2024-01-01T12:00:00-05:00',
  handle: 'example-t-shirt',
  updated_at: hoursAgo(3),
  published_at: '2024-01-01T12:00:00-05:00',
  status: 'active',
  tags: 'example, mens, t-shirt',
  admin_graphql_api_id: 'gid://shopify/Product/788032119674292922',
  variants: [
    {
      id: '#642667041472713922', product_id: '#788032119674292922', title: 'Small', price: '19.99', sku: 'example-shirt-s', position: 1,
      inventory_policy: 'deny', compare_at_price: '24.99', option1: 'Small', barcode: null, inventory_item_id: '#271878346596884015',
      inventory_quantity: 75, admin_graphql_api_id: 'gid://shopify/ProductVariant/642667041472713922',
    },
    {
      id: '#757650484644203962', product_id: '#788032119674292922', title: 'Medium', price: '19.99', sku: 'example-shirt-m', position: 2,
      inventory_policy: 'deny', compare_at_price: '24.99', option1: 'Medium', barcode: '1234567890123', inventory_item_id: '#271878346596884016',
      inventory_quantity: 50, admin_graphql_api_id: 'gid://shopify/ProductVariant/757650484644203962',
    },
  ],
  options: [{ id: '#527050010214937811', product_id: '#788032119674292922', name: 'Size', position: 1, values: ['Small', 'Medium'] }],
  images: [
    { id: '#850703190', product_id: '#788032119674292922', position: 2, alt: null, src: 'https://cdn.shop.example/files/shirt-medium.png', variant_ids: ['#757650484644203962'] },
    { id: '#562641783', product_id: '#788032119674292922', position: 1, alt: 'The shirt, folded', src: 'https://cdn.shop.example/files/shirt.png', variant_ids: [] },
  ],
};
const inventoryLevel = (available: number, updatedAt: string) => ({
  inventory_item_id: '#271878346596884015',
  location_id: SHOPIFY_LOCATION,
  available,
  updated_at: updatedAt,
  admin_graphql_api_id: `gid://shopify/InventoryLevel/${SHOPIFY_LOCATION}?inventory_item_id=271878346596884015`,
});

const SHOPIFY_SECRET = 'shpss_0123456789abcdef0123456789abcdef';
const POS_SECRET = 'pos-secret-0123456789abcdef';

const CONFIGURE = 'mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { source currencyCode path updatedAt } }';
const MAP_LOCATION = 'mutation ($input: MapExternalLocationInput!) { mapExternalLocation(input: $input) { source externalId storeId } }';
const MAP_SKU = 'mutation ($input: MapExternalSkuInput!) { mapExternalSku(input: $input) { source externalId sku } }';
const EVENTS = `query ($status: IngestionStatus, $source: WebhookSource) {
  ingestionEvents(status: $status, source: $source, first: 50) { edges { node { id source topic externalId status attempts lastError body appliedAt } } }
}`;
const EVENT = 'query ($id: ID!) { ingestionEvent(id: $id) { id status attempts lastError nextAttemptAt appliedAt } }';
const RETRY = 'mutation ($id: ID!) { retryIngestionEvent(id: $id) { id status attempts } }';
const STOCK = 'query ($sku: ID!, $store: ID!) { variant(sku: $sku) { title stock(storeId: $store) { onHand available version } } }';
const MOVEMENTS = 'query ($sku: ID!, $store: ID!) { movements(sku: $sku, storeId: $store, first: 50) { edges { node { kind quantity debitAccount creditAccount reference } } } }';

describe('merchant systems push changes by webhook', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let url: (source: string, slug?: string) => string;

  const post = (target: string, body: string | Buffer, headers: Record<string, string>) =>
    fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : new Uint8Array(body) });

  const shopify = (topic: string, payload: object, webhookId: string = randomUUID(), secret = SHOPIFY_SECRET) => {
    const body = shopifyJson(payload);
    return post(url('shopify'), body, {
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopify(body, secret),
      'x-shopify-webhook-id': webhookId,
      'x-shopify-shop-domain': 'example.myshopify.com',
      'x-shopify-api-version': '2024-01',
    });
  };

  const pos = (payload: object, options: { secret?: string; now?: number; source?: string } = {}) => {
    const body = JSON.stringify(payload);
    return post(url(options.source ?? 'pos'), body, signJson(body, options.secret ?? POS_SECRET, options.now));
  };

  const stockEvent = (type: 'stock.delta' | 'stock.level', items: object[], occurredAt = new Date().toISOString()) => ({
    event_id: randomUUID(),
    type,
    occurred_at: occurredAt,
    items,
  });

  const statusOf = async (id: string) =>
    (await system.ok<{ ingestionEvent: { status: string; attempts: number; lastError: string | null } }>(EVENT, { id }, shop.headers)).ingestionEvent;

  const waitForStatus = (id: string, status: string) =>
    eventually(async () => {
      const event = await statusOf(id);
      if (event.status !== status) throw new Error(`${id} is ${event.status} (${event.lastError}), not ${status}`);
      return event;
    }, 10_000);

  const onHand = async (sku: string) =>
    (await system.ok<{ variant: { stock: { onHand: number } } }>(STOCK, { sku, store: shop.storeId }, shop.headers)).variant.stock.onHand;

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { ingestion: { maxAttempts: 3, backoffMs: 50, pollMs: 50 } } });
    shop = await createShop(system);
    url = (source, slug = shop.slug) => `${new URL(system.gatewayUrl).origin}/webhooks/${source}/${slug}`;
    const shopifyConfig = await system.ok(CONFIGURE, { input: { source: 'SHOPIFY', secret: SHOPIFY_SECRET, currencyCode: 'EUR' } }, shop.headers);
    expect(shopifyConfig.configureWebhookSource).toEqual(
      expect.objectContaining({ source: 'SHOPIFY', currencyCode: 'EUR', path: `/webhooks/shopify/${shop.slug}` }),
    );
    await system.ok(CONFIGURE, { input: { source: 'POS', secret: POS_SECRET } }, shop.headers);
    await okOnceKnown(system, shop, MAP_LOCATION, { input: { source: 'SHOPIFY', externalId: String(SHOPIFY_LOCATION), storeId: shop.storeId } });
    await addProduct(system, shop, 'Oat Drink', ['OAT-1', 'OAT-2']);
    await receiveStock(system, shop, 'OAT-1', 10);
  });
  afterAll(() => system.stop());

  it('ingests a Shopify product and then its inventory level, out to a POS subscriber', async () => {
    const created = await shopify('products/update', shopifyProduct);
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await waitForStatus(id, 'APPLIED');
    // The catalog has the product and its variants; pricing has the price in every store.
    const product = await eventually(async () => {
      const { variant } = await system.ok<{ variant: { title: string; barcode: string | null; product: { title: string; brand: string; description: string }; price: { amount: string; currencyCode: string } } | null }>(
        'query ($store: ID!) { variant(sku: "example-shirt-m") { title barcode options { name value } media { url alt position } product { title brand description options { name values } media { url alt position } } price(storeId: $store) { amount currencyCode } } }',
        { store: shop.stores[1]!.id },
        shop.headers,
      );
      if (!variant?.price) throw new Error('not yet');
      return variant;
    });
    // Options, each variant's values (Shopify's option1..3) and the pictures, in Shopify's position order.
    expect(product).toEqual({
      title: 'Medium',
      barcode: '1234567890123',
      options: [{ name: 'Size', value: 'Medium' }],
      media: [{ url: 'https://cdn.shop.example/files/shirt-medium.png', alt: null, position: 0 }],
      product: {
        title: 'Example T-Shirt',
        brand: 'Acme',
        description: 'An example T-Shirt',
        options: [{ name: 'Size', values: ['Small', 'Medium'] }],
        media: [
          { url: 'https://cdn.shop.example/files/shirt.png', alt: 'The shirt, folded', position: 0 },
          { url: 'https://cdn.shop.example/files/shirt-medium.png', alt: null, position: 1 },
        ],
      },
      price: { amount: '19.99', currencyCode: 'EUR' },
    });

    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    const live = subscribe(client, 'subscription ($store: ID!) { stockChanged(storeId: $store, skus: ["example-shirt-s"]) { sku onHand available version variant { title product { title } } } }', {
      store: shop.storeId,
    });
    await live.waitFor(1);
    const webhookId = randomUUID();
    const level = inventoryLevel(6, hoursAgo(1));
    // Shopify's inventory item id was mapped to our sku by the product webhook; inventory learns
    // of the new sku from the catalog's event (mapping it again waits for that, on any bus).
    const { externalMappings } = await system.ok('{ externalMappings(source: SHOPIFY) { skus { externalId sku } } }', {}, shop.headers);
    expect(externalMappings.skus).toEqual([
      { externalId: '271878346596884015', sku: 'example-shirt-s' },
      { externalId: '271878346596884016', sku: 'example-shirt-m' },
    ]);
    await okOnceKnown(system, shop, MAP_SKU, { input: { source: 'SHOPIFY', externalId: '271878346596884015', sku: 'example-shirt-s' } });
    const first = await shopify('inventory_levels/update', level, webhookId);
    await waitForStatus(((await first.clone().json()) as { id: string }).id, 'APPLIED');
    expect(first.status).toBe(202);
    const [, pushed] = await live.waitFor(2);
    expect(pushed!.data.stockChanged).toEqual({ sku: 'example-shirt-s', onHand: 6, available: 6, version: 1, variant: { title: 'Small', product: { title: 'Example T-Shirt' } } });

    // Shopify retries for 48 hours: the same webhook id again is acknowledged and changes nothing.
    const again = await shopify('inventory_levels/update', level, webhookId);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(expect.objectContaining({ status: 'duplicate' }));
    // A late retry of an older level does not roll stock back.
    const older = await shopify('inventory_levels/update', inventoryLevel(2, hoursAgo(2)));
    await waitForStatus(((await older.json()) as { id: string }).id, 'APPLIED');
    expect(await onHand('example-shirt-s')).toBe(6);
    const { movements } = await system.ok(MOVEMENTS, { sku: 'example-shirt-s', store: shop.storeId }, shop.headers);
    expect(movements.edges).toEqual([
      { node: { kind: 'ADJUSTMENT', quantity: 6, debitAccount: `store:${shop.storeId}:on_hand`, creditAccount: 'external:shopify', reference: 'shopify:inventory_levels/update' } },
    ]);
    live.stop();
    await client.dispose();
  });

  it('applies signed POS deltas and levels by our sku and store code', async () => {
    const delta = await pos(stockEvent('stock.delta', [{ sku: 'OAT-1', location: 'S1', delta: -3 }, { sku: 'OAT-2', location: shop.storeId, delta: 4 }]));
    expect(delta.status).toBe(202);
    await waitForStatus(((await delta.json()) as { id: string }).id, 'APPLIED');
    expect(await onHand('OAT-1')).toBe(7);
    expect(await onHand('OAT-2')).toBe(4);
    const level = await pos(stockEvent('stock.level', [{ sku: 'OAT-1', location: 'S1', level: 25 }]));
    await waitForStatus(((await level.json()) as { id: string }).id, 'APPLIED');
    expect(await onHand('OAT-1')).toBe(25);
  });

  it('refuses what is not signed, stale, unknown, malformed or too large, and stores none of it', async () => {
    const payload = stockEvent('stock.delta', [{ sku: 'OAT-1', location: 'S1', delta: 1 }]);
    const refusals = [
      [await pos(payload, { secret: 'not-the-secret-at-all' }), 401, 'UNAUTHENTICATED'],
      [await pos(payload, { now: Date.now() - 6 * 60_000 }), 401, 'UNAUTHENTICATED'],
      [await post(url('pos'), JSON.stringify(payload), { 'x-timestamp': String(Math.floor(Date.now() / 1000)) }), 401, 'UNAUTHENTICATED'],
      [await shopify('products/update', shopifyProduct, randomUUID(), 'wrong-secret-0123456789'), 401, 'UNAUTHENTICATED'],
      [await pos(payload, { source: 'erp' }), 404, 'NOT_FOUND'],
      [await pos(payload, { source: 'square' }), 404, 'NOT_FOUND'],
      [await post(url('pos', 'no-such-tenant'), JSON.stringify(payload), signJson(JSON.stringify(payload), POS_SECRET)), 404, 'NOT_FOUND'],
      [await post(url('pos'), '{"event_id": "x", ', signJson('{"event_id": "x", ', POS_SECRET)), 400, 'BAD_USER_INPUT'],
      [await pos({ ...payload, items: [{ sku: 'OAT-1', location: 'S1', delta: 'lots' }] }), 400, 'BAD_USER_INPUT'],
      [await pos({ ...payload, type: 'stock.teleport' }), 400, 'BAD_USER_INPUT'],
      [await shopify('orders/create', { id: 1 }), 400, 'BAD_USER_INPUT'],
      [await post(url('pos'), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), signJson(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), POS_SECRET)), 400, 'BAD_USER_INPUT'],
    ] as const;
    for (const [response, status, code] of refusals) {
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
    }
    const big = JSON.stringify({ ...payload, padding: 'x'.repeat(1024 * 1024) });
    const tooLarge = await post(url('pos'), big, signJson(big, POS_SECRET));
    expect(tooLarge.status).toBe(413);
    const { ingestionEvents } = await system.ok(EVENTS, { source: 'POS' }, shop.headers);
    expect(ingestionEvents.edges.map((e: { node: { body: string } }) => JSON.parse(e.node.body).event_id)).not.toContain(payload.event_id);
    expect(await onHand('OAT-1')).toBe(25);
  });

  it('sends an unmapped sku or location to review, and applies it once mapped and retried', async () => {
    const response = await pos(stockEvent('stock.delta', [{ sku: 'TILL-OAT', location: 'S1', delta: 2 }, { sku: 'OAT-2', location: 'BACKROOM', delta: 1 }]));
    const { id } = (await response.json()) as { id: string };
    const review = await waitForStatus(id, 'NEEDS_REVIEW');
    expect(review.lastError).toBe('unmapped sku TILL-OAT; unmapped location BACKROOM');
    const { ingestionEvents } = await system.ok(EVENTS, { status: 'NEEDS_REVIEW' }, shop.headers);
    expect(ingestionEvents.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(id);
    expect(await onHand('OAT-2')).toBe(4);

    await system.ok(MAP_SKU, { input: { source: 'POS', externalId: 'TILL-OAT', sku: 'OAT-1' } }, shop.headers);
    await system.ok(MAP_LOCATION, { input: { source: 'POS', externalId: 'BACKROOM', storeId: shop.storeId } }, shop.headers);
    expect((await system.ok(RETRY, { id }, shop.headers)).retryIngestionEvent).toEqual({ id, status: 'RECEIVED', attempts: 0 });
    await waitForStatus(id, 'APPLIED');
    expect(await onHand('OAT-1')).toBe(27);
    expect(await onHand('OAT-2')).toBe(5);
    // Applied is final: a retry is refused rather than applied twice.
    const twice = await system.request(RETRY, { id }, shop.headers);
    expect(twice.errors?.[0]?.extensions?.code).toBe('INVALID_TRANSITION');
  });

  it('retries a failing command with backoff, dead-letters it, and applies nothing of it', async () => {
    const response = await pos(stockEvent('stock.delta', [{ sku: 'OAT-2', location: 'S1', delta: 1 }, { sku: 'OAT-1', location: 'S1', delta: -1000 }]));
    const { id } = (await response.json()) as { id: string };
    const dead = await waitForStatus(id, 'DEAD_LETTER');
    expect(dead).toEqual(expect.objectContaining({ attempts: 3, lastError: expect.stringContaining('not enough OAT-1') }));
    const { ingestionEvents } = await system.ok(EVENTS, { status: 'DEAD_LETTER' }, shop.headers);
    expect(ingestionEvents.edges).toEqual([expect.objectContaining({ node: expect.objectContaining({ id, status: 'DEAD_LETTER', topic: 'stock.delta' }) })]);
    expect(await onHand('OAT-2')).toBe(5);
    // Once the stock is there, the dead letter applies on retry.
    await receiveStock(system, shop, 'OAT-1', 1000);
    await system.ok(RETRY, { id }, shop.headers);
    await waitForStatus(id, 'APPLIED');
    expect(await onHand('OAT-2')).toBe(6);
  });

  it('shows one tenant none of another tenant’s deliveries or mappings', async () => {
    const other = await createShop(system);
    const { ingestionEvents } = await system.ok(EVENTS, {}, other.headers);
    expect(ingestionEvents.edges).toEqual([]);
    const { externalMappings } = await system.ok('{ externalMappings { skus { externalId } locations { externalId } } }', {}, other.headers);
    expect(externalMappings).toEqual({ skus: [], locations: [] });
    // A pos key is not an admin: no review queue for it.
    const denied = await system.request(EVENTS, {}, shop.posHeaders);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('rotates a source secret: the old one is refused at once', async () => {
    const rotated = 'pos-secret-rotated-0123456789';
    await system.ok(CONFIGURE, { input: { source: 'POS', secret: rotated } }, shop.headers);
    const payload = stockEvent('stock.delta', [{ sku: 'OAT-2', location: 'S1', delta: 1 }]);
    // Gateways drop the cached secret when the change's event reaches them.
    await eventually(async () => expect((await pos(payload, { secret: POS_SECRET })).status).toBe(401));
    expect((await pos(payload, { secret: rotated })).status).toBe(202);
    const short = await system.request(CONFIGURE, { input: { source: 'POS', secret: 'short' } }, shop.headers);
    expect(short.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
