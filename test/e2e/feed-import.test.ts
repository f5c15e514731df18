import type { FeedProgress } from '../../scripts/import.js';
import { createShop, type Shop } from '../support/fixtures.js';
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
    const { movements } = await system.ok('query ($s: ID!) { movements(sku: "FT-S", storeId: $s) { edges { node { kind quantity creditAccount } } } }', { s: s1!.id }, shop.headers);
    expect(movements.edges).toEqual([{ node: { kind: 'ADJUSTMENT', quantity: 5, creditAccount: 'external:feed' } }]);
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
