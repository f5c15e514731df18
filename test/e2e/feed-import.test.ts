import type { DataSource } from 'typeorm';
import type { EventEnvelope } from '../../lib/events/envelope.js';
import type { FeedProgress } from '../../scripts/import.js';
import { createShop, setPrice, type Shop } from '../support/fixtures.js';
import { liveClient, subscribe } from '../support/live-client.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const IMPORT = 'mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id status total processed failed } }';
const PROGRESS = `query ($id: ID!) {
  feedImport(id: $id) { id status total processed imported failed error errors(first: 100) { line reason raw } effects { prices pricesApplied stock stockApplied stockRefused } }
}`;

type Progress = Omit<FeedProgress, 'errors'> & { id: string; errors: { line: number; reason: string; raw: string }[] };

const FEED = [
  'handle,title,sku,variant_title,brand,price,currency,store,stock,published',
  'tee,Feed Tee,FT-S,Small,Acme,12.50,EUR,S1,5,true',
  'tee,Feed Tee,FT-M,Medium,Acme,12.50,EUR,S1,7,',
  'mug,"Feed Mug, large",FM-1,,,9.99,EUR,,,',
  'bad,,FB-1,,,,,,,',
  'bad2,Bad Sku,FB 2,,,,,,,',
  'tee,Feed Tee,FT-S,Small again,,,,,,',
  'x,Price without currency,FX-1,,,5.00,,,,',
  'y,Stock without store,FY-1,,,,,,3,',
  'z,Unknown store,FZ-1,,,,,ZZ,3,',
  'w,Short row,FW-1',
  'v,Bad amount,FV-1,,,12.345,EUR,,,',
].join('\n');

/** Every tenant's rows, as the tables' owner (read models force row-level security on it too). */
const asSystem = <T>(dataSource: DataSource, work: (query: (sql: string) => Promise<any[]>) => Promise<T>) =>
  dataSource.transaction(async (m) => {
    await m.query(`SELECT set_config('app.system', 'on', true)`);
    return work((sql) => m.query(sql));
  });

