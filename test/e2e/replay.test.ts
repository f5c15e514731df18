import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { replayReadModel } from '../../lib/events/replay.js';
import { READ_MODELS } from '../../scripts/read-models.js';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }';
const ORDER = 'query ($id: ID!) { order(id: $id) { status } }';
const IMPORT = 'mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }';
const FEED_STATUS = 'query ($id: ID!) { feedImport(id: $id) { status imported effects { pricesApplied stockApplied } } }';

/** Every tenant's rows, as the tables' owner (some force row-level security on it too). */
const asSystem = <T>(dataSource: DataSource, work: (query: (sql: string) => Promise<any[]>) => Promise<T>) =>
  dataSource.transaction(async (m) => {
    await m.query(`SELECT set_config('app.system', 'on', true)`);
    return work((sql) => m.query(sql));
  });

/** A read model's rows, table by table, in a stable order. */
async function snapshot(system: TestSupergraph, model: (typeof READ_MODELS)[number]): Promise<Record<string, string[]>> {
  const dataSource = system.dataSources[model.service as keyof TestSupergraph['dataSources']];
  return asSystem(dataSource, async (query) => {
    const tables: Record<string, string[]> = {};
    for (const table of model.tables) {
      // A stock level's updated_at is its write's time live, its last movement's when rebuilt (a few ms before);
      // a search row's or offer's change_xid is the transaction that wrote it (for the catalog's search index), not content.
      const rows = await query(`SELECT to_jsonb(t) - 'updated_at' - 'change_xid' AS row FROM "${dataSource.driver.schema}"."${table}" t`);
      tables[table] = rows.map((r: { row: unknown }) => JSON.stringify(r.row)).sort();
    }
    return tables;
  });
}

/**
 * `npm run replay`: every read model of every service, wiped and rebuilt from the publishers'
 * outboxes (or its service's own tables), holds what the live consumers had built (decision 0034).
 */
