import { Client } from 'pg';
import { embeddedWriteCounter, startEmbeddedPostgres, type EmbeddedPostgres } from '../../lib/db/embedded-postgres.js';
import { addProduct, createShop, setPrice, type Shop } from '../support/fixtures.js';
import { startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';

const QUOTE = `query ($input: QuoteInput!) { quote(input: $input) { lines { unitPrice { amount } } discountTotal { amount } taxTotal { amount } total { amount } appliedPromotions { name } } }`;
const CLAIM = `mutation ($input: QuoteInput!) { claimQuote(input: $input) { total { amount } } }`;
const CONFIGURE = `mutation ($input: ConfigureStorePricingInput!) { configureStorePricing(input: $input) { storeId } }`;
const CREATE_PROMOTION = `mutation ($input: CreatePromotionInput!) { createPromotion(input: $input) { id } }`;
const SET_TAX = `mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { name } }`;

// On an embedded PGlite of the pricing service's own process, a preview quote asked again while
// nothing that may write has begun in the database gets the answer it got, without a statement
// (decision 0050). Every write must still be seen by the very next quote. The run's shared
// embedded database lives in jest's global setup, another process, where the write counter does
// not reach: this suite starts a database of its own in the test's process, whatever the pass.
describe('preview quotes on an embedded database of this process', () => {
  let db: EmbeddedPostgres;
  let system: TestSupergraph;
  let shop: Shop;
  let quoteStatements = 0;

  beforeAll(async () => {
    db = await startEmbeddedPostgres();
    system = await startSupergraph({ env: { DATABASE_URL: db.url } });
    shop = await createShop(system);
    await addProduct(system, shop, 'Cocoa', ['COC-1']);
    await system.ok(CONFIGURE, { input: { storeId: shop.storeId, currencyCode: 'EUR', pricesIncludeTax: false } }, shop.headers);
    await setPrice(system, shop, 'COC-1', '4.00');
    // Counts the quote statements the pricing service sends (its prepared rules statement).
    const source = system.dataSources.pricing as unknown as { createQueryRunner: (...args: unknown[]) => { connect: () => Promise<{ query: (...args: unknown[]) => unknown }> } };
    const create = source.createQueryRunner.bind(source);
    source.createQueryRunner = (...args: unknown[]) => {
      const runner = create(...args);
      const connect = runner.connect.bind(runner);
      runner.connect = async () => {
        const client = await connect();
        const query = client.query.bind(client);
        const counted = (...args: unknown[]) => {
          if (/EXECUTE quote_rules_/.test(String(args[0]))) quoteStatements++;
          return query(...args);
        };
        return new Proxy(client, { get: (target, key) => (key === 'query' ? counted : Reflect.get(target, key)) });
      };
      return runner;
    };
  }, 180_000);
  afterAll(async () => {
    await system?.stop();
    await db?.stop();
  });

  const quote = async () => {
    const { quote: q } = await system.ok(QUOTE, { input: { storeId: shop.storeId, lines: [{ sku: 'COC-1', quantity: 2 }] } }, shop.posHeaders);
    return { unit: q.lines[0].unitPrice.amount, discount: q.discountTotal.amount, tax: q.taxTotal.amount, total: q.total.amount, promotions: q.appliedPromotions.map((p: { name: string }) => p.name).sort() };
  };

  it('the thread counts what may write, not a read-only quote read', async () => {
    const counter = embeddedWriteCounter(db.url)!;
    expect(counter).toBeInstanceOf(Int32Array);
    expect(embeddedWriteCounter('postgres://commerce:commerce@127.0.0.1:1/none')).toBeUndefined();
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('PREPARE probe_read AS SELECT $1::text AS a, $2::text AS b');
      const counted = async (text: string) => {
        const before = Atomics.load(counter, 0);
        await client.query(text).catch(() => client.query('ROLLBACK'));
        return Atomics.load(counter, 0) - before;
      };
      const settings = "SELECT set_config('app.tenant_id', 'it''s', true), set_config('statement_timeout', '5000', true)";
      // The system's own workers share this database and may send a message meanwhile (13 once in a
      // loaded CI run): of five tries, one at least counts nothing; were the read counted, none would.
      const tries: number[] = [];
      for (let k = 0; k < 5 && !tries.includes(0); k++) tries.push(await counted(`START TRANSACTION READ ONLY; ${settings}; EXECUTE probe_read('x'';y', NULL); COMMIT`));
      expect(tries).toContain(0);
      // Anything else counts, even when it only reads.
      expect(await counted('SELECT 1')).toBeGreaterThan(0);
      expect(await counted(`START TRANSACTION READ ONLY; SET TRANSACTION READ WRITE; ${settings}; EXECUTE probe_read('x', NULL); COMMIT`)).toBeGreaterThan(0);
      expect(await counted(`START TRANSACTION READ ONLY; SELECT set_config('transaction_read_only', 'off', true); EXECUTE probe_read('x', NULL); COMMIT`)).toBeGreaterThan(0);
      expect(await counted(`START TRANSACTION READ ONLY; ${settings}; EXECUTE probe_read(E'x\\\\', NULL); COMMIT`)).toBeGreaterThan(0);
      expect(await counted(`START TRANSACTION READ ONLY; ${settings}; EXECUTE probe_read('x', NULL); COMMIT; CREATE TABLE probe_t (x int); START TRANSACTION READ ONLY; COMMIT`)).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });

  it('answers a repeated quote without a statement, and every kind of write is seen by the very next quote', async () => {
    expect(await quote()).toEqual({ unit: '4.00', discount: '0.00', tax: '0.00', total: '8.00', promotions: [] });
    // Background work (relays, schedules) may write between two quotes; at least one of 20 is answered as it was.
    let unsent = 0;
    for (let i = 0; i < 20 && unsent === 0; i++) {
      const before = quoteStatements;
      expect(await quote()).toEqual({ unit: '4.00', discount: '0.00', tax: '0.00', total: '8.00', promotions: [] });
      if (quoteStatements === before) unsent++;
    }
    expect(unsent).toBe(1);
    // Each write has committed when its mutation answers: the next quote sees it, with no wait.
    await setPrice(system, shop, 'COC-1', '5.00'); // a base price: not a rule, no rules generation
    expect(await quote()).toEqual({ unit: '5.00', discount: '0.00', tax: '0.00', total: '10.00', promotions: [] });
    await system.ok(SET_TAX, { input: { storeId: shop.storeId, name: 'Cocoa levy', rate: '10' } }, shop.headers);
    expect(await quote()).toEqual({ unit: '5.00', discount: '0.00', tax: '1.00', total: '11.00', promotions: [] });
    await system.ok(CREATE_PROMOTION, { input: { name: 'First cocoa', kind: 'PERCENT_OFF', value: '10', appliesTo: { skus: ['COC-1'] }, usageLimit: 1, stackable: true } }, shop.headers);
    expect(await quote()).toEqual({ unit: '5.00', discount: '1.00', tax: '0.90', total: '9.90', promotions: ['First cocoa'] });
    expect(await quote()).toEqual({ unit: '5.00', discount: '1.00', tax: '0.90', total: '9.90', promotions: ['First cocoa'] });
    // A claim moves only the promotion's use count: the next preview no longer applies it.
    await system.ok(CLAIM, { input: { storeId: shop.storeId, lines: [{ sku: 'COC-1', quantity: 2 }] } }, shop.posHeaders);
    expect(await quote()).toEqual({ unit: '5.00', discount: '0.00', tax: '1.00', total: '11.00', promotions: [] });
  });
});