describe('bulk catalog feed import', () => {
  let system: TestSupergraph;
  let shop: Shop;

  const progress = async (id: string, headers = shop.headers) => (await system.ok<{ feedImport: Progress }>(PROGRESS, { id }, headers)).feedImport;
  const finished = (id: string) =>
    eventually(async () => {
      const feed = await progress(id);
      if (feed.status !== 'COMPLETED' && feed.status !== 'FAILED') throw new Error(`still ${feed.status}`);
      return feed;
    }, 60_000);

  beforeAll(async () => {
    system = await startSupergraph({ subgraphOptions: { feeds: { batchSize: 50, pollMs: 50 } } });
    shop = await createShop(system);
    // The catalog learns the shop's stores from their events; a feed names them by code.
    await eventually(async () => {
      const { importCatalogFeed } = await system.ok(IMPORT, { csv: 'sku,title,store\nWARM-1,Warm up,D1' }, shop.headers);
      const feed = await finished(importCatalogFeed.id);
      if (feed.imported !== 1) throw new Error(JSON.stringify(feed.errors));
    });
  });
  afterAll(() => system.stop());

  it('imports good rows through catalog, pricing and inventory, and queues bad rows with line and reason', async () => {
    const { importCatalogFeed } = await system.ok(IMPORT, { csv: FEED }, shop.headers);
    expect(importCatalogFeed).toEqual({ id: expect.any(String), status: 'QUEUED', total: 11, processed: 0, failed: 0 });
    const feed = await finished(importCatalogFeed.id);
    expect(feed).toEqual(expect.objectContaining({ status: 'COMPLETED', total: 11, processed: 11, imported: 3, failed: 8, error: null }));
    // COMPLETED waits for pricing and inventory: every price and stock row of the good rows is applied.
    expect(feed.effects).toEqual({ prices: 3, pricesApplied: 3, stock: 2, stockApplied: 2, stockRefused: 0 });
    expect(feed.errors).toEqual([
      { line: 5, reason: 'title is empty', raw: 'bad,,FB-1,,,,,,,' },
      { line: 6, reason: 'sku "FB 2" must be 1-64 letters, digits, ".", "_" or "-"', raw: 'bad2,Bad Sku,FB 2,,,,,,,' },
      { line: 7, reason: 'duplicate sku FT-S (first on line 2)', raw: 'tee,Feed Tee,FT-S,Small again,,,,,,' },
      { line: 8, reason: 'price needs a currency', raw: 'x,Price without currency,FX-1,,,5.00,,,,' },
      { line: 9, reason: 'stock needs a store', raw: 'y,Stock without store,FY-1,,,,,,3,' },
      { line: 10, reason: 'unknown store ZZ', raw: 'z,Unknown store,FZ-1,,,,,ZZ,3,' },
      { line: 11, reason: 'expected 10 fields, found 3', raw: 'w,Short row,FW-1' },
      { line: 12, reason: 'EUR amounts have at most 2 decimal places', raw: 'v,Bad amount,FV-1,,,12.345,EUR,,,' },
    ]);

    const [s1, d1] = shop.stores;
    const read = () =>
      system.ok(
        `query ($s1: ID!, $d1: ID!) {
          tee: variant(sku: "FT-S") { title product { title brand variants { sku title } } price(storeId: $s1) { amount currencyCode } stock(storeId: $s1) { onHand } }
          mug: variant(sku: "FM-1") { title product { title } s1: price(storeId: $s1) { amount } d1: price(storeId: $d1) { amount } }
          bad: variant(sku: "FB-1") { sku }
        }`,
        { s1: s1!.id, d1: d1!.id },
        shop.headers,
      );
    const expected = {
      tee: {
        title: 'Small',
        product: { title: 'Feed Tee', brand: 'Acme', variants: [{ sku: 'FT-S', title: 'Small' }, { sku: 'FT-M', title: 'Medium' }] },
        price: { amount: '12.50', currencyCode: 'EUR' },
        stock: { onHand: 5 },
      },
      mug: { title: 'Feed Mug, large', product: { title: 'Feed Mug, large' }, s1: { amount: '9.99' }, d1: { amount: '9.99' } },
      bad: null,
    };
    // Visible as soon as the import says COMPLETED: no waiting for events after it.
    expect(await read()).toEqual(expected);

    // The same feed again changes nothing: products are found by handle, levels are set, not added.
    const again = await system.ok(IMPORT, { csv: FEED }, shop.headers);
    expect(await finished(again.importCatalogFeed.id)).toEqual(expect.objectContaining({ imported: 3, failed: 8 }));
    await eventually(async () => expect(await read()).toEqual(expected));
    const { products } = await system.ok('{ products(query: "Feed Tee", first: 10) { edges { node { title } } } }', {}, shop.headers);
    expect(products.edges).toHaveLength(1);
    // A batch's search rows are refreshed once, after its variants: a sku finds its product (h6's check).
    const bySku = await system.ok('{ products(query: "FT-M", first: 10) { edges { node { title } } } }', {}, shop.headers);
    expect(bySku.products.edges).toEqual([{ node: { title: 'Feed Tee' } }]);
    const { movements } = await system.ok('query ($s: ID!) { movements(sku: "FT-S", storeId: $s) { edges { node { kind quantity creditAccount } } } }', { s: s1!.id }, shop.headers);
    expect(movements.edges).toEqual([{ node: { kind: 'ADJUSTMENT', quantity: 5, creditAccount: 'external:feed' } }]);
  });

  it('reaches search offers, orders\' price copy and a POS subscription through one batch event each for prices and stock; a redelivered batch applies once', async () => {
    const s1 = shop.storeId;
    const skus = ['BX-0', 'BX-1', 'BX-2', 'BX-3'];
    const feedOf = (rows: [string, string, number][]) =>
      ['handle,title,sku,price,currency,store,stock', ...rows.map(([sku, price, stock]) => `batch,Batch Box,${sku},${price},EUR,S1,${stock}`)].join('\n');
    const imported = async (csv: string) => {
      const { importCatalogFeed } = await system.ok(IMPORT, { csv }, shop.headers);
      const feed = await finished(importCatalogFeed.id);
      expect(feed).toEqual(expect.objectContaining({ status: 'COMPLETED', failed: 0 }));
    };
    const seen: EventEnvelope[] = [];
    const stopSeeing = await system.bus.subscribe('feed-batches', async (event) => void seen.push(event), { ephemeral: true });
    const client = liveClient(system.gatewayUrl, shop.posHeaders);
    try {
      // BX-0 first: the subscription's snapshot of it says the subscription is live.
      await imported(feedOf([['BX-0', '1.00', 1]]));
      const stock = subscribe(client, 'subscription ($s: ID!, $skus: [ID!]) { stockChanged(storeId: $s, skus: $skus) { sku onHand } }', { s: s1, skus });
      const prices = subscribe(client, 'subscription ($s: ID!, $skus: [ID!]) { priceChanged(storeId: $s, skus: $skus) { sku price { amount } } }', { s: s1, skus });
      await Promise.all([stock.waitFor(1, 20_000), prices.waitFor(1, 20_000)]);

      await imported(feedOf([['BX-0', '2.00', 2], ['BX-1', '21.00', 11], ['BX-2', '22.00', 12], ['BX-3', '23.00', 13]]));
      const wanted = { 'BX-0': 2, 'BX-1': 11, 'BX-2': 12, 'BX-3': 13 };
      // The newest payload per sku (a snapshot first, then live changes).
      const latest = (live: { results: { data?: any }[] }, field: string, value: (x: any) => unknown) =>
        Object.fromEntries(live.results.map((r) => r.data[field]).map((x) => [x.sku, value(x)]));
      // Every sku's change reaches the POS, though inventory and pricing each published one event for the batch.
      await eventually(async () => expect(latest(stock, 'stockChanged', (x) => x.onHand)).toEqual(wanted), 20_000);
      await eventually(async () => expect(latest(prices, 'priceChanged', (x) => x.price.amount)).toEqual({ 'BX-0': '2.00', 'BX-1': '21.00', 'BX-2': '22.00', 'BX-3': '23.00' }), 20_000);
      const batches = seen.filter((e) => e.type === 'pricing.prices.changed' || e.type === 'inventory.stock-levels.changed');
      expect(batches.map((e) => [e.type, (e.payload as { changes: { sku: string }[] }).changes.map((c) => c.sku).sort()]).sort()).toEqual([
        ['inventory.stock-levels.changed', skus],
        ['pricing.prices.changed', skus],
      ]);
      expect(seen.filter((e) => (e.type === 'pricing.price.changed' || e.type === 'inventory.stock-level.changed') && skus.slice(1).includes((e.payload as { sku: string }).sku))).toEqual([]);

      // The catalog's search offers and orders' price copy, each applied from the batches.
      const offers = () =>
        asSystem(system.dataSources.catalog, (q) => q(`SELECT sku, price::text, available FROM "${system.dataSources.catalog.driver.schema}".search_variant_offer WHERE sku LIKE 'BX-%' AND store_id = '${s1}' ORDER BY sku`));
      const copies = () =>
        asSystem(system.dataSources.orders, (q) => q(`SELECT sku, amount::text, version FROM "${system.dataSources.orders.driver.schema}".price_info WHERE sku LIKE 'BX-%' AND store_id = '${s1}' ORDER BY sku`));
      const expectedOffers = [
        { sku: 'BX-0', price: '2.0000', available: 2 },
        { sku: 'BX-1', price: '21.0000', available: 11 },
        { sku: 'BX-2', price: '22.0000', available: 12 },
        { sku: 'BX-3', price: '23.0000', available: 13 },
      ];
      const expectedCopies = [
        { sku: 'BX-0', amount: '2.0000', version: 2 },
        { sku: 'BX-1', amount: '21.0000', version: 1 },
        { sku: 'BX-2', amount: '22.0000', version: 1 },
        { sku: 'BX-3', amount: '23.0000', version: 1 },
      ];
      await eventually(async () => expect(await offers()).toEqual(expectedOffers), 20_000);
      await eventually(async () => expect(await copies()).toEqual(expectedCopies), 20_000);
      const { search } = await system.ok('query ($s: ID!) { search(query: "Batch Box", filter: { inStock: true, price: { min: "2" } }, storeId: $s) { totalCount } }', { s: s1 }, shop.headers);
      expect(search.totalCount).toBe(1);

      // Redelivered (same event ids), even with other contents: neither batch is applied again.
      stock.stop();
      prices.stop();
      for (const batch of batches) {
        const changes = (batch.payload as { changes: Record<string, unknown>[] }).changes.map((c) => ({ ...c, available: 999, price: { amount: '99.00', currencyCode: 'EUR' }, version: 99 }));
        await system.bus.publish({ ...batch, payload: { changes } });
      }
      // A change after them, through the API: once it is applied, the redeliveries before it were read.
      await setPrice(system, shop, 'BX-3', '24.00');
      await eventually(async () => expect((await offers())[3]).toEqual({ sku: 'BX-3', price: '24.0000', available: 13 }), 20_000);
      await eventually(async () => expect((await copies())[3]).toEqual({ sku: 'BX-3', amount: '24.0000', version: 2 }), 20_000);
      expect((await offers()).slice(0, 3)).toEqual(expectedOffers.slice(0, 3));
      expect((await copies()).slice(0, 3)).toEqual(expectedCopies.slice(0, 3));
    } finally {
      await client.dispose();
      await stopSeeing();
    }
  });

  it('fails a feed with wrong columns as a whole, and refuses an empty one', async () => {
    const { importCatalogFeed } = await system.ok(IMPORT, { csv: 'sku,title,colour\nA-1,Shirt,red' }, shop.headers);
    const feed = await finished(importCatalogFeed.id);
    expect(feed).toEqual(expect.objectContaining({ status: 'FAILED', imported: 0, error: expect.stringContaining('line 1: unknown column(s) "colour"') }));
    // Where a user looks for why rows were not imported: the header line, with the reason.
    expect(feed.errors).toEqual([{ line: 1, reason: expect.stringContaining('unknown column(s) "colour"'), raw: 'sku,title,colour' }]);
    const missing = await finished((await system.ok(IMPORT, { csv: 'sku,brand\nA-1,Acme' }, shop.headers)).importCatalogFeed.id);
    expect(missing.error).toBe('line 1: missing required column(s) title');
    const empty = await system.request(IMPORT, { csv: '' }, shop.headers);
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const notAdmin = await system.request(IMPORT, { csv: 'sku,title\nA-1,A' }, shop.posHeaders);
    expect(notAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("adds options, pictures and attribute values from Shopify-style columns, and refuses a row it cannot apply whole", async () => {
    const define = 'mutation ($i: DefineAttributeInput!) { defineAttribute(input: $i) { name } }';
    await system.ok(define, { i: { name: 'roast', kind: 'TEXT' } }, shop.headers);
    await system.ok(define, { i: { name: 'weight', kind: 'NUMBER', unit: 'g' } }, shop.headers);
    const columns = ['handle', 'title', 'sku', 'option1_name', 'option1_value', 'option2_name', 'option2_value', 'image_src', 'image_alt', 'variant_image', 'attribute:roast', 'attribute:weight'];
    const row = (values: Partial<Record<string, string>>) => columns.map((c) => values[c] ?? '').join(',');
    const cdn = 'https://cdn.shop.example/files';
    const csv = [
      columns.join(','),
      row({ handle: 'beans', title: 'Feed Beans', sku: 'FBN-250-W', option1_name: 'Size', option1_value: '250 g', option2_name: 'Grind', option2_value: 'Whole', image_src: `${cdn}/beans.jpg`, image_alt: 'A bag of beans', variant_image: `${cdn}/beans-250.jpg`, 'attribute:roast': 'dark', 'attribute:weight': '250' }),
      row({ handle: 'beans', title: 'Feed Beans', sku: 'FBN-250-G', option1_value: '250 g', option2_value: 'Ground', image_src: `${cdn}/beans-back.jpg` }),
      row({ handle: 'beans', title: 'Feed Beans', sku: 'FBN-1K-W', option1_value: '1 kg', option2_value: 'Whole' }),
      row({ handle: 'loose', title: 'Loose Beans', sku: 'FBN-L1', option2_value: 'Loose' }),
      row({ handle: 'heavy', title: 'Heavy Beans', sku: 'FBN-H1', 'attribute:weight': 'heavy' }),
      row({ handle: 'ftp', title: 'Ftp Beans', sku: 'FBN-F1', image_src: 'ftp://cdn.shop.example/beans.jpg' }),
    ].join('\n');
    const feed = await finished((await system.ok(IMPORT, { csv }, shop.headers)).importCatalogFeed.id);
    expect(feed).toEqual(expect.objectContaining({ status: 'COMPLETED', imported: 3, failed: 3 }));
    expect(feed.errors.map(({ line, reason }) => ({ line, reason }))).toEqual([
      { line: 5, reason: 'option2_value needs option2_name (on this row, on an earlier row of handle loose, or the product\'s option 2)' },
      { line: 6, reason: 'attribute "weight" is a number: "heavy" is not a decimal' },
      { line: 7, reason: 'image_src must be an http(s) address of at most 2048 characters' },
    ]);
    const read = async () =>
      (
        await system.ok(
          `{ variant(sku: "FBN-250-W") { options { name value } media { url } product { options { name values } media { url alt } attributes { name value unit }
             variants { sku options { name value } } } } }`,
          {},
          shop.headers,
        )
      ).variant;
    const expected = {
      options: [{ name: 'Size', value: '250 g' }, { name: 'Grind', value: 'Whole' }],
      media: [{ url: `${cdn}/beans-250.jpg` }],
      product: {
        options: [{ name: 'Size', values: ['250 g', '1 kg'] }, { name: 'Grind', values: ['Whole', 'Ground'] }],
        media: [{ url: `${cdn}/beans.jpg`, alt: 'A bag of beans' }, { url: `${cdn}/beans-back.jpg`, alt: null }],
        attributes: [{ name: 'roast', value: 'dark', unit: null }, { name: 'weight', value: '250', unit: 'g' }],
        variants: [
          { sku: 'FBN-250-W', options: [{ name: 'Size', value: '250 g' }, { name: 'Grind', value: 'Whole' }] },
          { sku: 'FBN-250-G', options: [{ name: 'Size', value: '250 g' }, { name: 'Grind', value: 'Ground' }] },
          { sku: 'FBN-1K-W', options: [{ name: 'Size', value: '1 kg' }, { name: 'Grind', value: 'Whole' }] },
        ],
      },
    };
    expect(await read()).toEqual(expected);
    // Search reads attribute and option values.
    const found = await system.ok('{ search(query: "dark ground", first: 5) { edges { node { title } } } }', {}, shop.headers);
    expect(found.search.edges).toEqual([{ node: { title: 'Feed Beans' } }]);
    // The same feed again adds nothing twice.
    expect(await finished((await system.ok(IMPORT, { csv }, shop.headers)).importCatalogFeed.id)).toEqual(expect.objectContaining({ imported: 3, failed: 3 }));
    expect(await read()).toEqual(expected);
  });

  it('streams a large file through the gateway and sends a wrongly encoded row to review', async () => {
    const uploadUrl = `${new URL(system.gatewayUrl).origin}/imports/catalog`;
    const rows = 2_000;
    const latin1 = Buffer.from('latin,Caf\xe9 cr\xe8me,LAT-1\n', 'latin1');
    async function* file() {
      yield Buffer.from('\ufeffhandle,title,sku\n');
      for (let i = 0; i < rows; i += 500) {
        yield Buffer.from(Array.from({ length: 500 }, (_, j) => `bulk-${i + j},Bulk product ${i + j},BULK-${i + j}\n`).join(''));
      }
      yield latin1;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of file()) chunks.push(chunk);
    const body = Buffer.concat(chunks);
    const refused = await fetch(uploadUrl, { method: 'POST', headers: { 'content-type': 'text/csv', ...shop.posHeaders }, body: new Uint8Array(body) });
    expect(refused.status).toBe(403);
    const anonymous = await fetch(uploadUrl, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: 'Bearer ck_nope' }, body: 'sku,title\n' });
    expect(anonymous.status).toBe(401);

    const response = await fetch(uploadUrl, { method: 'POST', headers: { 'content-type': 'text/csv', ...shop.headers }, body: new Uint8Array(body) });
    expect(response.status).toBe(202);
    const queued = (await response.json()) as { id: string; status: string; total: number; bytes: number };
    expect(queued).toEqual(expect.objectContaining({ status: 'QUEUED', total: rows + 1, bytes: body.length }));
    const feed = await finished(queued.id);
    expect(feed).toEqual(expect.objectContaining({ status: 'COMPLETED', processed: rows + 1, imported: rows, failed: 1 }));
    expect(feed.errors).toEqual([{ line: rows + 2, reason: 'not valid UTF-8 (the feed must be UTF-8 encoded)', raw: expect.stringContaining('LAT-1') }]);
    const { variant } = await system.ok('{ variant(sku: "BULK-1999") { title product { title } } }', {}, shop.storefrontHeaders);
    expect(variant).toEqual({ title: 'Bulk product 1999', product: { title: 'Bulk product 1999' } });
    // Another tenant sees neither the import nor its products.
    const other = await createShop(system);
    expect(await progress(queued.id, other.headers)).toBeNull();
  });
});
