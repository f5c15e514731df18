import { existsSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { chromium, type Browser, type Page } from 'playwright-core';
import { exampleQuery } from '../../gateway/src/graphiql-example.js';
import { seedDemo, type DemoSeedResult } from '../../scripts/seed-demo.js';
import { CREATE_API_KEY, bearer } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/** Debian's chromium (CI installs it); CHROMIUM_PATH names another. Without one the suite is skipped. */
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));

/**
 * Each operation GraphiQL opens with, run in a real browser as its comment says (the headers and
 * variables it names typed into GraphiQL's editors), on the demo data; the result pane is read.
 */
(executablePath ? describe : describe.skip)('GraphiQL’s example operations in a real browser', () => {
  let system: TestSupergraph;
  let demo: DemoSeedResult;
  let browser: Browser;
  let page: Page;
  let partnerKey: string;
  /** The operations run below, by name: the last test checks none of GraphiQL's is left out. */
  const ran = new Set<string>();
  const s1 = () => demo.stores.find((s) => s.code === 'S1')!.id;

  beforeAll(async () => {
    system = await startSupergraph();
    demo = await seedDemo(system);
    partnerKey = (await system.ok(CREATE_API_KEY, { input: { name: 'partner', role: 'PARTNER', tenantId: demo.tenantId } }, bearer(system.platformApiKey))).createApiKey.key;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // The host `localhost` is the demo tenant's storefront, as with `npm start`.
    await page.goto(`http://localhost:${new URL(system.gatewayUrl).port}/graphql`);
    await page.waitForSelector('.graphiql-execute-button');
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await system?.stop();
  });

  /** The whole text of GraphiQL's result pane (its editor renders only the lines in view). */
  const resultPane = () =>
    page.evaluate(() => {
      const monaco = (window as unknown as { __MONACO: { editor: { getEditors(): { getDomNode(): HTMLElement | null; getValue(): string }[] } } }).__MONACO;
      return monaco.editor.getEditors().find((e) => e.getDomNode()?.closest('.result-window'))?.getValue() ?? '';
    });
  /** Waits until the pane stops changing: a subscription's snapshot has been shown to the end. */
  async function settled(): Promise<void> {
    let last = await resultPane();
    for (let stable = 0; stable < 8; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = await resultPane();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
  }
  async function run(operation: string): Promise<void> {
    ran.add(operation);
    await page.click('.graphiql-execute-button');
    await page.getByRole('menuitem', { name: operation }).click();
  }
  /** Types into GraphiQL's Variables or Headers editor, replacing what is there. */
  async function fill(tab: 'Variables' | 'Headers', value: object): Promise<void> {
    await page.getByRole('button', { name: tab, exact: true }).click();
    await page.locator('.graphiql-editor-tool .monaco-editor').filter({ visible: true }).first().click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify(value));
  }
  async function paneShows(check: (result: any) => boolean): Promise<any> {
    let last = '';
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      last = await resultPane();
      try {
        const result = JSON.parse(last);
        if (check(result)) return result;
      } catch {
        // Still streaming in, or empty.
      }
    }
    throw new Error(`the result pane never showed the expected result; it shows:\n${last}`);
  }

  it('StorefrontRead, with no header: tenant, products, categories and stock', async () => {
    await run('StorefrontRead');
    const { data, errors } = await paneShows((r) => r.data?.products || r.errors);
    expect(errors).toBeUndefined();
    expect(data.tenant).toEqual(expect.objectContaining({ slug: 'demo', stores: expect.arrayContaining([expect.objectContaining({ code: 'S1' })]) }));
    expect(data.products.edges).toHaveLength(5);
    expect(data.products.edges[0].node.variants[0].stockLevels.length).toBeGreaterThan(0);
  }, 60_000);

  it('PosLiveStock, with the pos key and a store: the stock first, then a change as it happens', async () => {
    await fill('Variables', { store: s1() });
    await fill('Headers', { Authorization: `Bearer ${demo.keys!.pos}` });
    await run('PosLiveStock');
    const first = await paneShows((r) => r.data?.stockChanged || r.errors);
    expect(first.errors).toBeUndefined();
    expect(first.data.stockChanged).toEqual(expect.objectContaining({ sku: expect.any(String), variant: expect.objectContaining({ price: expect.objectContaining({ currencyCode: 'EUR' }) }) }));
    await settled();
    const { variant } = await system.ok('query ($s: ID!) { variant(sku: "COF-001-S") { stock(storeId: $s) { available } } }', { s: s1() }, bearer(demo.keys!.admin));
    await system.ok('mutation ($s: ID!) { adjustStock(input: { sku: "COF-001-S", storeId: $s, delta: -1, reason: "graphiql test" }) { onHand } }', { s: s1() }, bearer(demo.keys!.admin));
    const change = await paneShows((r) => r.data?.stockChanged?.sku === 'COF-001-S' && r.data.stockChanged.available === variant.stock.available - 1);
    expect(change.data.stockChanged.variant.title).toBe('Espresso Beans Small');
    await page.click('.graphiql-execute-button'); // stops the subscription
  }, 90_000);

  it('PartnerIntrospection, with a partner key: the partner contract only', async () => {
    await fill('Headers', { Authorization: `Bearer ${partnerKey}` });
    await run('PartnerIntrospection');
    const { data, errors } = await paneShows((r) => r.data?.__schema || r.errors);
    expect(errors).toBeUndefined();
    const names = (data.__schema.types as { name: string }[]).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['Product', 'Variant']));
    expect(names).not.toContain('CreateTenantInput');
  }, 60_000);

  it('ran every operation GraphiQL opens with', () => {
    const operations = parse(exampleQuery).definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION && d.name ? [d.name.value] : []));
    expect(operations.length).toBeGreaterThan(0);
    expect([...ran].sort()).toEqual([...operations].sort());
  });
});
