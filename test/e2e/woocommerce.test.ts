import { randomUUID } from 'node:crypto';
import { signShopify } from '../../lib/webhooks/signatures.js';
import { createShop, okOnceKnown, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

// WooCommerce's `*_gmt` times: UTC without a zone. Deliveries older than the window (24 h) are refused.
const gmtHoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString().slice(0, 19);
// Shaped as the WooCommerce REST API (wc/v3) returns a product, which its webhooks deliver.
const wooProduct = (overrides: Record<string, unknown> = {}) => ({
  id: 794,
  name: 'Premium Quality Cold Brew',
  slug: 'premium-quality-cold-brew',
  permalink: 'https://shop.example.com/product/premium-quality-cold-brew/',
  date_created: '2024-03-23T17:01:14',
  date_created_gmt: '2024-03-23T20:01:14',
  date_modified: gmtHoursAgo(3),
  date_modified_gmt: gmtHoursAgo(3),
  type: 'simple',
  status: 'publish',
  featured: false,
  catalog_visibility: 'visible',
  description: '<p>Slow-steeped for <strong>18 hours</strong>.</p>\n',
  short_description: '<p>Cold brew coffee.</p>\n',
  sku: 'WOO-COLDBREW-330',
  price: '3.49',
  regular_price: '3.49',
  sale_price: '',
  date_on_sale_from: null,
  date_on_sale_to: null,
  price_html: '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">&euro;</span>3.49</bdi></span>',
  on_sale: false,
  purchasable: true,
  total_sales: 0,
  virtual: false,
  downloadable: false,
  tax_status: 'taxable',
  tax_class: '',
  manage_stock: true,
  stock_quantity: 12,
  stock_status: 'instock',
  backorders: 'no',
  backorders_allowed: false,
  backordered: false,
  weight: '0.35',
  dimensions: { length: '', width: '', height: '' },
  shipping_required: true,
  parent_id: 0,
  categories: [{ id: 9, name: 'Coffee', slug: 'coffee' }],
  tags: [],
  brands: [{ id: 31, name: 'Northern Roast', slug: 'northern-roast' }],
  images: [
    { id: 801, date_created: '2024-01-01T12:00:00', src: 'https://shop.example.com/wp-content/uploads/cold-brew.jpg', name: 'cold-brew.jpg', alt: 'A can of cold brew' },
    { id: 802, date_created: '2024-01-01T12:00:00', src: 'https://shop.example.com/wp-content/uploads/cold-brew-back.jpg', name: 'cold-brew-back.jpg', alt: '' },
  ],
  attributes: [],
  default_attributes: [],
  variations: [],
  grouped_products: [],
  menu_order: 0,
  meta_data: [],
  _links: { self: [{ href: 'https://shop.example.com/wp-json/wc/v3/products/794' }], collection: [{ href: 'https://shop.example.com/wp-json/wc/v3/products' }] },
  ...overrides,
});

const WOO_SECRET = 'woo-secret-0123456789abcdef';
const CONFIGURE = 'mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { source path } }';
const MAP_LOCATION = 'mutation ($input: MapExternalLocationInput!) { mapExternalLocation(input: $input) { source externalId storeId } }';
const EVENT = 'query ($id: ID!) { ingestionEvent(id: $id) { id status attempts lastError note } }';
const VARIANT = `query ($store: ID!) { variant(sku: "WOO-COLDBREW-330") {
  title product { title brand description published media { url alt } } price(storeId: $store) { amount currencyCode } stock(storeId: $store) { onHand }
} }`;

describe('WooCommerce pushes products with their stock by webhook', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let url: string;

  const woo = (topic: string, payload: object, deliveryId: string = randomUUID(), secret = WOO_SECRET) => {
    const body = JSON.stringify(payload);
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)',
        'x-wc-webhook-source': 'https://shop.example.com/',
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': 'product',
        'x-wc-webhook-event': topic.split('.')[1]!,
        'x-wc-webhook-signature': signShopify(body, secret),
        'x-wc-webhook-id': '17',
        'x-wc-webhook-delivery-id': deliveryId,
      },
      body,
    });
  };

  const waitForStatus = (id: string, status: string) =>
    eventually(async () => {
      const { ingestionEvent } = await system.ok<{ ingestionEvent: { status: string; lastError: string | null; note: string | null } }>(EVENT, { id }, shop.headers);
      if (ingestionEvent.status !== status) throw new Error(`${id} is ${ingestionEvent.status} (${ingestionEvent.lastError}), not ${status}`);
      return ingestionEvent;
    }, 15_000);
  const accepted = async (response: Response) => {
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const variant = async () =>
    (await system.ok<{ variant: { title: string; product: object; price: { amount: string } | null; stock: { onHand: number } } | null }>(VARIANT, { store: shop.storeId }, shop.headers)).variant;

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { ingestion: { maxAttempts: 8, backoffMs: 50, pollMs: 50 } } });
    shop = await createShop(system);
    url = `${new URL(system.gatewayUrl).origin}/webhooks/woo/${shop.slug}`;
    const { configureWebhookSource } = await system.ok(CONFIGURE, { input: { source: 'WOO', secret: WOO_SECRET, currencyCode: 'EUR' } }, shop.headers);
    expect(configureWebhookSource).toEqual({ source: 'WOO', path: `/webhooks/woo/${shop.slug}` });
    // WooCommerce keeps one stock per shop: it lands in the store its location is mapped to.
    await okOnceKnown(system, shop, MAP_LOCATION, { input: { source: 'WOO', externalId: 'woocommerce', storeId: shop.storeId } });
  });
  afterAll(() => system.stop());

  it('creates the product with its price and stock, then applies an update once', async () => {
    const created = await accepted(await woo('product.created', wooProduct()));
    // The stock waits (retried) until inventory knows the new sku from the catalog's event.
    await waitForStatus(created, 'APPLIED');
    expect(await eventually(async () => {
      const found = await variant();
      if (!found?.price) throw new Error('not priced yet');
      return found;
    })).toEqual({
      title: 'Premium Quality Cold Brew',
      product: {
        title: 'Premium Quality Cold Brew', brand: 'Northern Roast', description: 'Slow-steeped for 18 hours .', published: true,
        // Its pictures, in WooCommerce's order (an empty alt is none).
        media: [
          { url: 'https://shop.example.com/wp-content/uploads/cold-brew.jpg', alt: 'A can of cold brew' },
          { url: 'https://shop.example.com/wp-content/uploads/cold-brew-back.jpg', alt: null },
        ],
      },
      price: { amount: '3.49', currencyCode: 'EUR' },
      stock: { onHand: 12 },
    });
    const { externalMappings } = await system.ok('{ externalMappings(source: WOO) { skus { externalId sku } } }', {}, shop.headers);
    expect(externalMappings.skus).toEqual([{ externalId: '794', sku: 'WOO-COLDBREW-330' }]);

    // On sale, and sold down to 9: `price` is what the shopper pays.
    const deliveryId = randomUUID();
    const update = wooProduct({ date_modified_gmt: gmtHoursAgo(1), price: '2.99', sale_price: '2.99', on_sale: true, stock_quantity: 9 });
    await waitForStatus(await accepted(await woo('product.updated', update, deliveryId)), 'APPLIED');
    await eventually(async () => expect(await variant()).toEqual(expect.objectContaining({ price: { amount: '2.99', currencyCode: 'EUR' }, stock: { onHand: 9 } })));

    // The same delivery id again is acknowledged and changes nothing.
    const again = await woo('product.updated', update, deliveryId);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(expect.objectContaining({ status: 'duplicate' }));
    // A late delivery of an older state rolls neither stock nor the product back.
    const late = await accepted(await woo('product.updated', wooProduct({ date_modified_gmt: gmtHoursAgo(2), name: 'Old name', stock_quantity: 30 })));
    expect((await waitForStatus(late, 'APPLIED')).note).toMatch(/^stale: /);
    expect(await variant()).toEqual(expect.objectContaining({ title: 'Premium Quality Cold Brew', stock: { onHand: 9 } }));
  });

  it('refuses a wrong signature or another topic, and sends a variable product to review', async () => {
    expect((await woo('product.updated', wooProduct(), randomUUID(), 'not-the-secret-at-all')).status).toBe(401);
    const other = await woo('order.created', { id: 1 });
    expect({ status: other.status, body: await other.json() }).toEqual({ status: 400, body: { error: { code: 'BAD_USER_INPUT', message: expect.stringContaining('product.created, product.updated') } } });
    // A variable product lists its variations by id only: nothing to create until they are known.
    const variable = await accepted(await woo('product.created', wooProduct({ id: 799, type: 'variable', sku: 'WOO-TEE', variations: [800, 801], manage_stock: false, stock_quantity: null })));
    expect((await waitForStatus(variable, 'NEEDS_REVIEW')).lastError).toBe('woo:799: no variants');
  });
});
