import { execFile, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { signJson } from '../../lib/webhooks/signatures.js';
import { bucketOf } from '../../lib/flags/definition.js';
import { seedDemo, type DemoSeedResult } from '../../scripts/seed-demo.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const root = join(__dirname, '..', '..');
const run = promisify(execFile);

/** A fenced block of a Markdown file: its language, text, and the line it starts on. */
interface Block { file: string; line: number; lang: string; text: string }
function fencedBlocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!.slice(indent));
    blocks.push({ file, line: start + 1, lang: open[2]!, text: body.join('\n') });
  }
  return blocks;
}
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/**
 * Blocks that are not requests: drawings, layouts, the database set-up SQL (the same that .ci/run
 * runs), and the commands that start the system, which test/e2e/start.test.ts runs as processes.
 */
const notRequests = (b: Block) => b.lang === '' || b.lang === 'mermaid' || b.lang === 'sql' || (b.lang === 'sh' && !b.text.includes('curl'));

/**
 * Every example of README.md and docs/ runs against the real system with the demo data, as
 * written: only `localhost:4000` becomes the test gateway's port and `<placeholders>` the values
 * the text says to put there.
 */
describe('the README and docs examples, as written, on the demo data', () => {
  let system: TestSupergraph;
  let demo: DemoSeedResult & { keys: { admin: string; pos: string } };
  let port: string;
  let origin: string;
  const store = (code: string) => demo.stores.find((s) => s.code === code)!.id;
  const ran = new Set<Block>();
  const blocks = DOCS.flatMap(fencedBlocks);
  /** The one block of README.md that contains `marker`; it counts as run. */
  const block = (marker: string): string => {
    const found = blocks.filter((b) => b.text.includes(marker));
    expect(found.map((b) => `${b.file}:${b.line}`)).toHaveLength(1);
    ran.add(found[0]!);
    return found[0]!.text;
  };
  const asWritten = (text: string) => text.replaceAll('localhost:4000', `localhost:${port}`);

  beforeAll(async () => {
    system = await startSupergraph();
    const seeded = await seedDemo(system);
    demo = { ...seeded, keys: seeded.keys! };
    port = new URL(system.gatewayUrl).port;
    // The examples' host: `localhost` is the demo tenant's storefront.
    origin = `http://localhost:${port}`;
  }, 300_000);
  afterAll(() => system?.stop());
  const post = (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
    system.request(query, variables, headers).then((r) => {
      expect(r.errors).toBeUndefined();
      return r.data!;
    });

  /** Posts as an anonymous shopper of the demo tenant (the `localhost` host), failing on any error. */
  const asShopper = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
    expect(errors).toBeUndefined();
    return data;
  };

  it("the first query returns products with each variant's price and stock", async () => {
    const data = await asShopper(block('query Storefront($store: ID!)'), { store: store('S1') });
    const edges = data.products.edges as { node: any }[];
    expect(edges.length).toBeGreaterThan(0);
    for (const { node } of edges) {
      expect(node.category.name).toBe('Coffee');
      for (const variant of node.variants) {
        expect(variant.price).toEqual({ amount: expect.stringMatching(/^\d+\.\d\d$/), currencyCode: 'EUR' });
        expect(variant.stock).toEqual(expect.objectContaining({ available: expect.any(Number), store: { name: 'Downtown Store' } }));
      }
    }
  });

  it('the faceted search finds coffee despite the typo, cheapest first, with its facets', async () => {
    const data = await asShopper(block('query Search($store: ID!)'), { store: store('S1') });
    expect(data.search.totalCount).toBeGreaterThan(0);
    expect(data.search.edges.length).toBeGreaterThan(0);
    for (const { node } of data.search.edges) expect(node.category.path.map((c: { name: string }) => c.name)).toEqual(['Hot Beverages', 'Coffee']);
    const facets = Object.fromEntries(data.search.facets.map((f: any) => [f.name, f.values]));
    expect(Object.keys(facets).sort()).toEqual(['attribute:organic', 'attribute:roast', 'attribute:weight', 'brand', 'category', 'inStock', 'price']);
    expect(facets.category[0]).toEqual(expect.objectContaining({ label: 'Coffee', count: data.search.totalCount }));
    expect(facets.brand.reduce((n: number, v: { count: number }) => n + v.count, 0)).toBe(data.search.totalCount);
  });

  it('the attribute search keeps what its filters say and counts each attribute facet without its own filter', async () => {
    const data = await asShopper(block('query FacetedSearch($store: ID!)'), { store: store('S1') });
    expect(data.search.totalCount).toBeGreaterThan(0);
    for (const { node } of data.search.edges) {
      const value = (name: string) => node.attributes.find((a: { name: string }) => a.name === name)?.value;
      expect(Number(value('weight'))).toBeGreaterThanOrEqual(200);
      expect(Number(value('weight'))).toBeLessThanOrEqual(600);
      expect(value('organic')).toBe('true');
      expect(node.media).toEqual([{ url: expect.stringMatching(/^https:\/\/images\.example\.com\/demo\/.+\.jpg$/), alt: node.title }]);
    }
    const facet = (name: string) => data.search.facets.find((f: { name: string }) => f.name === name).values as { value: string; count: number }[];
    // The organic facet ignores its own filter: both values, the true ones adding up to the total.
    expect(facet('attribute:organic').map((v) => v.value).sort()).toEqual(['false', 'true']);
    expect(facet('attribute:organic').find((v) => v.value === 'true')!.count).toBe(data.search.totalCount);
    expect(facet('attribute:weight').map((v) => v.value).sort()).toEqual(['1000', '250', '500']);
    expect(facet('attribute:roast').reduce((n, v) => n + v.count, 0)).toBe(data.search.totalCount);
  });

  it('recommendations stand in with similar products before any order, and nothing trends without sales', async () => {
    const data = await asShopper(block('query Recommendations($store: ID!)'), { store: store('S1') });
    const page = data.productByHandle;
    expect(page.title).toBe('Espresso Beans');
    expect(page.similar).toHaveLength(3);
    expect(page.similar.map((p: { category: { name: string } }) => p.category.name)).toEqual(['Coffee', 'Coffee', 'Coffee']);
    expect(page.similar.map((p: { title: string }) => p.title)).not.toContain('Espresso Beans');
    expect(page.together).toEqual(page.similar.map(({ title }: { title: string }) => ({ title })));
    expect(data.trending).toEqual([]);
  });

  it('the writes apply with an admin key', async () => {
    const data = await post(block('receiveStock(input: { sku: "COF-001-S"'), { store: store('S1') }, { authorization: `Bearer ${demo.keys.admin}` });
    expect(data.adjustStock.onHand).toBe(data.receiveStock.onHand - 2);
    expect(data.setPrice.amount).toEqual({ amount: '6.20', currencyCode: 'EUR' });
    const { quote } = await post(block('quote(input: { storeId: $store, lines: [{ sku: "COF-001-S", quantity: 2 }] })'), { store: store('S1') }, { authorization: `Bearer ${demo.keys.pos}` });
    expect(quote.total).toEqual({ amount: '12.40', currencyCode: 'EUR' });
    const placed = await post(block('idempotencyKey: "cart-7", quoteToken: $token'), { store: store('S1'), token: quote.token }, { authorization: `Bearer ${demo.keys.pos}` });
    expect(placed.placeOrder).toEqual(expect.objectContaining({ status: 'PLACED', total: { amount: '12.40', currencyCode: 'EUR' } }));
    expect(placed.placeOrder.quote).toEqual({ id: expect.any(String), subtotal: { amount: '12.40' }, discountTotal: { amount: '0.00' }, taxTotal: { amount: '0.00' } });
  });

  it('a quote with a coupon and tax adds up, and says why a coupon was refused', async () => {
    const data = await post(block('claimQuote(input: { storeId: $store'), { store: store('S1') }, { authorization: `Bearer ${demo.keys.admin}` });
    const q = data.claimQuote;
    const cents = (m: { amount: string }) => Math.round(Number(m.amount) * 100);
    expect(q.lines[0].adjustments).toEqual([{ label: 'Welcome 10%', amount: q.discountTotal }]);
    expect(cents(q.discountTotal)).toBe(Math.round(cents(q.subtotal) / 10));
    expect(q.lines[0].taxes).toEqual([{ name: 'VAT', rate: '20', amount: q.taxTotal }]);
    expect(cents(q.taxTotal)).toBe(Math.round((cents(q.subtotal) - cents(q.discountTotal)) / 5));
    expect(cents(q.total)).toBe(cents(q.subtotal) - cents(q.discountTotal) + cents(q.taxTotal));
    expect(q.rejectedCoupons).toEqual([{ code: 'NOPE', reason: 'UNKNOWN' }]);
    expect(q.token).toMatch(/\./);
  });

  it('a customer registers, fills a cart and checks out into a reserved order', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const { createShippingMethod } = await post(block('createShippingMethod(input: { storeId: $store, name: "Standard"'), { store: store('S1') }, admin);
    expect(createShippingMethod.price).toEqual({ amount: '4.95' });
    const { registerCustomer } = await asShopper(block('registerCustomer(input: { email: "ann@example.com"'), {});
    const customer = { authorization: `Bearer ${registerCustomer.accessToken}` };
    const { createCart } = await post(block('mutation ($store: ID!) { createCart('), { store: store('S1') }, customer);
    const data = await post(block('addCartLines(cartId: $cart, lines: [{ sku: "COF-001-S", quantity: 2 }])'), { cart: createCart.id, method: createShippingMethod.id }, customer);
    const checkout = block('checkout(input: { cartId: $cart, quoteToken: $token, paymentMethod: { provider: MANUAL }');
    // Without the token, nothing is placed, whatever the cart holds.
    const refused = await system.request(checkout.replace(', $token: String!', '').replace('quoteToken: $token, ', ''), { cart: createCart.id }, customer);
    expect(refused.errors?.map((e) => (e as { extensions?: { code?: string } }).extensions?.code)).toEqual(['QUOTE_REQUIRED']);
    const { quote } = data.setShippingMethod;
    const placed = await post(checkout, { cart: createCart.id, token: quote.token }, customer);
    const cents = (m: { amount: string }) => Math.round(Number(m.amount) * 100);
    // The order charges the quote the cart showed, and the shipping.
    expect(placed.checkout).toEqual({
      number: expect.any(Number), status: 'RESERVED', customer: { id: registerCustomer.customer.id },
      total: { amount: ((cents(quote.total) + cents(data.setShippingMethod.shippingTotal)) / 100).toFixed(2) },
    });
  });

  it('the journey by card: checkout, the processor\'s webhook, capture, two parcels, a return with its shipping, a partial refund', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const { createShippingMethod } = await post('mutation ($s: ID!) { createShippingMethod(input: { storeId: $s, name: "Flat", kind: FLAT, amount: "3.00", currencyCode: "EUR" }) { id } }', { s: store('S1') }, admin);
    const { registerCustomer } = await asShopper('mutation { registerCustomer(input: { email: "bo@example.com", password: "bo password 1", name: "Bo" }) { accessToken } }', {});
    const bo = { authorization: `Bearer ${registerCustomer.accessToken}` };
    const { createCart } = await post('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: store('S1') }, bo);
    const filled = await post(block('addCartLines(cartId: $cart, lines: [{ sku: "COF-003-S", quantity: 2 }'), { cart: createCart.id, method: createShippingMethod.id }, bo);
    const bought = await post(block('checkout(input: { cartId: $cart, quoteToken: $token, paymentMethod: { provider: TEST_CARD'), { cart: createCart.id, token: filled.setShippingMethod.quote.token }, bo);
    const order = bought.checkout.id;
    const cents = (m: { amount: string }) => Math.round(Number(m.amount) * 100);
    expect(cents(bought.checkout.total)).toBe(cents(filled.setShippingMethod.quote.total) + cents(filled.setShippingMethod.shippingTotal));
    // The processor's webhook races the answer: the payment is PENDING, or AUTHORIZED already.
    expect(bought.checkout.payments).toEqual([{ state: expect.stringMatching(/^(PENDING|AUTHORIZED)$/) }]);
    await eventually(async () => expect((await post('query ($id: ID!) { order(id: $id) { status } }', { id: order }, admin)).order.status).toBe('AUTHORIZED'), 10_000);
    const shipped = await post(block('capturePayment(orderId: $order)'), { order }, admin);
    expect(shipped.capturePayment).toEqual({ status: 'PAID', payments: [{ captured: bought.checkout.total }] });
    const { requestReturn } = await post(block('requestReturn(input: { orderId: $order'), { order }, bo);
    const back = await post(block('receiveReturn(input: { returnId: $return, restock: true, refundShipping: true })'), { order, return: requestReturn.id }, admin);
    // One bag's share of what its quote line charged (after discounts, with tax; rounded down) and
    // the shipping came back, then the goodwill euro.
    const { order: charged } = await post('query ($id: ID!) { order(id: $id) { quote { lines { sku quantity total { amount } } } } }', { id: order }, admin);
    const small = charged.quote.lines.find((l: { sku: string }) => l.sku === 'COF-003-S');
    expect(back.receiveReturn).toEqual({ status: 'RECEIVED', refund: { amount: ((Math.floor(cents(small.total) / small.quantity) + 300) / 100).toFixed(2) } });
    expect(back.refundOrder.status).toBe('PARTIALLY_REFUNDED');
    expect(cents(back.refundOrder.payments[0].refunded)).toBe(cents(back.receiveReturn.refund) + 100);
  });

  it('a coupon on the cart: the cart priced by pricing\'s quote, checked out through the claimed quote', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    // The pricing example above creates the coupon; this test makes it when it runs alone.
    const { promotions } = await post('{ promotions { couponCode } }', {}, admin);
    if (!promotions.some((p: { couponCode: string | null }) => p.couponCode === 'WELCOME10')) {
      await post('mutation { createPromotion(input: { name: "Welcome 10%", kind: PERCENT_OFF, value: "10", couponCode: "WELCOME10", usageLimit: 100 }) { id } }', {}, admin);
    }
    const { createShippingMethod } = await post('mutation ($s: ID!) { createShippingMethod(input: { storeId: $s, name: "Flat", kind: FLAT, amount: "3.00", currencyCode: "EUR" }) { id } }', { s: store('S1') }, admin);
    const { registerCustomer } = await asShopper('mutation { registerCustomer(input: { email: "cy@example.com", password: "cy password 1", name: "Cy" }) { accessToken } }', {});
    const cy = { authorization: `Bearer ${registerCustomer.accessToken}` };
    const { createCart } = await post('mutation ($s: ID!) { createCart(input: { storeId: $s }) { id } }', { s: store('S1') }, cy);
    const cart = createCart.id;
    await post(`mutation ($cart: ID!, $method: ID!) {
      addCartLines(cartId: $cart, lines: [{ sku: "COF-002-S", quantity: 2 }]) { id }
      setCartEmail(cartId: $cart, email: "cy@example.com") { id }
      setShippingAddress(cartId: $cart, address: { name: "Cy", line1: "3 Elm St", city: "Berlin", postalCode: "10115", countryCode: "DE" }) { id }
      setShippingMethod(cartId: $cart, shippingMethodId: $method) { id }
    }`, { cart, method: createShippingMethod.id }, cy);
    const { applyCouponCode } = await post(block('applyCouponCode(cartId: $cart, code: "welcome10")'), { cart }, cy);
    const q = applyCouponCode.quote;
    const cents = (m: { amount: string }) => Math.round(Number(m.amount) * 100);
    expect(applyCouponCode.couponCodes).toEqual(['WELCOME10']);
    expect(q.lines[0].adjustments).toEqual([{ label: 'Welcome 10%', amount: q.discountTotal }]);
    expect(cents(q.discountTotal)).toBe(Math.round(cents(q.subtotal) / 10));
    expect(cents(q.total)).toBe(cents(q.subtotal) - cents(q.discountTotal) + cents(q.taxTotal));
    expect(q.rejectedCoupons).toEqual([]);
    const checkout = block('checkout(input: { quoteToken: $token, idempotencyKey: "cy-1"');
    // Without the token, the cart with its coupon is refused.
    const refused = await system.request(checkout.replace(', $token: String!', '').replace('quoteToken: $token, ', ''), { cart }, cy);
    expect(refused.errors?.map((e) => (e as { extensions?: { code?: string } }).extensions?.code)).toEqual(['QUOTE_REQUIRED']);
    const { claimQuote } = await post(block('claimQuote(input: { lines: [{ sku: "COF-002-S"'), { store: store('S1') }, cy);
    expect(claimQuote.total).toEqual({ amount: q.total.amount });
    const { checkout: order } = await post(checkout, { cart, token: claimQuote.token }, cy);
    expect(order).toEqual({ status: 'RESERVED', total: { amount: ((cents(q.total) + 300) / 100).toFixed(2) }, quote: { discountTotal: q.discountTotal, total: q.total } });
  });

  it('the curl commands answer with data', async () => {
    const commands = asWritten(block('curl -s localhost:4000/graphql')).split(/\n(?=curl )/);
    expect(commands).toHaveLength(2);
    const answers = [];
    for (const command of commands) {
      const { stdout } = await run('bash', ['-c', command], { env: { ...process.env, ADMIN_KEY: demo.keys.admin } });
      answers.push(JSON.parse(stdout));
    }
    expect(answers[0].data.tenant).toEqual({ name: 'Demo Market', stores: expect.arrayContaining([{ id: store('S1'), code: 'S1', kind: 'STORE' }]) });
    expect(answers[1].data.movements.edges).toHaveLength(5);
  });

  it('the persisted-query curl commands: not found, registered, then the hash alone by GET', async () => {
    const { stdout } = await run('bash', ['-c', asWritten(block("--data-urlencode \"extensions=$EXT\""))]);
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(answers).toEqual([
      { errors: [expect.objectContaining({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } })] },
      { data: { tenant: { name: 'Demo Market' } } },
      { data: { tenant: { name: 'Demo Market' } } },
    ]);
  });

  it('the @defer curl command: titles first, then each variant\'s stock in a later part', async () => {
    const { stdout } = await run('bash', ['-c', asWritten(block('accept: multipart/mixed;deferSpec=20220824'))]);
    expect(stdout.endsWith('\r\n--graphql--\r\n')).toBe(true);
    const parts = stdout
      .split('\r\n--graphql')
      .filter((raw) => raw.includes('\r\n\r\n'))
      .map((raw) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)));
    const node = parts[0].data.products.edges[0].node;
    expect(parts[0].hasNext).toBe(true);
    expect(typeof node.title).toBe('string');
    expect(node.variants.length).toBeGreaterThan(0);
    for (const variant of node.variants) expect(Object.keys(variant)).toEqual(['sku']);
    const increments = parts.slice(1).flatMap((part) => part.incremental ?? []);
    expect(increments.map((entry) => entry.path)).toEqual(node.variants.map((_: unknown, i: number) => ['products', 'edges', 0, 'node', 'variants', i]));
    for (const entry of increments) expect(entry).toEqual({ data: { stockLevels: expect.arrayContaining([{ available: expect.any(Number) }]) }, path: entry.path, label: 'stock' });
    expect(parts.at(-1).hasNext).toBe(false);
  });

  it('the node refetch answers a variant and a stock level by their ids alone', async () => {
    const { products } = await asShopper('query ($store: ID!) { products(first: 1) { edges { node { variants { id sku stock(storeId: $store) { id available } } } } } }', { store: store('S1') });
    const variant = products.edges[0].node.variants[0];
    const refetch = block('query Refetch($id: ID!)');
    expect((await asShopper(refetch, { id: variant.id })).node).toEqual(expect.objectContaining({ __typename: 'Variant', id: variant.id, sku: variant.sku }));
    expect((await asShopper(refetch, { id: variant.stock.id })).node).toEqual({ __typename: 'StockLevel', id: variant.stock.id, sku: variant.sku, available: variant.stock.available });
  });

  it('the trusted-documents curl commands: publish a manifest, then run a document by its id', async () => {
    const { stdout } = await run('bash', ['-c', asWritten(block('publishPersistedDocuments(input: \\$i)'))], { env: { ...process.env, ADMIN_KEY: demo.keys.admin } });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(answers).toEqual([{ data: { publishPersistedDocuments: { count: 1 } } }, { data: { tenant: { name: 'Demo Market' } } }]);
  });

  it('the platform creates a tenant, a store and keys, and the admin key works in its tenant', async () => {
    let credential = '';
    const found: Record<string, string> = {};
    for (const line of block('mutation { createTenant(').split('\n')) {
      if (line.startsWith('# Authorization: Bearer <platform key>')) credential = system.platformApiKey;
      else if (line.startsWith('# Authorization: Bearer <the admin key>')) credential = found.adminKey!;
      else if (line.startsWith('mutation')) {
        const query = line.replace('"<id>"', JSON.stringify(found.tenantId)).replace('"<api key id>"', JSON.stringify(found.apiKeyId));
        const data = await post(query, {}, { authorization: `Bearer ${credential}` });
        if (data.createTenant) found.tenantId = data.createTenant.id;
        if (data.createApiKey?.apiKey) found.adminKey = data.createApiKey.key;
        else if (data.createApiKey) found.apiKeyId = (await post('{ apiKeys { id name } }', {}, { authorization: `Bearer ${found.adminKey}` })).apiKeys.find((k: { name: string }) => k.name === 'till 1').id;
        if (data.revokeApiKey) expect(data.revokeApiKey.revokedAt).toEqual(expect.any(String));
      } else expect(line.trim()).toBe('');
    }
    expect(Object.keys(found).sort()).toEqual(['adminKey', 'apiKeyId', 'tenantId']);
  });

  it('the graphql-ws snippet, run by node with the pos key, receives the store’s stock', async () => {
    const code = asWritten(block("import { createClient } from 'graphql-ws';"))
      .replace('<pos key>', demo.keys.pos)
      .replace("'<store id>'", JSON.stringify(store('S1')));
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const first = await eventually(async () => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'));
        if (!line) throw new Error(`no payload yet; stderr: ${stderr}`);
        return JSON.parse(line) as { data: { stockChanged: any }; extensions: unknown };
      }, 30_000);
      // The snapshot: the first payload of its sku.
      expect(first.extensions).toEqual({ version: first.data.stockChanged.version, previousVersion: null });
      expect(first.data.stockChanged).toEqual(expect.objectContaining({ storeId: store('S1'), variant: expect.objectContaining({ title: expect.any(String) }) }));
      expect(first.data.stockChanged.variant.price).toEqual({ amount: expect.any(String), currencyCode: 'EUR' });
      expect(stderr).toBe('');
    } finally {
      child.kill();
    }
  });

  /** Runs a README snippet with node as an ES module; resolves with the JSON it printed last. */
  const runSnippet = async (code: string): Promise<any> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, ['--input-type=module', '-e', code], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stderr}`));
        try {
          resolve(JSON.parse(stdout.trim().split('\n').pop()!));
        } catch {
          reject(new Error(`no JSON printed: ${stdout}\n${stderr}`));
        }
      });
    });

  it('the Clients snippets: Apollo Client\'s cache, urql\'s GET, Relay\'s node refetch and a manifest run by a documents-only key', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const fill = (code: string) => asWritten(code).replaceAll('<admin key>', demo.keys.admin).replaceAll("'<store id>'", JSON.stringify(store('S1')));
    const apollo = await runSnippet(fill(block("import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';\nconst client")));
    expect(apollo).toEqual({ before: expect.any(Number), after: apollo.before + 1 });

    const urql = await runSnippet(fill(block("from '@urql/core'")));
    expect(urql.products.edges).toHaveLength(2);
    expect(urql.products.edges[0].node).toEqual({ id: expect.any(String), title: expect.any(String), __typename: 'Product' });

    const { variant } = await post('{ variant(sku: "COF-001-S") { product { id title } } }', {}, admin);
    const relay = await runSnippet(fill(block("from 'relay-runtime'")).replaceAll('<product id>', variant.product.id));
    expect(relay.data).toEqual({ node: { __typename: 'Product', title: variant.product.title, id: variant.product.id } });
    expect(relay.record).toEqual({ __id: variant.product.id, __typename: 'Product', id: variant.product.id, title: variant.product.title });

    const { createApiKey } = await post('mutation { createApiKey(input: { name: "till 7", role: POS, persistedDocumentsOnly: true }) { key } }', {}, admin);
    const manifest = await runSnippet(fill(block('generatePersistedQueryIdsFromManifest')).replaceAll('<documents-only key>', createApiKey.key));
    expect(manifest).toEqual({ published: { publishPersistedDocuments: { app: 'till', count: 1 } }, data: { tenant: { name: expect.any(String), __typename: 'Tenant' } } });
    // The same key sending the query itself is refused: it ran the published document, by id.
    const raw = await system.request('query TillTenant { tenant { name } }', {}, { authorization: `Bearer ${createApiKey.key}` });
    expect(raw.errors?.map((e) => e.extensions?.code)).toEqual(['PERSISTED_DOCUMENT_REQUIRED']);
  }, 120_000);

  it('the webhook set-up and the POS and ERP deliveries apply to demo skus', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const secret = 'readme-example-secret-0123456789';
    for (const line of block('configureWebhookSource(input: { source: SHOPIFY').split('\n')) {
      await post(line.replaceAll('"<shared secret>"', JSON.stringify(secret)).replace('"<store id>"', JSON.stringify(store('S1'))), {}, admin);
    }
    const deliveries = block('"event_id": "till-7-000123"')
      .split(/\n(?=\{)/)
      .map((text) => ({ text, body: JSON.parse(text) as { event_id: string; items: { sku: string; location: string }[] } }));
    expect(deliveries.map((d) => d.body.event_id)).toEqual(['till-7-000123', 'erp-88121']);
    const level = async () =>
      (await post('query ($s: ID!, $w: ID!) { variant(sku: "DAI-023-S") { s1: stock(storeId: $s) { onHand } w1: stock(storeId: $w) { onHand } } }', { s: store('S1'), w: store('W1') }, admin)).variant;
    const before = await level();
    for (const [delivery, source] of [[deliveries[0]!, 'pos'], [deliveries[1]!, 'erp']] as const) {
      // `occurred_at` is when the change happened at the source: levels older than 24 h are refused.
      const text = delivery.text.replaceAll('<now, ISO 8601>', new Date().toISOString());
      const response = await fetch(`${origin}/webhooks/${source}/demo`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(text, secret) }, body: text });
      expect({ source, status: response.status, body: await response.json() }).toEqual({ source, status: 202, body: { id: expect.any(String), status: 'accepted' } });
    }
    await eventually(async () => expect(await level()).toEqual({ s1: { onHand: before.s1.onHand - 2 }, w1: { onHand: 40 } }), 15_000);
  });

  it('the menu examples: modifier groups and a window, an order with modifiers, a POS menu.updated', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const product = async (title: string, skus: [string, string][]) =>
      (await post('mutation ($i: UpsertProductInput!) { upsertProduct(input: $i) { id } }', { i: { title, variants: skus.map(([sku]) => ({ sku, title: sku })) } }, admin)).upsertProduct.id as string;
    const latte = await product('Latte', [['LATTE', '3.20']]);
    await product('Milk', [['MILK-OAT', '0.40'], ['MILK-SOY', '0.30']]);
    await product('Extra shot', [['SHOT', '0.60']]);
    const porridge = await product('Porridge', [['PORRIDGE', '4.00']]);
    for (const [sku, amount] of [['LATTE', '3.20'], ['MILK-OAT', '0.40'], ['MILK-SOY', '0.30'], ['SHOT', '0.60'], ['PORRIDGE', '4.00']]) {
      await eventually(() => post('mutation ($i: SetPriceInput!) { setPrice(input: $i) { version } }', { i: { sku, storeId: store('S1'), amount, currencyCode: 'EUR' } }, admin));
    }
    await post(block('setModifierGroups(productId: $latte'), { latte, porridge, store: store('S1') }, admin);
    const pos = { authorization: `Bearer ${demo.keys.pos}` };
    const placed = await eventually(async () => {
      const { quote } = await post(block('{ sku: "MILK-OAT", quantity: 2 }'), { store: store('S1') }, pos);
      return post(block('lines: [{ sku: "LATTE", quantity: 2, modifiers'), { store: store('S1'), token: quote.token }, pos);
    });
    expect(placed.placeOrder.lines[0].unitPrice).toEqual({ amount: '4.20' });
    const secret = 'readme-menu-secret-0123456789';
    await post('mutation ($i: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $i) { source } }', { i: { source: 'POS', secret, currencyCode: 'EUR' } }, admin);
    const text = block('"type": "menu.updated"').replaceAll('<now, ISO 8601>', new Date().toISOString());
    const response = await fetch(`${origin}/webhooks/pos/demo`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(text, secret) }, body: text });
    expect(response.status).toBe(202);
    await eventually(async () => expect((await post('{ variant(sku: "SYR-VAN") { sku } }', {}, admin)).variant).toEqual({ sku: 'SYR-VAN' }), 15_000);
  });

  it('a feed with an unknown column fails and says why in errors, queried as the README shows', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const readme = readFileSync(join(root, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const selection = /`feedImport\(id\) (\{ status [^`]+\})`/.exec(readme)?.[1];
    expect(selection).toBeDefined();
    const { importCatalogFeed } = await post('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv: 'sku,title,colour\nX-1,Shirt,red' }, admin);
    const feed = await eventually(async () => {
      const { feedImport } = await post(`query ($id: ID!) { feedImport(id: $id) ${selection} }`, { id: importCatalogFeed.id }, admin);
      if (feedImport.status !== 'FAILED') throw new Error(feedImport.status);
      return feedImport;
    });
    expect(feed.errors).toEqual([{ line: 1, reason: expect.stringContaining('unknown column(s) "colour"'), raw: 'sku,title,colour' }]);
  });

  it('refuses as documented: first outside 1–100, a POST without a JSON content type', async () => {
    const big = await system.request('{ products(first: 500) { edges { node { title variants { sku stockLevels { available store { name } } } } } } }', {}, { 'x-tenant-id': 'demo' });
    expect(big.errors).toEqual([expect.objectContaining({ message: 'first must be between 1 and 100', extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })]);
    // docs/errors.md: curl -d without -H 'content-type: application/json' sends a form, which CSRF prevention refuses.
    const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', `localhost:${port}/graphql`, '-d', '{"query":"{ tenant { name } }"}']);
    expect(stdout.split('\n').pop()).toBe('403');
    expect(stdout).toContain('CSRF_REFUSED');
    const errors = readFileSync(join(root, 'docs/errors.md'), 'utf8');
    expect(errors).toContain('403');
    expect(errors).toContain('content-type: application/json');
  });

  it('reads the audit log as docs/audit.md shows (an admin)', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const { auditLog } = await post(block('auditLog(filter:'), { after: null }, admin);
    expect(Array.isArray(auditLog.edges)).toBe(true);
    expect(typeof auditLog.pageInfo.hasNextPage).toBe('boolean');
    for (const { node } of auditLog.edges) expect(node.changes.map((c: { entityType: string }) => c.entityType)).toContain('price');
  });

  it('docs/flags.md: the canary of workflow v3, what a caller gets, new orders on it, and the delete', async () => {
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const { setFeatureFlag } = await post(block('rules: [{ storeIds: [$dark], variant: "v3" }'), { dark: store('D1') }, admin);
    expect(setFeatureFlag).toEqual({
      key: 'order-workflow-version', enabled: true, defaultVariant: 'v2', revision: expect.any(Number),
      rules: [{ storeIds: [store('D1')], roles: [], percentage: 100, variant: 'v3' }, { storeIds: [], roles: [], percentage: 10, variant: 'v3' }],
    });
    const evaluation = block('featureFlagEvaluation(key: "order-workflow-version", storeId: $store)');
    expect((await post(evaluation, { store: store('D1') }, admin)).featureFlagEvaluation).toEqual({
      value: '3', variant: 'v3', reason: 'TARGETING_MATCH', ruleIndex: 0, bucket: null, subject: store('D1'), errorCode: null,
    });
    // In S1 the subject is the store: its bucket decides, the same in every process.
    const s1 = (await post(evaluation, { store: store('S1') }, admin)).featureFlagEvaluation;
    expect(s1).toEqual(expect.objectContaining({ subject: store('S1'), bucket: expect.any(Number) }));
    expect(s1.value).toBe(s1.bucket < 10 ? '3' : '2');
    const placeIn = (storeId: string) =>
      eventually(async () => {
        const lines = [{ sku: 'COF-001-S', quantity: 1 }];
        const { quote } = await post('query ($i: QuoteInput!) { quote(input: $i) { token } }', { i: { storeId, lines } }, admin);
        return (await post('mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { workflowVersion } }', { i: { storeId, lines, quoteToken: quote.token } }, admin)).placeOrder.workflowVersion;
      });
    expect(await placeIn(store('D1'))).toBe(3);
    expect(await post(block('mutation { deleteFeatureFlag(key: "order-workflow-version") }'), {}, admin)).toEqual({ deleteFeatureFlag: true });
  });

  it('the enrichment example: rules set, a shouting title cleaned on its way in', async () => {
    const { upsertProduct } = await post(block('NESCAFE GOLD INSTANT COFFEE 200GM", variants'), {}, { authorization: `Bearer ${demo.keys.admin}` });
    expect(upsertProduct).toEqual({ title: 'Nescafé Gold Instant Coffee 200 g', brand: 'Nescafé' });

    // docs/enrichment.md: casing off in the dark store and for 20 % of the skus, by their bucket.
    const admin = { authorization: `Bearer ${demo.keys.admin}` };
    const { setFeatureFlag } = await post(block('key: "enrichment.casing", enabled: true'), { dark: store('D1') }, admin);
    expect(setFeatureFlag).toEqual({ key: 'enrichment.casing', enabled: true, defaultVariant: 'on', rules: [{ storeIds: [store('D1')], percentage: 100, variant: 'off' }, { storeIds: [], percentage: 20, variant: 'off' }] });
    const skus = Array.from({ length: 400 }, (_, i) => `DOC-CASING-${i}`);
    const inShare = skus.filter((sku) => bucketOf('enrichment.casing', sku) < 20);
    const outOfShare = skus.filter((sku) => bucketOf('enrichment.casing', sku) >= 20);
    const titleFor = async (sku: string) =>
      (await post('mutation ($sku: ID!) { upsertProduct(input: { title: "OAT DRINK 1L", variants: [{ sku: $sku, title: "Carton" }] }) { title } }', { sku }, admin)).upsertProduct.title;
    // The flag reaches the catalog's process within a moment: then a sku in the 20 % keeps its capitals, the others do not.
    await eventually(async () => expect(await titleFor(inShare.shift()!)).toBe('OAT DRINK 1 l'));
    expect(await titleFor(outOfShare.shift()!)).toBe('Oat Drink 1 l');
    expect(await post(block('mutation { deleteFeatureFlag(key: "enrichment.casing") }'), {}, admin)).toEqual({ deleteFeatureFlag: true });
    await eventually(async () => expect(await titleFor(inShare.shift()!)).toBe('Oat Drink 1 l'));
    // The demo tenant goes back to no enrichment: every rule off.
    await post('mutation { setEnrichmentRules(input: { brands: [], categoryKeywords: [], disabled: ["whitespace", "size", "casing", "brand", "category", "synonyms"] }) { brands } }', {}, { authorization: `Bearer ${demo.keys.admin}` });
  });

  it('leaves no example of README.md or docs/ unrun', () => {
    const unrun = blocks.filter((b) => !notRequests(b) && !ran.has(b)).map((b) => `${b.file}:${b.line} (${b.lang})`);
    expect(unrun).toEqual([]);
  });
});
