import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CREATE_API_KEY, addProduct, bearer, createShop, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

/** Debian's chromium (CI installs it); CHROMIUM_PATH names another. Without one the suite is skipped. */
const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const ARTIFACTS = join(__dirname, '..', 'artifacts');

(executablePath ? describe : describe.skip)('the live stock board in a real browser', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let browser: Browser;
  let posKey: string;

  beforeAll(async () => {
    system = await startSupergraph();
    shop = await createShop(system);
    const teaId = (await addProduct(system, shop, 'Board Tea', ['BRD-1', 'BRD-2'])).id;
    await setPrice(system, shop, 'BRD-1', '4.20');
    await receiveStock(system, shop, 'BRD-1', 12);
    await receiveStock(system, shop, 'BRD-2', 3);
    // A menu item: BRD-1's product takes a milk from an add-on product's skus, priced in pricing.
    await addProduct(system, shop, 'Board Milk', ['BRD-OAT']);
    await setPrice(system, shop, 'BRD-OAT', '0.40');
    await system.ok('mutation ($p: ID!, $g: [ModifierGroupInput!]!) { setModifierGroups(productId: $p, groups: $g) { id } }', {
      p: teaId, g: [{ name: 'Milk', minSelections: 0, maxSelections: 1, modifiers: [{ sku: 'BRD-OAT', name: 'Oat milk' }] }],
    }, shop.headers);
    posKey = (await system.ok(CREATE_API_KEY, { input: { name: 'board till', role: 'POS', tenantId: shop.tenantId } }, bearer(system.platformApiKey))).createApiKey.key;
    browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await system.stop();
  });

  it('shows a store’s stock and prices, and a change through the API within a second', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 600 } });
    const origin = new URL(system.gatewayUrl).origin;
    await page.goto(`${origin}/board`);
    await page.fill('#key', posKey);
    await page.click('#connect');
    await page.selectOption('#store', shop.storeId);
    await page.waitForSelector('#status[data-state="live"]');
    const row = (sku: string) => page.locator(`tr[data-sku="${sku}"]`);
    await row('BRD-1').locator('.available').getByText('12').waitFor();
    expect(await row('BRD-1').locator('.title').textContent()).toBe('Board Tea BRD-1');
    expect(await row('BRD-1').locator('.price').textContent()).toBe('4.20 EUR');
    expect(await row('BRD-1').locator('.modifiers').textContent()).toBe('Milk (0–1): Oat milk +0.40');
    expect(await row('BRD-2').locator('.modifiers').textContent()).toBe('Milk (0–1): Oat milk +0.40');
    expect(await row('BRD-2').locator('.available').textContent()).toBe('3');

    await system.ok('mutation ($i: AdjustStockInput!) { adjustStock(input: $i) { available } }', { i: { sku: 'BRD-1', storeId: shop.storeId, delta: -5 } }, shop.headers);
    // The requirement: the row changes within a second of the write.
    await row('BRD-1').locator('.available').getByText('7').waitFor({ timeout: 1_000 });
    expect(await row('BRD-1').getAttribute('class')).toContain('changed');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'board.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'board.png'))).toBe(true);
    await page.close();
  });
});

describe('pages the gateway serves to people', () => {
  let system: TestSupergraph;
  beforeAll(async () => {
    system = await startSupergraph();
  });
  afterAll(() => system.stop());

  it('serves the board with its script and a strict content security policy', async () => {
    const origin = new URL(system.gatewayUrl).origin;
    const page = await fetch(`${origin}/board`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('<script src="/board/board.js">');
    expect((await fetch(`${origin}/board/graphql-ws.js`)).status).toBe(200);
    expect(await (await fetch(`${origin}/board/board.js`)).text()).toContain('stockChanged');
  });

  it('opens GraphiQL with an example for each kind of user', async () => {
    const html = await (await fetch(system.gatewayUrl, { headers: { accept: 'text/html' } })).text();
    for (const name of ['StorefrontRead', 'PosLiveStock', 'PartnerIntrospection']) expect(html).toContain(name);
  });
});
