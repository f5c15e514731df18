import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { signJson } from '../../lib/webhooks/signatures.js';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const NUL = '\u0000';
const POS_SECRET = 'pos-secret-bad-input-0123456789';
const RECEIVE = 'mutation ($i: ReceiveStockInput!) { receiveStock(input: $i) { onHand } }';
const ADJUST = 'mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { onHand } }';
const UPSERT = 'mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }';
const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id total { amount } } }';
const SET_PRICE = 'mutation ($i: SetPriceInput!) { setPrice(input: $i) { version } }';

/** Everything a refused input could have changed: ledger, levels, orders, catalog, prices, ingestion. */
const STATE = `query ($store: ID!) {
  movements(first: 20) { edges { node { id kind quantity reference } } }
  orders(first: 10) { edges { node { id } } }
  products(first: 10) { edges { node { id title variants { sku title } } } }
  categories { id name }
  externalMappings { skus { externalId sku } }
  ingestionEvents(first: 10) { edges { node { id } } }
  tea: variant(sku: "TEA-1") { stock(storeId: $store) { onHand reserved version } price(storeId: $store) { amount } }
}`;

/** Sends a body with Transfer-Encoding: chunked (no Content-Length), in 64 KiB chunks. */
function postChunked(url: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 65_536) req.write(body.subarray(at, at + 65_536));
    req.end();
  });
}

/** A raw graphql-transport-ws socket: every message received, and how it closed. */
function rawSocket(url: string, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), 'graphql-transport-ws', options);
  const messages: { type: string; id?: string; payload?: any }[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((wake) => wake());
  });
  socket.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()));
  /** Resolves once `count` messages match (or the socket closes). */
  const until = async (match: (m: (typeof messages)[number]) => boolean, count = 1) => {
    for (;;) {
      if (messages.filter(match).length >= count || socket.readyState >= WebSocket.CLOSING) return messages.filter(match);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), closed]);
    }
  };
  return { socket, messages, closed, opened, until, send: (message: object | string | Buffer) => socket.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message)) };
}

