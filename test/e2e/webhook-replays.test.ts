import { randomUUID } from 'node:crypto';
import { signJson, signShopify } from '../../lib/webhooks/signatures.js';
import { createShop, okOnceKnown, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// A captured Shopify body re-sent with a new X-Shopify-Webhook-Id is a new delivery to the
// dedupe key; what stops it from rolling state back is the source time watermark of each thing
// it changes (stock level, product, price), and the window that refuses old deliveries outright.
const SHOPIFY_SECRET = 'shpss_replays_0123456789abcdef0123';
const POS_SECRET = 'pos-secret-replays-0123456789';
const LOCATION = 61839201;
const ITEM = 408123456789012345n;
const OTHER_ITEM = 408123456789012399n;
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

// Shopify's ids go beyond 2^53: written '#<digits>' here and sent as bare JSON numbers.
const shopifyJson = (payload: object) => JSON.stringify(payload).replace(/"#(\d+)"/g, '$1');
const product = (id: number, sku: string, title: string, price: string, updatedAt: string, inventoryItemId?: bigint) =>
  shopifyJson({
    id,
    title,
    vendor: 'Acme',
    status: 'active',
    updated_at: updatedAt,
    variants: [{ id: id * 10, title: 'One size', price, sku, inventory_item_id: inventoryItemId ? `#${inventoryItemId}` : null }],
  });
// Shaped as the issue's: an inventory level without updated_at (its time is the header's).
const level = (available: number, item = ITEM) => shopifyJson({ inventory_item_id: `#${item}`, location_id: LOCATION, available });

const CONFIGURE = 'mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { source } }';
const MAP_LOCATION = 'mutation ($input: MapExternalLocationInput!) { mapExternalLocation(input: $input) { storeId } }';
const MAP_SKU = 'mutation ($input: MapExternalSkuInput!) { mapExternalSku(input: $input) { sku } }';
const EVENT = 'query ($id: ID!) { ingestionEvent(id: $id) { status lastError note sourceTime } }';
const EVENTS = '{ ingestionEvents(first: 100) { edges { node { externalId } } } }';
const VARIANT = 'query ($sku: ID!, $store: ID!) { variant(sku: $sku) { product { title } price(storeId: $store) { amount } stock(storeId: $store) { onHand } } }';

describe('replayed or late webhook deliveries never roll state back', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let url: (source: string) => string;

  const shopify = (topic: string, body: string, headers: { webhookId?: string; triggeredAt?: string } = {}) =>
    fetch(url('shopify'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signShopify(body, SHOPIFY_SECRET),
        'x-shopify-webhook-id': headers.webhookId ?? randomUUID(),
        ...(headers.triggeredAt ? { 'x-shopify-triggered-at': headers.triggeredAt } : {}),
      },
      body,
    });

  /** Sends a delivery and waits until the worker has applied it. */
  const applied = async (response: Response) => {
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    return eventually(async () => {
      const { ingestionEvent } = await system.ok(EVENT, { id }, shop.headers);
      if (ingestionEvent.status !== 'APPLIED') throw new Error(`${id} is ${ingestionEvent.status} (${ingestionEvent.lastError})`);
      return { note: ingestionEvent.note as string | null, sourceTime: ingestionEvent.sourceTime as string };
    }, 10_000);
  };

  const variant = async (sku: string) =>
    (await system.ok<{ variant: { product: { title: string }; price: { amount: string } | null; stock: { onHand: number } | null } | null }>(VARIANT, { sku, store: shop.storeId }, shop.headers))
      .variant;

  /** Waits until the catalog and pricing show `title` and `amount` for `sku`. */
  const shows = (sku: string, title: string, amount: string) =>
    eventually(async () => {
      const found = await variant(sku);
      expect({ title: found?.product.title, amount: found?.price?.amount }).toEqual({ title, amount });
    }, 10_000);

  const staleCount = async (service: string, kind: string) => {
    const text = await (await fetch(`${new URL(system.gatewayUrl).origin}/metrics`)).text();
    const match = new RegExp(`^ingestion_stale_total\\{service="${service}",kind="${kind}"\\} (\\d+)$`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { ingestion: { backoffMs: 50, pollMs: 50 } } });
    shop = await createShop(system);
    url = (source) => `${new URL(system.gatewayUrl).origin}/webhooks/${source}/${shop.slug}`;
    await system.ok(CONFIGURE, { input: { source: 'SHOPIFY', secret: SHOPIFY_SECRET, currencyCode: 'EUR' } }, shop.headers);
    await system.ok(CONFIGURE, { input: { source: 'POS', secret: POS_SECRET } }, shop.headers);
    await okOnceKnown(system, shop, MAP_LOCATION, { input: { source: 'SHOPIFY', externalId: String(LOCATION), storeId: shop.storeId } });
  });
  afterAll(() => system.stop());

  it('keeps the newer title and price when an older product body is re-sent or arrives late; a newer one applies', async () => {
    const first = product(7001, 'REPLAY-TEE', 'Tee, first', '10.00', hoursAgo(3));
    await applied(await shopify('products/update', first));
    await shows('REPLAY-TEE', 'Tee, first', '10.00');
    await applied(await shopify('products/update', product(7001, 'REPLAY-TEE', 'Tee, second', '12.00', hoursAgo(2))));
    await shows('REPLAY-TEE', 'Tee, second', '12.00');

    // The captured first body again under a new webhook id: accepted (it is signed and in the
    // window), and changes nothing. So does a real update older than the applied one, arriving late.
    const replay = await applied(await shopify('products/update', first));
    expect(replay.sourceTime).toBe(new Date(JSON.parse(first).updated_at).toISOString());
    await applied(await shopify('products/update', product(7001, 'REPLAY-TEE', 'Tee, late', '11.00', hoursAgo(2.5))));
    // Events reach the catalog and pricing in order: once a later product shows, those two were handled.
    await applied(await shopify('products/update', product(7002, 'REPLAY-MARK', 'Marker', '1.00', hoursAgo(1))));
    await shows('REPLAY-MARK', 'Marker', '1.00');
    await shows('REPLAY-TEE', 'Tee, second', '12.00');
    // The operator sees what was left unchanged, per service.
    expect({ products: await staleCount('catalog', 'product'), prices: await staleCount('pricing', 'price') }).toEqual({ products: 2, prices: 2 });

    await applied(await shopify('products/update', product(7001, 'REPLAY-TEE', 'Tee, third', '13.00', hoursAgo(1))));
    await shows('REPLAY-TEE', 'Tee, third', '13.00');
  });

  it('watermarks levels without updated_at by X-Shopify-Triggered-At: a re-sent older level changes no stock', async () => {
    await applied(await shopify('products/update', product(7003, 'REPLAY-MUG', 'Mug', '5.00', hoursAgo(4), ITEM)));
    // Inventory learns of the sku from the catalog's event; mapping it waits for that.
    await okOnceKnown(system, shop, MAP_SKU, { input: { source: 'SHOPIFY', externalId: String(ITEM), sku: 'REPLAY-MUG' } });
    const older = { body: level(5), triggeredAt: hoursAgo(2) };
    const first = await applied(await shopify('inventory_levels/update', older.body, { triggeredAt: older.triggeredAt }));
    expect(first).toEqual({ note: null, sourceTime: older.triggeredAt });
    expect((await variant('REPLAY-MUG'))?.stock?.onHand).toBe(5);
    await applied(await shopify('inventory_levels/update', level(9), { triggeredAt: hoursAgo(1) }));
    expect((await variant('REPLAY-MUG'))?.stock?.onHand).toBe(9);

    // The first delivery captured and re-sent with a new webhook id: applied as a no-op, and says so.
    const replay = await applied(await shopify('inventory_levels/update', older.body, { triggeredAt: older.triggeredAt }));
    expect(replay.note).toMatch(/^stale: levels from .* are older than the ones already applied from SHOPIFY; left unchanged: REPLAY-MUG in store /);
    expect((await variant('REPLAY-MUG'))?.stock?.onHand).toBe(9);
    // A newer one applies.
    await applied(await shopify('inventory_levels/update', level(4), { triggeredAt: new Date().toISOString() }));
    expect((await variant('REPLAY-MUG'))?.stock?.onHand).toBe(4);
  });

  it('refuses deliveries older than the window, ahead of the clock or without a time, and stores none of them', async () => {
    const cupWebhookId = randomUUID();
    await applied(await shopify('products/update', product(7004, 'REPLAY-CUP', 'Cup', '3.00', hoursAgo(1), OTHER_ITEM), { webhookId: cupWebhookId }));
    await shows('REPLAY-CUP', 'Cup', '3.00');
    await okOnceKnown(system, shop, MAP_SKU, { input: { source: 'SHOPIFY', externalId: String(OTHER_ITEM), sku: 'REPLAY-CUP' } });
    const ids = Array.from({ length: 8 }, () => randomUUID());
    const posBody = (type: string, item: object, occurredAt: string, eventId: string) => JSON.stringify({ event_id: eventId, type, occurred_at: occurredAt, items: [item] });
    const pos = (body: string) => fetch(url('pos'), { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, POS_SECRET) }, body });
    const refusals = [
      [await shopify('products/update', product(7004, 'REPLAY-CUP', 'Cup, ancient', '1.00', hoursAgo(25)), { webhookId: ids[0] }), 422, 'WEBHOOK_OUT_OF_WINDOW'],
      [await shopify('inventory_levels/update', level(50, OTHER_ITEM), { webhookId: ids[1], triggeredAt: hoursAgo(25) }), 422, 'WEBHOOK_OUT_OF_WINDOW'],
      [await shopify('inventory_levels/update', level(50, OTHER_ITEM), { webhookId: ids[2], triggeredAt: new Date(Date.now() + 3_600_000).toISOString() }), 422, 'WEBHOOK_OUT_OF_WINDOW'],
      [await shopify('inventory_levels/update', level(50, OTHER_ITEM), { webhookId: ids[3] }), 400, 'BAD_USER_INPUT'],
      [await shopify('inventory_levels/update', level(50, OTHER_ITEM), { webhookId: ids[4], triggeredAt: 'yesterday' }), 400, 'BAD_USER_INPUT'],
      // The body's own time wins over the header: an old updated_at is refused even with a fresh header.
      [await shopify('products/update', product(7004, 'REPLAY-CUP', 'Cup, ancient', '1.00', hoursAgo(30)), { webhookId: ids[5], triggeredAt: new Date().toISOString() }), 422, 'WEBHOOK_OUT_OF_WINDOW'],
      [await pos(posBody('stock.level', { sku: 'REPLAY-CUP', location: 'S1', level: 50 }, hoursAgo(25), ids[6]!)), 422, 'WEBHOOK_OUT_OF_WINDOW'],
    ] as const;
    for (const [response, status, code] of refusals) {
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
    }
    // A webhook id already stored stays a duplicate (200), whatever its body's time.
    const again = await shopify('products/update', product(7004, 'REPLAY-CUP', 'Cup, ancient', '1.00', hoursAgo(25)), { webhookId: cupWebhookId });
    expect({ status: again.status, body: await again.json() }).toEqual({ status: 200, body: { id: expect.any(String), status: 'duplicate' } });
    const { ingestionEvents } = await system.ok(EVENTS, {}, shop.headers);
    const stored = ingestionEvents.edges.map((e: { node: { externalId: string } }) => e.node.externalId);
    expect(ids.filter((id) => stored.includes(id))).toEqual([]);

    // A delta is a change, not a state: a POS that was offline for a day still counts what it did.
    await applied(await pos(posBody('stock.delta', { sku: 'REPLAY-CUP', location: 'S1', delta: 2 }, hoursAgo(30), ids[7]!)));
    expect(await variant('REPLAY-CUP')).toEqual({ product: { title: 'Cup' }, price: { amount: '3.00' }, stock: { onHand: 2 } });
  });
});
