import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createShop, UPSERT_PRODUCT, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const SET_RULES = 'mutation ($input: EnrichmentRulesInput!) { setEnrichmentRules(input: $input) { brands categoryKeywords { category keywords } disabled } }';
const ENRICHMENT = 'query ($id: ID!) { productEnrichment(id: $id) { applied { rule field from to } review { rule field to confidence reason } attributes { name value } synonyms } }';
const PRODUCT = 'query ($id: ID!) { product(id: $id) { title brand category { name } } }';
const DECIDE = (name: string) => `mutation ($id: ID!, $field: String!) { ${name}(productId: $id, field: $field) { review { field } applied { field to } } }`;

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
    const { importCatalogFeed } = await system.ok('mutation ($csv: String!) { importCatalogFeed(csv: $csv) { id } }', { csv }, shop.headers);
    await eventually(async () => {
      const { feedImport } = await system.ok('query ($id: ID!) { feedImport(id: $id) { status } }', { id: importCatalogFeed.id }, shop.headers);
      if (feedImport.status !== 'COMPLETED') throw new Error(feedImport.status);
    });
    const { products } = await system.ok('{ products(first: 50, query: "FEED") { edges { node { id title brand category { name } } } } }', {}, shop.headers);
    const byTitle = new Map(products.edges.map((e: { node: { title: string } }) => [e.node.title, e.node]));
    expect(byTitle.get('Nescafé Gold Instant Coffee 100 g')).toEqual(expect.objectContaining({ brand: 'Nescafé', category: { name: 'Coffee' } }));
    const penne = byTitle.get('Penne Spaghetti 500 g') as { id: string; category: null };
    expect(penne.category).toBeNull();
    expect((await system.ok(ENRICHMENT, { id: penne.id }, shop.headers)).productEnrichment.review).toEqual([expect.objectContaining({ field: 'category', to: 'Pasta' })]);
    expect(byTitle.get('Oat Drink 1 l')).toEqual(expect.objectContaining({ brand: 'Oatly', category: null }));
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

  beforeAll(async () => {
    // An OpenAI-compatible endpoint replaying a chat completion in that API's format.
    const reply = readFileSync(join(__dirname, '..', 'fixtures', 'openai', 'chat-completion-enrichment.json'), 'utf8');
    model = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        asked.push({ url: request.url, body: JSON.parse(body) });
        response.writeHead(200, { 'content-type': 'application/json' }).end(reply);
      });
    });
    await new Promise<void>((resolve) => model.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;
    system = await startSupergraph({ subgraphOptions: { enrichmentModel: { baseUrl, model: 'gpt-4o-mini', apiKey: 'sk-test' } } });
    shop = await createShop(system);
  });
  afterAll(async () => {
    await system.stop();
    await new Promise<void>((resolve) => model.close(() => resolve()));
  });

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
});
