import { BATCH_EVENTS, isBatchType } from '../../lib/events/batch-events.js';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import { eventInfo, type EventMap, type EventType } from '../../lib/events/event-map.js';
import { addProduct, bearer, CREATE_API_KEY, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/**
 * The payload fields each type of the event map declares, `'optional'` where the type allows the
 * field to be absent. The compiler keeps this table equal to the map; the test below keeps what
 * the services publish equal to the table, so the map's types match what is published.
 */
type Fields = { [K in EventType]: { [F in keyof EventMap[K]]-?: undefined extends EventMap[K][F] ? 'optional' : true } };
const money = true;
const FIELDS: Fields = {
  'tenant.tenant.created': { id: true, slug: true, name: true, domains: true },
  'tenant.tenant.locale-set': { locale: true },
  'tenant.store.created': { id: true, code: true, name: true, kind: true, timeZone: 'optional' },
  'tenant.store.time-zone-set': { id: true, timeZone: true },
  'tenant.api-key.created': { id: true, role: true },
  'tenant.api-key.revoked': { id: true, keyHash: true },
  'tenant.webhook-source.configured': { source: true, currencyCode: true },
  'tenant.customer.registered': { id: true, email: true },
  'tenant.customer.password-reset-requested': { customerId: true, email: true, token: true, expiresAt: true },
  'tenant.feature-flag.changed': { key: true, revision: true, flag: true },
  'catalog.product.upserted': { id: true, title: true, brand: true, categoryId: true, skus: true },
  'catalog.variant.upserted': { sku: true, productId: true, title: true, productTitle: true, barcode: true },
  'catalog.variants.upserted': { variants: true },
  'catalog.modifier-groups.set': { productId: true, skus: true, groups: true },
  'catalog.availability-windows.set': { productId: true, storeId: true, skus: true, timeZone: true, windows: true, fromStore: 'optional' },
  'catalog.feed.batch-imported': { importId: true, prices: true, stock: true },
  'catalog.search.synonyms-set': { groups: true },
  'catalog.search.changed': { cause: true, causeEventId: true },
  'inventory.feed-batch.applied': { importId: true, applied: true, refused: true },
  'pricing.feed-batch.applied': { importId: true, applied: true, refused: true },
  'pricing.rules.changed': { kind: true, id: true, storeIds: true },
  'inventory.stock-level.changed': {
    __typename: true, id: 'optional', sku: true, storeId: true, onHand: true, reserved: true, available: true, orderable: true, inTransit: true,
    version: true, updatedAt: true, store: true, variant: true, movementId: true, kind: true, quantity: true, previousAvailable: 'optional',
  },
  'inventory.stock-levels.changed': { changes: true },
  'inventory.stock-level.low': { sku: true, storeId: true, available: true, previousAvailable: true, threshold: true, causeEventId: true },
  'inventory.reservation.confirmed': { orderId: true, reservations: true, causeEventId: true },
  'inventory.reservation.rejected': { orderId: true, reason: true, lines: true, causeEventId: true },
  'inventory.ingestion.menu-received': { ingestionEventId: true, source: true, storeId: true, currencyCode: true, timeZone: true, sourceTime: true, items: true },
  'inventory.ingestion.product-received': {
    ingestionEventId: true, source: true, externalRef: true, title: true, description: true, brand: true, published: true,
    currencyCode: true, sourceTime: 'optional', options: 'optional', media: 'optional', variants: true,
  },
  'pricing.price.changed': { __typename: true, sku: true, storeId: true, price: money, previous: true, version: true, updatedAt: true, variant: true },
  'pricing.prices.changed': { changes: true },
  'orders.order.placed': { id: true, storeId: true, number: true, lines: true, total: money },
  'orders.order.paid': { id: true, storeId: true },
  'orders.order.fulfilled': { id: true, storeId: true },
  'orders.order.cancelled': { id: true, storeId: true },
  'orders.order.refunded': { id: true, storeId: true },
  'orders.shipment.created': { id: true, orderId: true, storeId: true, lines: true, carrier: true, trackingNumber: true },
  'orders.return.received': { id: true, orderId: true, storeId: true, lines: true, restock: true },
  'orders.order.updated': {
    __typename: true, id: true, number: true, status: true, storeId: true, store: true, lines: true, total: money,
    createdAt: true, workflowVersion: true, version: true, history: true, quoteId: true,
  },
};

const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }';
const STATUS = 'query ($id: ID!) { order(id: $id) { status } }';