describe('read models rebuilt by replay', () => {
  let system: TestSupergraph;
  let shop: Shop;

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { feeds: { batchSize: 50, pollMs: 50 } } });
    shop = await createShop(system);
    // Writes that fill every model: a product with a brand (item facts, titles, skus), prices set
    // twice (newest version wins), stock in two stores, an order reserving some, and a feed (the
    // bulk events: variants, and the batch events of its prices and stock, decision 0042).
    const tee = await addProduct(system, shop, 'Replay Tee', ['RP-1', 'RP-2'], { brand: 'Acme' });
    await system.ok('mutation { setFeatureFlag(input: { key: "replay-flag", enabled: true }) { key } }', {}, shop.headers);
    // The tenant's locale: search's language (catalog.search-language).
    await system.ok('mutation { setTenantLocale(locale: "en-GB") { locale } }', {}, shop.headers);
    await setPrice(system, shop, 'RP-1', '10.00');
    await setPrice(system, shop, 'RP-1', '11.00');
    await setPrice(system, shop, 'RP-2', '5.00', shop.stores[1]!.id);
    // A menu: RP-2 a modifier of RP-1's product (orders' modifier groups).
    await system.ok('mutation ($id: ID!) { setModifierGroups(productId: $id, groups: [{ name: "Extra", minSelections: 0, maxSelections: 1, modifiers: [{ sku: "RP-2", name: "Extra" }] }]) { id } }', { id: tee.id }, shop.headers);
    await system.ok('mutation ($i: SetAvailabilityWindowsInput!) { setAvailabilityWindows(input: $i) { id } }', { i: { productId: tee.id, storeId: shop.stores[1]!.id, timeZone: 'UTC', windows: [{ from: '07:00', to: '11:00' }] } }, shop.headers);
    await receiveStock(system, shop, 'RP-1', 5);
    await receiveStock(system, shop, 'RP-2', 3, shop.stores[1]!.id);
    // A second product in the order (catalog's bought-together pairs), which is then fulfilled (SALE movements: trending).
    await addProduct(system, shop, 'Replay Cup', ['RP-C1']);
    await setPrice(system, shop, 'RP-C1', '4.00');
    await receiveStock(system, shop, 'RP-C1', 2);
    const orderId = await eventually(async () => (await system.ok(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines: [{ sku: 'RP-1', quantity: 2 }, { sku: 'RP-C1', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders)).placeOrder.id as string);
    await eventually(async () => {
      const { order } = await system.ok(ORDER, { id: orderId }, shop.headers);
      if (order.status !== 'RESERVED') throw new Error(`order is ${order.status}`);
    }, 20_000);
    await system.ok('mutation ($id: ID!) { payOrder(id: $id) { status } }', { id: orderId }, shop.posHeaders);
    await system.ok('mutation ($id: ID!) { fulfillOrder(id: $id) { status } }', { id: orderId }, shop.posHeaders);
    const feed = await eventually(async () => (await system.ok(IMPORT, { csv: 'handle,title,sku,brand,price,currency,store,stock\nmug,Replay Mug,RP-F1,Acme,3.50,EUR,S1,4\nmug,Replay Mug,RP-F2,Acme,3.75,EUR,S1,6' }, shop.headers)).importCatalogFeed.id as string);
    await eventually(async () => {
      const { feedImport } = await system.ok(FEED_STATUS, { id: feed }, shop.headers);
      if (feedImport.status !== 'COMPLETED' || feedImport.imported !== 2 || feedImport.effects.stockApplied !== 2 || feedImport.effects.pricesApplied !== 2) {
        throw new Error(JSON.stringify(feedImport));
      }
    }, 30_000);
    // Consumers on Redis apply a moment later: wait until the last events reached every model.
    await eventually(async () => {
      const offers = await asSystem(system.dataSources.catalog, (q) => q(`SELECT sku FROM "${system.dataSources.catalog.driver.schema}".search_variant_offer WHERE price IS NOT NULL AND available IS NOT NULL`));
      const prices = await asSystem(system.dataSources.orders, (q) => q(`SELECT sku FROM "${system.dataSources.orders.driver.schema}".price_info`));
      const titles = await asSystem(system.dataSources.orders, (q) => q(`SELECT sku FROM "${system.dataSources.orders.driver.schema}".variant_info`));
      const skus = await asSystem(system.dataSources.inventory, (q) => q(`SELECT sku FROM "${system.dataSources.inventory.driver.schema}".known_variant`));
      const menus = await asSystem(system.dataSources.orders, (q) => q(`SELECT sku FROM "${system.dataSources.orders.driver.schema}".modifier_group_info`));
      const windows = await asSystem(system.dataSources.orders, (q) => q(`SELECT sku FROM "${system.dataSources.orders.driver.schema}".availability_info`));
      const pairs = await asSystem(system.dataSources.catalog, (q) => q(`SELECT 1 FROM "${system.dataSources.catalog.driver.schema}".recommendation_pair`));
      const sales = await asSystem(system.dataSources.catalog, (q) => q(`SELECT 1 FROM "${system.dataSources.catalog.driver.schema}".recommendation_sale`));
      const language = await asSystem(system.dataSources.catalog, (q) => q(`SELECT 1 FROM "${system.dataSources.catalog.driver.schema}".search_language`));
      if (language.length < 1 || pairs.length < 2 || sales.length < 2 || menus.length < 2 || windows.length < 2 || offers.length < 5 || prices.length < 5 || titles.length < 3 || skus.length < 3) throw new Error('events still on their way');
    }, 20_000);
  }, 120_000);
  afterAll(() => system.stop());

  it('gives every model, wiped and replayed, the rows the live consumers wrote; a second replay changes nothing', async () => {
    const databaseOf = (service: string) => system.dataSources[service as keyof TestSupergraph['dataSources']];
    const mismatches: string[] = [];
    for (const model of READ_MODELS) {
      const live = await snapshot(system, model);
      expect(Object.values(live).some((rows) => rows.length > 0) ? model.name : `${model.name} is empty`).toBe(model.name);
      // Wiped: nothing left to correct, everything comes from the replay.
      await asSystem(databaseOf(model.service), async (query) => {
        for (const table of model.tables) await query(`DELETE FROM "${databaseOf(model.service).driver.schema}"."${table}"`);
      });
      const first = await replayReadModel(model, databaseOf);
      expect(first.before).toBe(0);
      const rebuilt = await snapshot(system, model);
      if (JSON.stringify(rebuilt) !== JSON.stringify(live)) mismatches.push(`${model.name}\n live: ${JSON.stringify(live)}\n rebuilt: ${JSON.stringify(rebuilt)}`);
      const second = await replayReadModel(model, databaseOf);
      expect(second.after).toBe(first.after);
      expect(await snapshot(system, model)).toEqual(rebuilt);
    }
    expect(mismatches).toEqual([]);
  });

  // Embedded PGlite is one session: a replay there runs with the system stopped (decision 0034).
  (process.env.TEST_EMBEDDED_POSTGRES ? it.skip : it)('on PostgreSQL, rebuilds while prices change underneath: no change is lost', async () => {
    const databaseOf = (service: string) => system.dataSources[service as keyof TestSupergraph['dataSources']];
    const model = READ_MODELS.find((m) => m.name === 'orders.price-info')!;
    const dark = shop.stores[1]!.id;
    const writes = (async () => {
      for (const amount of ['6.00', '7.00', '8.00', '9.00']) await setPrice(system, shop, 'RP-2', amount, dark);
    })();
    const replays = (async () => {
      for (let i = 0; i < 3; i++) await replayReadModel(model, databaseOf);
    })();
    await Promise.all([writes, replays]);
    const orders = system.dataSources.orders;
    await eventually(async () => {
      const [row] = await asSystem(orders, (q) => q(`SELECT amount::text AS amount, version FROM "${orders.driver.schema}".price_info WHERE sku = 'RP-2' AND store_id = '${dark}'`));
      expect(row).toEqual({ amount: '9.0000', version: 5 });
    }, 10_000);
    const live = await snapshot(system, model);
    await replayReadModel(model, databaseOf);
    expect(await snapshot(system, model)).toEqual(live);
  });

  // Last: on Redis the refused event stays pending, so the consumers retry it until the suite stops.
  it('has every consumer refuse an event newer than the code knows: not applied, not marked processed, said once each', async () => {
    const said: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void said.push(args.map(String).join(' ')));
    try {
      const store = randomUUID();
      const eventId = randomUUID();
      await system.bus.publish({
        eventId,
        type: 'tenant.store.created',
        occurredAt: new Date().toISOString(),
        tenantId: shop.tenantId,
        source: 'tenant',
        version: 2,
        payload: { id: store, code: 'V2', name: 'From a newer release', kind: 'STORE' },
      });
      const services = ['catalog', 'inventory', 'pricing', 'orders'] as const;
      await eventually(async () => {
        const lines = said.filter((line) => line.includes(eventId) && line.includes('is version 2, this consumer reads it up to version 1'));
        // The four services' consumers, and the tenant's outbound webhook writer.
        if (lines.length < services.length + 1) throw new Error(`${lines.length} refusals so far`);
      }, 10_000);
      for (const service of services) {
        const dataSource = system.dataSources[service];
        const s = dataSource.driver.schema;
        expect(await asSystem(dataSource, (q) => q(`SELECT code FROM "${s}".known_store WHERE store_id = '${store}'`))).toEqual([]);
        expect(await asSystem(dataSource, (q) => q(`SELECT 1 FROM "${s}".processed_event WHERE event_id = '${eventId}'`))).toEqual([]);
      }
      const tenant = system.dataSources.tenant;
      expect(await asSystem(tenant, (q) => q(`SELECT 1 FROM "${tenant.driver.schema}".webhook_message WHERE event_id = '${eventId}'`))).toEqual([]);
      expect(said.filter((line) => line.includes(eventId) && line.includes('this consumer reads it'))).toHaveLength(services.length + 1);
    } finally {
      spy.mockRestore();
    }
  });
});
