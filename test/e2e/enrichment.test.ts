import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { bucketOf } from '../../lib/flags/definition.js';
import { signJson, signShopify } from '../../lib/webhooks/signatures.js';
import { createShop, UPSERT_PRODUCT, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const SET_RULES = 'mutation ($input: EnrichmentRulesInput!) { setEnrichmentRules(input: $input) { brands categoryKeywords { category keywords } disabled } }';
const ENRICHMENT = 'query ($id: ID!) { productEnrichment(id: $id) { applied { rule field from to } review { rule field to confidence reason } attributes { name value } synonyms } }';
const PRODUCT = 'query ($id: ID!) { product(id: $id) { title brand category { name } } }';
const DECIDE = (name: string) => `mutation ($id: ID!, $field: String!) { ${name}(productId: $id, field: $field) { review { field } applied { field to } } }`;

/** Imports a CSV feed through the gateway and waits until the import says COMPLETED. */
async function importFeed(system: TestSupergraph, shop: Shop, csv: string): Promise<void> {
  const { importCatalogFeed } = await system.ok('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv }, shop.headers);
  await eventually(async () => {
    const { feedImport } = await system.ok('query ($id: ID!) { feedImport(id: $id) { status } }', { id: importCatalogFeed.id }, shop.headers);
    if (feedImport.status !== 'COMPLETED') throw new Error(feedImport.status);
  }, 15_000);
}

describe('enrichment cleans products on their way in, through the gateway', () => {
  let system: TestSupergraph;
  let shop: Shop;
  const upsert = async (title: string, sku: string) =>
    (await system.ok<{ upsertProduct: { id: string } }>(UPSERT_PRODUCT, { input: { title, variants: [{ sku, title: 'Default' }] } }, shop.headers)).upsertProduct.id;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
  });
  afterAll(() => system.stop());

  it('stores titles as received until the tenant sets rules', async () => {
    const id = await upsert('NESCAFE GOLD INSTANT COFFEE 200GM', 'NES-0');
    expect((await system.ok(PRODUCT, { id }, shop.headers)).product).toEqual({ title: 'NESCAFE GOLD INSTANT COFFEE 200GM', brand: null, category: null });
    expect((await system.ok(ENRICHMENT, { id }, shop.headers)).productEnrichment).toBeNull();
  });

  it('applies confident rules, records them, and leaves a weak category to review', async () => {
    await system.ok('mutation { createCategory(input: { name: "Coffee" }) { id } }', {}, shop.headers);
    const { setEnrichmentRules } = await system.ok(
      SET_RULES,
      { input: { brands: ['Nescafé', 'Barilla'], categoryKeywords: [{ category: 'Coffee', keywords: ['coffee', 'instant coffee'] }, { category: 'Pasta', keywords: ['spaghetti'] }] } },
      shop.headers,
    );
    expect(setEnrichmentRules).toEqual({ brands: ['Nescafé', 'Barilla'], categoryKeywords: [{ category: 'Coffee', keywords: ['coffee', 'instant coffee'] }, { category: 'Pasta', keywords: ['spaghetti'] }], disabled: [] });

    const coffee = await upsert('NESCAFE GOLD INSTANT COFFEE 200GM', 'NES-1');
    expect((await system.ok(PRODUCT, { id: coffee }, shop.headers)).product).toEqual({ title: 'Nescafé Gold Instant Coffee 200 g', brand: 'Nescafé', category: { name: 'Coffee' } });
    const { productEnrichment } = await system.ok(ENRICHMENT, { id: coffee }, shop.headers);
    expect(productEnrichment.applied.map((c: { rule: string; field: string }) => `${c.rule}:${c.field}`)).toEqual(
      expect.arrayContaining(['size:title', 'size:attributes.size', 'size:attributes.unit', 'casing:title', 'brand:brand', 'category:category', 'synonyms:synonyms']),
    );
    expect(productEnrichment.review).toEqual([]);
    expect(productEnrichment.attributes).toEqual([{ name: 'size', value: '200' }, { name: 'unit', value: 'g' }]);
    expect(productEnrichment.synonyms.length).toBeGreaterThan(0);

    // One keyword alone is not enough to file it: a person decides.
    const pasta = await upsert('barilla spaghetti n.5 1kg', 'BAR-1');
    const pending = (await system.ok(ENRICHMENT, { id: pasta }, shop.headers)).productEnrichment;
    expect(pending.review).toEqual([{ rule: 'category', field: 'category', to: 'Pasta', confidence: 0.7, reason: 'keywords "spaghetti"' }]);
    expect((await system.ok(PRODUCT, { id: pasta }, shop.headers)).product).toEqual({ title: 'Barilla Spaghetti n.5 1 kg', brand: 'Barilla', category: null });
    // Applying names a category that must exist.
    const missing = await system.request(DECIDE('applyEnrichment'), { id: pasta, field: 'category' }, shop.headers);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await system.ok('mutation { createCategory(input: { name: "Pasta" }) { id } }', {}, shop.headers);
    const applied = (await system.ok(DECIDE('applyEnrichment'), { id: pasta, field: 'category' }, shop.headers)).applyEnrichment;
    expect(applied.review).toEqual([]);
    expect(applied.applied).toContainEqual({ field: 'category', to: 'Pasta' });
    expect((await system.ok(PRODUCT, { id: pasta }, shop.headers)).product.category).toEqual({ name: 'Pasta' });

    // Rejected: dropped, the product unchanged.
    const other = await upsert('penne spaghetti 500gr', 'PEN-1');
    expect((await system.ok(DECIDE('rejectEnrichment'), { id: other, field: 'category' }, shop.headers)).rejectEnrichment.review).toEqual([]);
    expect((await system.ok(PRODUCT, { id: other }, shop.headers)).product.category).toBeNull();
    const again = await system.request(DECIDE('rejectEnrichment'), { id: other, field: 'category' }, shop.headers);
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('enriches every row of a feed, a batch at a time', async () => {
    const csv = ['handle,title,sku,brand', 'nes-gold,NESCAFE GOLD INSTANT COFFEE 100GM,FEED-NES-1,', 'penne,penne spaghetti 500gr,FEED-PEN-1,', 'plain,Oat Drink 1L,FEED-OAT-1,Oatly'].join('\n');
    await importFeed(system, shop, csv);
    const { products } = await system.ok('{ products(first: 50, query: "FEED") { edges { node { id title brand category { name } } } } }', {}, shop.headers);
    const byTitle = new Map(products.edges.map((e: { node: { title: string } }) => [e.node.title, e.node]));
    expect(byTitle.get('Nescafé Gold Instant Coffee 100 g')).toEqual(expect.objectContaining({ brand: 'Nescafé', category: { name: 'Coffee' } }));
    const penne = byTitle.get('Penne Spaghetti 500 g') as { id: string; category: null };
    expect(penne.category).toBeNull();
    expect((await system.ok(ENRICHMENT, { id: penne.id }, shop.headers)).productEnrichment.review).toEqual([expect.objectContaining({ field: 'category', to: 'Pasta' })]);
    expect(byTitle.get('Oat Drink 1 l')).toEqual(expect.objectContaining({ brand: 'Oatly', category: null }));
  });

  it('switches a rule off and on through its feature flag: for the tenant, for one store, for a share of skus', async () => {
    const FLAG = 'mutation ($input: FeatureFlagInput!) { setFeatureFlag(input: $input) { key } }';
    const titleOf = async (id: string) => (await system.ok(PRODUCT, { id }, shop.headers)).product.title as string;
    // Off for the tenant: shouting titles stay shouting, the other rules still run.
    await system.ok(FLAG, { input: { key: 'enrichment.casing', enabled: true, defaultVariant: 'off' } }, shop.headers);
    let n = 0;
    await eventually(async () => expect(await titleOf(await upsert('DETTOL HANDWASH 250ML', `FLAG-A${n++}`))).toBe('DETTOL HANDWASH 250 ml'));
    const off = await upsert('DETTOL HANDWASH 250ML', 'FLAG-OFF');
    expect((await system.ok(ENRICHMENT, { id: off }, shop.headers)).productEnrichment.applied.map((c: { rule: string }) => c.rule)).not.toContain('casing');

    // Off for the dark store only, and for half of the skus by their bucket: a feed's rows each as their flag says.
    await system.ok(FLAG, { input: { key: 'enrichment.casing', enabled: true, rules: [{ storeIds: [shop.stores[1]!.id], variant: 'off' }] } }, shop.headers);
    await system.ok(FLAG, { input: { key: 'enrichment.size', enabled: true, rules: [{ percentage: 50, variant: 'off' }] } }, shop.headers);
    const skus = Array.from({ length: 20 }, (_, i) => `FLAGFEED-${i}`);
    const sizeOff = skus.filter((sku) => bucketOf('enrichment.size', sku) < 50);
    // The flags reached the catalog's process once a product shows casing on and size off for its sku.
    const waiting = Array.from({ length: 400 }, (_, i) => `FLAGWAIT-${i}`).filter((sku) => bucketOf('enrichment.size', sku) < 50);
    await eventually(async () => expect(await titleOf(await upsert('OAT DRINK 1L', waiting[n++]!))).toBe('Oat Drink 1L'));
    const csv = ['handle,title,sku,store', ...skus.map((sku, i) => `flag-${i},OAT DRINK 1L,${sku},${i % 2 ? 'D1' : 'S1'}`)].join('\n');
    await importFeed(system, shop, csv);
    const { products } = await system.ok('{ products(first: 50, query: "FLAGFEED") { edges { node { title variants { sku } } } } }', {}, shop.headers);
    const titles = new Map(products.edges.map((e: { node: { title: string; variants: { sku: string }[] } }) => [e.node.variants[0]!.sku, e.node.title]));
    expect(Object.fromEntries(titles)).toEqual(
      Object.fromEntries(skus.map((sku, i) => [sku, `${i % 2 ? 'OAT DRINK' : 'Oat Drink'} ${sizeOff.includes(sku) ? '1L' : '1 l'}`])),
    );
    expect(sizeOff.length).toBeGreaterThan(0);
    expect(sizeOff.length).toBeLessThan(skus.length);

    // On again: the flag deleted, the rule runs.
    await system.ok('mutation { deleteFeatureFlag(key: "enrichment.casing") }', {}, shop.headers);
    await system.ok('mutation { deleteFeatureFlag(key: "enrichment.size") }', {}, shop.headers);
    await eventually(async () => expect(await titleOf(await upsert('DETTOL HANDWASH 250ML', `FLAG-B${n++}`))).toBe('Dettol Handwash 250 ml'));
  });

  it('refuses an unknown rule name and hides enrichment from non-admins', async () => {
    const bad = await system.request(SET_RULES, { input: { brands: [], categoryKeywords: [], disabled: ['spelling'] } }, shop.headers);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const denied = await system.request(ENRICHMENT, { id: '00000000-0000-4000-8000-000000000000' }, shop.posHeaders);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('an external model’s proposals, always for review', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let model: Server;
  const asked: { url?: string; body: { model: string; messages: { role: string; content: string }[] } }[] = [];
  // Requests the model is to fail (503) before it answers again.
  let failures = 0;

  beforeAll(async () => {
    // An OpenAI-compatible endpoint replaying a chat completion in that API's format.
    const reply = readFileSync(join(__dirname, '..', 'fixtures', 'openai', 'chat-completion-enrichment.json'), 'utf8');
    model = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        asked.push({ url: request.url, body: JSON.parse(body) });
        if (failures > 0) {
          failures--;
          response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
        } else response.writeHead(200, { 'content-type': 'application/json' }).end(reply);
      });
    });
    await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
    // Failed requests are tried again after 50 ms, then 100, 200… (30 s by default).
    system = await startSupergraph({ subgraphOptions: { enrichmentModel: { baseUrl, model: 'gpt-4o-mini', apiKey: 'sk-test', retryMs: 50 } } });
    shop = await createShop(system);
  });
  afterAll(async () => {
    await system.stop();
    await new Promise<void>((resolve) => model.close(() => resolve()));
  });

  /** The fields the model proposed for a product, once it has (waits for the first proposal). */
  const modelFields = (id: string): Promise<string[]> =>
    eventually(async () => {
      const { productEnrichment } = await system.ok(ENRICHMENT, { id }, shop.headers);
      const fields = (productEnrichment?.review ?? []).filter((o: { rule: string }) => o.rule === 'model').map((o: { field: string }) => o.field);
      if (fields.length === 0) throw new Error(`no proposal for ${id} yet`);
      return fields;
    }, 15_000);
  /** The product of a sku a webhook wrote, once it is applied. */
  const productOfSku = (sku: string): Promise<{ id: string; title: string }> =>
    eventually(async () => {
      const { variant } = await system.ok('query ($sku: ID!) { variant(sku: $sku) { product { id title } } }', { sku }, shop.headers);
      if (!variant) throw new Error(`${sku} not applied yet`);
      return variant.product as { id: string; title: string };
    }, 15_000);

  it('asks the model about a product once the tenant enriches, and queues what it proposes', async () => {
    const upsert = async (title: string, sku: string) =>
      (await system.ok<{ upsertProduct: { id: string } }>(UPSERT_PRODUCT, { input: { title, variants: [{ sku, title: 'Default' }] } }, shop.headers)).upsertProduct.id;
    // Enrichment off for the tenant: the model is not asked.
    await upsert('NESCAFE GOLD INSTANT COFFEE 100GM', 'MOD-0');
    await system.ok('mutation { createCategory(input: { name: "Coffee" }) { id } }', {}, shop.headers);
    await system.ok(SET_RULES, { input: { brands: ['Nescafé'], categoryKeywords: [{ category: 'Tea', keywords: ['tea'] }] } }, shop.headers);
    const id = await upsert('NESCAFE GOLD INSTANT COFFEE 200GM', 'MOD-1');
    const review = await eventually(async () => {
      const { productEnrichment } = await system.ok(ENRICHMENT, { id }, shop.headers);
      if (!productEnrichment.review.some((o: { rule: string }) => o.rule === 'model')) throw new Error('no proposal yet');
      return productEnrichment.review;
    });
    expect(asked).toHaveLength(1);
    expect(asked[0]!.url).toBe('/v1/chat/completions');
    expect(JSON.parse(asked[0]!.body.messages[1]!.content)).toEqual({ title: 'Nescafé Gold Instant Coffee 200 g', brand: 'Nescafé', description: null, categories: ['Coffee'] });
    // The rules already cleaned title and brand as the model would: it adds a category and attributes, none applied.
    const reason = 'proposed by the model gpt-4o-mini';
    expect(review).toEqual([
      { rule: 'model', field: 'category', to: 'Coffee', confidence: 0, reason },
      { rule: 'model', field: 'attributes.size', to: '200 g', confidence: 0, reason },
      { rule: 'model', field: 'attributes.form', to: 'instant', confidence: 0, reason },
    ]);
    expect((await system.ok(PRODUCT, { id }, shop.headers)).product.category).toBeNull();
    const { applyEnrichment } = await system.ok(DECIDE('applyEnrichment'), { id, field: 'category' }, shop.headers);
    expect(applyEnrichment.applied).toContainEqual({ field: 'category', to: 'Coffee' });
    expect((await system.ok(PRODUCT, { id }, shop.headers)).product.category).toEqual({ name: 'Coffee' });
  });

  it('is asked about the products of a feed and of a merchant system too, once they are written', async () => {
    const before = asked.length;
    // A feed: its products are queued in the batch's transaction and asked about after it commits.
    const csv = ['handle,title,sku', 'model-a,NESCAFE GOLD INSTANT COFFEE 100GM,MODF-1', 'model-b,nescafe classic 50gm,MODF-2'].join('\n');
    await importFeed(system, shop, csv);
    const { products } = await system.ok('{ products(first: 10, query: "MODF") { edges { node { id title } } } }', {}, shop.headers);
    expect(products.edges.map((e: { node: { title: string } }) => e.node.title).sort()).toEqual(['Nescafé Classic 50 g', 'Nescafé Gold Instant Coffee 100 g']);
    for (const { node } of products.edges) expect(await modelFields(node.id)).toEqual(['title', 'category', 'attributes.size', 'attributes.form']);

    // A WooCommerce product (signed webhook, the REST API's product shape, no stock kept).
    const secret = 'woo-secret-0123456789abcdef';
    await system.ok('mutation ($input: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $input) { path } }', { input: { source: 'WOO', secret, currencyCode: 'EUR' } }, shop.headers);
    const body = JSON.stringify({
      id: 815, name: 'NESCAFE AZERA AMERICANO 90GM', slug: 'nescafe-azera-americano-90gm', type: 'simple', status: 'publish',
      date_modified_gmt: new Date(Date.now() - 60_000).toISOString().slice(0, 19), description: '<p>Barista style instant coffee.</p>', short_description: '',
      sku: 'MODW-1', price: '', regular_price: '', manage_stock: false, stock_quantity: null, stock_status: 'instock', variations: [], brands: [], categories: [],
    });
    const response = await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/woo/${shop.slug}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-wc-webhook-topic': 'product.created', 'x-wc-webhook-resource': 'product', 'x-wc-webhook-event': 'created', 'x-wc-webhook-delivery-id': randomUUID(), 'x-wc-webhook-signature': signShopify(body, secret) },
      body,
    });
    expect(response.status).toBe(202);
    const woo = await productOfSku('MODW-1');
    expect(woo.title).toBe('Nescafé Azera Americano 90 g');
    expect(await modelFields(woo.id)).toEqual(['title', 'category', 'attributes.size', 'attributes.form']);
    // One request per product, each about the product as the rules left it.
    const titles = asked.slice(before).map((a) => JSON.parse(a.body.messages[1]!.content).title).sort();
    expect(titles).toEqual(['Nescafé Azera Americano 90 g', 'Nescafé Classic 50 g', 'Nescafé Gold Instant Coffee 100 g']);
  });

  it('tries again when the model fails, and is asked about the items of a POS menu too', async () => {
    const before = asked.length;
    // The model is overloaded for two requests: the product is asked about a third time, and its proposals arrive.
    failures = 2;
    const { upsertProduct } = await system.ok<{ upsertProduct: { id: string } }>(UPSERT_PRODUCT, { input: { title: 'NESCAFE DOLCE GUSTO 160GM', variants: [{ sku: 'MODR-1', title: 'Default' }] } }, shop.headers);
    expect(await modelFields(upsertProduct.id)).toEqual(['title', 'category', 'attributes.size', 'attributes.form']);
    expect(failures).toBe(0);
    expect(asked.slice(before).map((a) => JSON.parse(a.body.messages[1]!.content).title)).toEqual(Array(3).fill('Nescafé Dolce Gusto 160 g'));

    // A POS menu.updated: its item is a merchant product like any other, asked about once written; its add-on is not.
    const secret = 'enrich-pos-secret-0123456789abcdef';
    await system.ok('mutation ($i: ConfigureWebhookSourceInput!) { configureWebhookSource(input: $i) { source } }', { i: { source: 'POS', secret, currencyCode: 'EUR' } }, shop.headers);
    const body = JSON.stringify({
      event_id: randomUUID(), type: 'menu.updated', occurred_at: new Date().toISOString(), location: shop.stores[1]!.code, time_zone: 'Europe/Berlin',
      items: [{ id: 'iced-coffee', sku: 'MODM-1', title: 'NESCAFE ICED COFFEE 250ML', price: '3.20', windows: [], modifier_groups: [{ name: 'Syrup', min: 0, max: 1, modifiers: [{ sku: 'MODM-SYR', name: 'Vanilla', price: '0.50' }] }] }],
    });
    const delivered = await fetch(`${new URL(system.gatewayUrl).origin}/webhooks/pos/${shop.slug}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signJson(body, secret) }, body });
    expect(delivered.status).toBe(202);
    const item = await productOfSku('MODM-1');
    expect(await modelFields(item.id)).toEqual(['title', 'category', 'attributes.size', 'attributes.form']);
    const addOn = (await system.ok('{ variant(sku: "MODM-SYR") { product { id } } }', {}, shop.headers)).variant.product.id;
    expect((await system.ok(ENRICHMENT, { id: addOn }, shop.headers)).productEnrichment?.review.filter((o: { rule: string }) => o.rule === 'model') ?? []).toEqual([]);
  });
});