describe('published events match the event map', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const seen: EventEnvelope[] = [];
  let stopObserving: () => Promise<void>;

  beforeAll(async () => {
    system = await startSupergraph();
    stopObserving = await system.bus.subscribe('event-contracts', async (event) => void seen.push(event), { ephemeral: true });
    shop = await createShop(system);
  });
  afterAll(async () => {
    await stopObserving();
    await system.stop();
  });

  const statusOf = (id: string, wanted: string) =>
    eventually(async () => {
      const { order } = await system.ok(STATUS, { id }, shop.posHeaders);
      if (order.status !== wanted) throw new Error(`${order.status}, waiting for ${wanted}`);
    });
  const place = (quantity: number) =>
    eventually(async () => (await system.ok(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'EVT-1', quantity }] }, shop.posHeaders) }, shop.posHeaders)).placeOrder.id as string);

  it('publishes each type with its publisher, schema version and declared fields', async () => {
    await addProduct(system, shop, 'Contract', ['EVT-1']);
    await system.ok('mutation ($i: SetSearchSynonymsInput!) { setSearchSynonyms(input: $i) }', { i: { groups: [['soda', 'pop']] } }, shop.headers);
    await system.ok('mutation { setTenantLocale(locale: "en-GB") { locale } }', {}, shop.headers);
    await setPrice(system, shop, 'EVT-1', '1.50');
    await setPrice(system, shop, 'EVT-1', '1.60');
    await receiveStock(system, shop, 'EVT-1', 5);
    const fulfilled = await place(2);
    await statusOf(fulfilled, 'RESERVED');
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: fulfilled }, shop.posHeaders);
    await system.ok('mutation ($id: ID!) { fulfillOrder(id: $id) { status } }', { id: fulfilled }, shop.posHeaders);
    const cancelled = await place(1);
    await statusOf(cancelled, 'RESERVED');
    await system.ok('mutation ($id: ID!) { cancelOrder(id: $id) { status } }', { id: cancelled }, shop.posHeaders);
    await statusOf(await place(50), 'REJECTED');
    const platform = bearer(system.platformApiKey);
    const { createApiKey } = await system.ok(CREATE_API_KEY, { input: { name: 'spare', role: 'ADMIN', tenantId: shop.tenantId } }, platform);
    await system.ok('mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: createApiKey.apiKey.id }, platform);
    await system.ok('mutation { setFeatureFlag(input: { key: "contract", enabled: true, rules: [{ percentage: 5, variant: "on" }] }) { key } }', {}, shop.headers);
    await system.ok('mutation { deleteFeatureFlag(key: "contract") }', {}, shop.headers);
    // A feed of two rows: its prices and stock are bulk work, one batch event each (decision 0042).
    const { importCatalogFeed } = await system.ok('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', {
      csv: 'handle,title,sku,price,currency,store,stock\nbox,Contract Box,EVT-B1,2.00,EUR,S1,3\nbox,Contract Box,EVT-B2,2.50,EUR,S1,4',
    }, shop.headers);
    await eventually(async () => {
      const { feedImport } = await system.ok('query ($id: ID!) { feedImport(id: $id) { status imported } }', { id: importCatalogFeed.id }, shop.headers);
      if (feedImport.status !== 'COMPLETED' || feedImport.imported !== 2) throw new Error(JSON.stringify(feedImport));
    }, 30_000);
    await eventually(async () => expect(seen.filter((e) => e.type === 'tenant.api-key.revoked' || e.type === 'tenant.feature-flag.changed')).toHaveLength(3));
    await eventually(async () => expect(seen.filter((e) => e.type === 'pricing.prices.changed' || e.type === 'inventory.stock-levels.changed')).toHaveLength(2));

    const problems: string[] = [];
    for (const event of seen) {
      const info = eventInfo(event.type);
      if (!info) {
        problems.push(`${event.type}: not in the event map`);
        continue;
      }
      if (event.version !== info.version) problems.push(`${event.type}: version ${event.version}, the map says ${info.version}`);
      if (event.source !== info.publisher) problems.push(`${event.type}: published by ${event.source}, the map says ${info.publisher}`);
      const declared = FIELDS[event.type as EventType] as Record<string, true | 'optional'>;
      const sent = Object.keys(event.payload as object);
      for (const field of sent) if (!(field in declared)) problems.push(`${event.type}: sends ${field}, which the map does not declare`);
      for (const [field, kind] of Object.entries(declared)) if (kind === true && !sent.includes(field)) problems.push(`${event.type}: lacks ${field}`);
      // Each change of a batch is a payload of its row type.
      if (isBatchType(event.type)) {
        const row = FIELDS[BATCH_EVENTS[event.type]] as Record<string, true | 'optional'>;
        for (const change of (event.payload as { changes: object[] }).changes) {
          const fields = Object.keys(change);
          for (const field of fields) if (!(field in row)) problems.push(`${event.type}: a change sends ${field}, which the row type does not declare`);
          for (const [field, kind] of Object.entries(row)) if (kind === true && !fields.includes(field)) problems.push(`${event.type}: a change lacks ${field}`);
        }
      }
    }
    expect([...new Set(problems)]).toEqual([]);
    // The flow above publishes these types (the webhook types have their own suites).
    expect(new Set(seen.map((e) => e.type))).toEqual(
      new Set([
        'tenant.tenant.created', 'tenant.tenant.locale-set', 'tenant.store.created', 'tenant.api-key.created', 'tenant.api-key.revoked', 'tenant.feature-flag.changed',
        'catalog.product.upserted', 'catalog.variant.upserted', 'catalog.search.synonyms-set', 'catalog.search.changed', 'inventory.stock-level.changed',
        'inventory.reservation.confirmed', 'inventory.reservation.rejected', 'pricing.price.changed',
        'orders.order.placed', 'orders.order.paid', 'orders.order.fulfilled', 'orders.order.cancelled', 'orders.order.updated',
        'catalog.variants.upserted', 'catalog.feed.batch-imported', 'pricing.feed-batch.applied', 'inventory.feed-batch.applied',
        'pricing.prices.changed', 'inventory.stock-levels.changed',
      ]),
    );
  });
});