describe('bad input never reaches a 500 and changes nothing', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let base: string;
  let state: () => Promise<unknown>;

  beforeAll(async () => {
    system = await startSupergraph({ rateLimitPerMinute: { authenticated: 5000, anonymous: 5000 } });
    base = system.gatewayUrl.replace(/\/graphql$/, '');
    shop = await createShop(system);
    await addProduct(system, shop, 'Tea', ['TEA-1']);
    await addProduct(system, shop, 'Gold', ['GOLD-1']);
    await setPrice(system, shop, 'TEA-1', '4.50');
    await setPrice(system, shop, 'GOLD-1', '999999999999999.00');
    await receiveStock(system, shop, 'TEA-1', 10);
    await receiveStock(system, shop, 'GOLD-1', 50);
    await system.ok('mutation ($i: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $i) { path } }', { i: { source: 'POS', secret: POS_SECRET } }, shop.headers);
    // The orders subgraph learns prices by event: one order of each, left to settle (the saga reserves by event too).
    for (const sku of ['TEA-1', 'GOLD-1']) {
      const { placeOrder } = await eventually(async () => system.ok(PLACE, { i: await quoted(system, { storeId: shop.storeId, lines: [{ sku, quantity: 1 }] }, shop.headers) }, shop.headers));
      await eventually(async () => {
        const { order } = await system.ok('query ($id: ID!) { order(id: $id) { status } }', { id: placeOrder.id }, shop.headers);
        if (order.status !== 'RESERVED') throw new Error(`order ${placeOrder.id} is ${order.status}`);
      }, 15_000);
    }
    state = () => system.ok(STATE, { store: shop.storeId }, shop.headers);
  });
  afterAll(() => system.stop());

  const stock = (extra: Record<string, unknown>) => ({ sku: 'TEA-1', storeId: '', quantity: 1, ...extra });

  it.each([
    ['NUL in a sku', RECEIVE, () => ({ i: stock({ sku: `TEA${NUL}1`, storeId: shop.storeId }) }), 'ReceiveStockInput.sku'],
    ['NUL in a store id', RECEIVE, () => ({ i: stock({ storeId: `${shop.storeId}${NUL}` }) }), 'ReceiveStockInput.storeId'],
    ['NUL in a reference', RECEIVE, () => ({ i: stock({ storeId: shop.storeId, reference: `PO${NUL}1` }) }), 'ReceiveStockInput.reference'],
    ['NUL in an idempotency key', RECEIVE, () => ({ i: stock({ storeId: shop.storeId, idempotencyKey: `k${NUL}` }) }), 'ReceiveStockInput.idempotencyKey'],
    ['NUL in a reason', ADJUST, () => ({ i: { sku: 'TEA-1', storeId: shop.storeId, delta: -1, reason: `dam${NUL}aged` } }), 'AdjustStockInput.reason'],
    ['NUL in a title', UPSERT, () => ({ i: { title: `Te${NUL}a`, variants: [{ sku: 'TEA-9', title: 'x' }] } }), 'UpsertProductInput.title'],
    ['NUL in a variant title', UPSERT, () => ({ i: { title: 'Tea', variants: [{ sku: 'TEA-9', title: `x${NUL}` }] } }), 'VariantInput.title'],
    ['NUL in a category name', 'mutation ($n: String!) { createCategory(input: { name: $n }) { id } }', () => ({ n: `Te${NUL}as` }), 'CreateCategoryInput.name'],
    ['NUL in an external id', 'mutation ($i: MapExternalSkuInput!) { mapExternalSku(input: $i) { sku } }', () => ({ i: { source: 'POS', externalId: `T${NUL}`, sku: 'TEA-1' } }), 'MapExternalSkuInput.externalId'],
    ['NUL in a currency code', SET_PRICE, () => ({ i: { sku: 'TEA-1', storeId: shop.storeId, amount: '5.00', currencyCode: `EU${NUL}` } }), 'SetPriceInput.currencyCode'],
    ['NUL in a search', 'query ($q: String) { products(query: $q) { edges { node { id } } } }', () => ({ q: `te${NUL}a` }), 'Query.products(query:)'],
    ['NUL in an inline literal', '{ variant(sku: "TEA\\u00001") { sku } }', () => ({}), 'Query.variant(sku:)'],
    ['NUL in an order line sku', PLACE, () => ({ i: { storeId: shop.storeId, lines: [{ sku: `TEA-1${NUL}`, quantity: 1 }] } }), 'OrderLineInput.sku'],
    ['a 500 KB idempotency key', RECEIVE, () => ({ i: stock({ storeId: shop.storeId, idempotencyKey: 'k'.repeat(500_000) }) }), 'ReceiveStockInput.idempotencyKey'],
    ['a 10,000-character reason', ADJUST, () => ({ i: { sku: 'TEA-1', storeId: shop.storeId, delta: -1, reason: 'r'.repeat(10_000) } }), 'AdjustStockInput.reason'],
    ['a 300-character title', UPSERT, () => ({ i: { title: 't'.repeat(300), variants: [{ sku: 'TEA-9', title: 'x' }] } }), 'UpsertProductInput.title'],
    ['a quantity of 2147483647', RECEIVE, () => ({ i: stock({ storeId: shop.storeId, quantity: 2_147_483_647 }) }), 'ReceiveStockInput.quantity'],
    ['a delta of -2147483648', ADJUST, () => ({ i: { sku: 'TEA-1', storeId: shop.storeId, delta: -2_147_483_648 } }), 'AdjustStockInput.delta'],
    ['an order line of 2147483647', PLACE, () => ({ i: { storeId: shop.storeId, lines: [{ sku: 'TEA-1', quantity: 2_147_483_647 }] } }), 'OrderLineInput.quantity'],
    ['an order of 101 lines', PLACE, () => ({ i: { storeId: shop.storeId, lines: Array.from({ length: 101 }, (_, n) => ({ sku: `TEA-${n}`, quantity: 1 })) } }), 'PlaceOrderInput.lines'],
    // An order is charged its quote: a total its column cannot hold is refused when quoted.
    ['a quote total beyond numeric(19,4)', 'query ($i: QuoteInput!) { quote(input: $i) { token } }', () => ({ i: { storeId: shop.storeId, lines: [{ sku: 'GOLD-1', quantity: 20 }] } }), 'lines'],
    ['an amount beyond numeric(19,4)', SET_PRICE, () => ({ i: { sku: 'TEA-1', storeId: shop.storeId, amount: '1234567890123456', currencyCode: 'EUR' } }), 'amount'],
  ])('%s: BAD_USER_INPUT naming the field, nothing changed', async (_name, query, variables, field) => {
    const before = await state();
    const result = await system.request(query, variables(), shop.headers);
    expect({ data: result.data ?? null, errors: result.errors?.map((e) => ({ code: e.extensions?.code, field: e.extensions?.field })) }).toEqual({
      data: null,
      errors: [{ code: 'BAD_USER_INPUT', field }],
    });
    expect(await state()).toEqual(before);
  });

  it('answers a chunked body over 1 MiB with a JSON 413, and takes a small chunked one', async () => {
    const before = await state();
    const huge = Buffer.from(JSON.stringify({ query: RECEIVE, variables: { i: stock({ storeId: shop.storeId, reference: 'x'.repeat(2 * 1024 * 1024) }) } }));
    const refused = await postChunked(system.gatewayUrl, huge, shop.headers);
    expect({ status: refused.status, body: JSON.parse(refused.body) }).toEqual({
      status: 413,
      body: { errors: [{ message: 'The request body is larger than 1048576 bytes.', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
    });
    expect(await state()).toEqual(before);
    const small = await postChunked(system.gatewayUrl, Buffer.from(JSON.stringify({ query: '{ tenant { slug } }' })), shop.headers);
    expect({ status: small.status, body: JSON.parse(small.body) }).toEqual({ status: 200, body: { data: { tenant: { slug: shop.slug } } } });
  });

  it('streams a subscription over server-sent events to a chunked request', async () => {
    const body = JSON.stringify({ query: 'subscription ($s: ID!) { stockChanged(storeId: $s, skus: ["TEA-1"]) { sku onHand } }', variables: { s: shop.storeId } });
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(system.gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...shop.posHeaders } }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          const event = /data: (.*)\n/.exec(text);
          if (event) {
            resolve(event[1]!);
            req.destroy();
          }
        });
      });
      req.on('error', (error) => (error.message.includes('socket hang up') ? undefined : reject(error)));
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    });
    expect(JSON.parse(first)).toEqual({ data: { stockChanged: { sku: 'TEA-1', onHand: expect.any(Number) } }, extensions: { version: expect.any(Number), previousVersion: null } });
  });

  it('refuses a signed webhook with a NUL, an over-long sku or a chunked 2 MiB body before storing it', async () => {
    const before = await state();
    const url = `${base}/webhooks/pos/${shop.slug}`;
    const event = (items: object[]) => JSON.stringify({ event_id: `e-${Math.random()}`, type: 'stock.delta', occurred_at: new Date().toISOString(), items });
    const post = (body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, POS_SECRET) }, body });
    const nul = await post(event([{ sku: `TEA-1${NUL}`, location: 'S1', delta: 1 }]));
    expect({ status: nul.status, body: await nul.json() }).toEqual({ status: 400, body: { error: { code: 'BAD_USER_INPUT', message: 'items[0].sku contains a NUL character (U+0000), which is not allowed' } } });
    const long = await post(event([{ sku: 'T'.repeat(129), location: 'S1', delta: 1 }]));
    expect(long.status).toBe(400);
    const overflow = await post(event([{ sku: 'TEA-1', location: 'S1', delta: 2_147_483_647 }]));
    expect(overflow.status).toBe(400);
    const big = event([{ sku: 'TEA-1', location: 'S1', delta: 1, note: 'x'.repeat(2 * 1024 * 1024) }]);
    const chunked = await postChunked(url, Buffer.from(big), signJson(big, POS_SECRET));
    expect({ status: chunked.status, body: JSON.parse(chunked.body) }).toEqual({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'The body is larger than 1048576 bytes.' } } });
    expect(await state()).toEqual(before);
  });

  it('over graphql-ws: bounds arguments as over HTTP, closes on a 5 MiB frame, and refuses a huge connection_init', async () => {
    const before = await state();
    const ws = rawSocket(system.gatewayUrl);
    await ws.opened;
    ws.send({ type: 'connection_init', payload: shop.headers });
    await ws.until((m) => m.type === 'connection_ack');
    ws.send({ id: 'nul', type: 'subscribe', payload: { query: ADJUST, variables: { i: { sku: 'TEA-1', storeId: shop.storeId, delta: -1, reason: `x${NUL}` } } } });
    ws.send({ id: 'sub', type: 'subscribe', payload: { query: 'subscription ($s: ID!, $k: [ID!]) { stockChanged(storeId: $s, skus: $k) { sku } }', variables: { s: shop.storeId, k: [`T${NUL}`] } } });
    const [next] = await ws.until((m) => m.id === 'nul' && m.type === 'next');
    expect(next!.payload.errors.map((e: any) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
    const [error] = await ws.until((m) => m.id === 'sub' && m.type === 'error');
    expect(error!.payload.map((e: any) => [e.extensions.code, e.extensions.field])).toEqual([['BAD_USER_INPUT', 'Subscription.stockChanged(skus:)']]);
    ws.send({ id: 'big', type: 'subscribe', payload: { query: ADJUST, variables: { i: { sku: 'TEA-1', storeId: shop.storeId, delta: -1, reason: 'r'.repeat(5 * 1024 * 1024) } } } });
    expect((await ws.closed).code).toBe(1009);
    expect(await state()).toEqual(before);

    // Anonymous, 60 MiB of connection_init: closed unread, never acknowledged.
    // Serialised before the socket opens, and sent with a zero mask (no masking pass over 60 MiB):
    // the server allows 3 s for connection_init, and a busy machine could spend that on the client.
    const sixtyMiB = Buffer.from(JSON.stringify({ type: 'connection_init', payload: { 'x-tenant-id': shop.slug, padding: 'p'.repeat(60 * 1024 * 1024) } }));
    const flood = rawSocket(system.gatewayUrl, { generateMask: (mask) => mask.fill(0) });
    await flood.opened;
    flood.send(sixtyMiB);
    expect((await flood.closed).code).toBe(1009);
    expect(flood.messages).toEqual([]);
    // Under the frame limit but far more than a credential: 4400.
    const padded = rawSocket(system.gatewayUrl);
    await padded.opened;
    padded.send({ type: 'connection_init', payload: { 'x-tenant-id': shop.slug, padding: 'p'.repeat(100 * 1024) } });
    expect(await padded.closed).toEqual({ code: 4400, reason: 'connection_init is larger than 16384 bytes' });
    expect(padded.messages).toEqual([]);
  });

  it('runs at most 100 operations on one socket: the 101st and later get OPERATION_LIMIT_EXCEEDED', async () => {
    const ws = rawSocket(system.gatewayUrl);
    await ws.opened;
    ws.send({ type: 'connection_init', payload: shop.posHeaders });
    await ws.until((m) => m.type === 'connection_ack');
    const query = 'subscription ($s: ID!, $k: [ID!]) { stockChanged(storeId: $s, skus: $k, snapshot: false) { sku } }';
    for (let n = 0; n < 500; n += 1) ws.send({ id: `s${n}`, type: 'subscribe', payload: { query, variables: { s: shop.storeId, k: [`SKU-${n}`] } } });
    const errors = await ws.until((m) => m.type === 'error', 400);
    expect(errors).toHaveLength(400);
    expect(new Set(errors.map((m) => m.payload[0].extensions.code))).toEqual(new Set(['OPERATION_LIMIT_EXCEEDED']));
    expect(errors.map((m) => m.id)).toEqual(Array.from({ length: 400 }, (_, n) => `s${n + 100}`));
    const debug = await (await fetch(`${base}/debug/subscriptions`)).json();
    expect(debug.groups).toBe(100);
    // Completing one makes room for one more.
    ws.send({ id: 's0', type: 'complete' });
    ws.send({ id: 'again', type: 'subscribe', payload: { query, variables: { s: shop.storeId, k: ['SKU-again'] } } });
    ws.send({ id: 'over', type: 'subscribe', payload: { query, variables: { s: shop.storeId, k: ['SKU-over'] } } });
    const [over] = await ws.until((m) => m.id === 'over');
    expect(over!.type).toBe('error');
    expect(ws.messages.filter((m) => m.id === 'again')).toEqual([]);
    ws.socket.close();
    await ws.closed;
  });

  it('refuses a feed with a NUL as an argument, and puts an uploaded row with a NUL or an over-long title in the review queue', async () => {
    const csv = ['sku,title,brand', `FEED-1,Fine${NUL} tea,Acme`, `FEED-2,${'t'.repeat(256)},Acme`, 'FEED-3,Green tea,Acme'].join('\n');
    const asArgument = await system.request('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv }, shop.headers);
    expect(asArgument.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const uploaded = await fetch(`${base}/imports/catalog`, { method: 'POST', headers: { 'content-type': 'text/csv', ...shop.headers }, body: csv });
    expect(uploaded.status).toBe(202);
    const { id } = (await uploaded.json()) as { id: string };
    const feed = await eventually(async () => {
      const { feedImport } = await system.ok('query ($id: ID!) { feedImport(id: $id) { status imported failed errors { line reason } } }', { id }, shop.headers);
      if (feedImport.status !== 'COMPLETED') throw new Error(`still ${feedImport.status}`);
      return feedImport;
    }, 30_000);
    expect(feed).toEqual({
      status: 'COMPLETED',
      imported: 1,
      failed: 2,
      errors: [
        { line: 2, reason: 'title contains a NUL character (U+0000), which is not allowed' },
        { line: 3, reason: 'title is longer than 255 characters' },
      ],
    });
  });

  it('refuses a receipt that would take a level past 1,000,000,000 units, writing nothing', async () => {
    await addProduct(system, shop, 'Bulk', ['BULK-1']);
    await receiveStock(system, shop, 'BULK-1', 1); // inventory knows the sku before the webhook's level arrives
    const level = JSON.stringify({ event_id: 'bulk-level', type: 'stock.level', occurred_at: new Date().toISOString(), items: [{ sku: 'BULK-1', location: 'S1', level: 1_000_000_000 }] });
    const sent = await fetch(`${base}/webhooks/pos/${shop.slug}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(level, POS_SECRET) }, body: level });
    expect(sent.status).toBe(202);
    const onHand = async () => (await system.ok('query ($s: ID!) { variant(sku: "BULK-1") { stock(storeId: $s) { onHand version } } }', { s: shop.storeId }, shop.headers)).variant.stock;
    const full = await eventually(async () => {
      const stock = await onHand();
      if (stock?.onHand !== 1_000_000_000) throw new Error(`on hand ${JSON.stringify(stock)}`);
      return stock;
    }, 15_000);
    const result = await system.request(RECEIVE, { i: { sku: 'BULK-1', storeId: shop.storeId, quantity: 1 } }, shop.headers);
    expect(result.errors?.map((e) => [e.extensions?.code, e.message])).toEqual([
      ['BAD_USER_INPUT', `that would put more than 1000000000 units of BULK-1 in one level of store ${shop.storeId}`],
    ]);
    expect(await onHand()).toEqual(full);
  });
});
