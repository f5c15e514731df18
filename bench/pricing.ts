/**
 * `npm run bench:pricing` (also `bench:quote`): the issue's quote case, a 20-line cart with 50
 * active automatic promotions and 3 price lists (plus 3 tax rates), priced three ways and timed
 * one request at a time: the engine alone (pure CPU), the pricing subgraph over HTTP (signed as
 * the gateway signs it: database reads + engine), and `quote` through the gateway. Prints p50,
 * p95 and p99 in milliseconds against the targets (pricing p95 < 10 ms, gateway p95 < 25 ms).
 * Runs on the embedded defaults, or on DATABASE_URL / REDIS_URL. It also counts the SQL
 * statements the pricing subgraph's quote transaction sends (BEGIN with its settings and COMMIT
 * included).
 *
 * Options: --requests 300 --warmup 50
 *   --postgres <url> [--redis <url>]  run on both databases, one child process each (embedded
 *                                      PGlite first, then that PostgreSQL and Redis), and print both
 *   --compare <checkout> [--rounds 3] also run this bench against another checkout's code (say a
 *                                      worktree of the old code; a copy of this file is put in its
 *                                      bench/ for the run), alternating with this one round by round
 *                                      on each database, and print the ratios of p50, p95 and CPU
 *                                      per request: on a shared, noisy machine only a side-by-side
 *                                      ratio means much
 *   --race 100 --race-limit 10         the coupon race after the timed runs: that many concurrent claimQuote
 *                                      of a coupon with that many uses, through the gateway (exactly the
 *                                      limit must win; anything else fails the bench)
 *   --profile <prefix>                 write a V8 CPU profile of each timed phase (the whole process:
 *                                      gateway, subgraphs, PGlite, client) to <prefix>-pricing.cpuprofile
 *                                      and <prefix>-gateway.cpuprofile (open in Chrome DevTools)
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join, resolve } from 'node:path';
import { CONTEXT_HEADER, signContext } from '../lib/tenant/signed-context.js';
import { graphqlRequest } from '../scripts/graphql-request.js';
import { benchTenant, startBenchSystem } from './bench-tenant.js';
import { priceCart, type PricingInput, type PromotionKind } from '../subgraphs/pricing/src/engine/engine.js';
import { benchArgs } from './args.js';

const LINES = 20;
const PROMOTIONS = 50;
const KINDS: PromotionKind[] = ['PERCENT_OFF', 'AMOUNT_OFF', 'FIXED_PRICE', 'BUY_X_GET_Y', 'BUNDLE'];
const QUOTE = `query ($input: QuoteInput!) { quote(input: $input) {
  lines { sku unitPrice { amount } adjustments { promotionId amount { amount } } taxes { name amount { amount } } total { amount } }
  subtotal { amount } discountTotal { amount } taxTotal { amount } total { amount currencyCode } token } }`;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
function report(name: string, { samples, cpuMs }: Timed, target?: number) {
  const s = [...samples].sort((a, b) => a - b);
  const p95 = pct(s, 95);
  const verdict = target === undefined ? '' : p95 < target ? `  (target p95 < ${target} ms: met)` : `  (target p95 < ${target} ms: MISSED)`;
  console.log(`${name.padEnd(34)} n=${s.length}  p50 ${pct(s, 50).toFixed(2)} ms  p95 ${p95.toFixed(2)} ms  p99 ${pct(s, 99).toFixed(2)} ms  cpu ${cpuMs.toFixed(2)} ms/request${verdict}`);
}

/**
 * Latencies, and the CPU time this process (gateway, subgraphs, the embedded database's thread and
 * this client: all in it) spent per request: on a loaded machine the latency mostly measures the
 * wait for a core, the CPU time much less so.
 */
interface Timed {
  samples: number[];
  cpuMs: number;
}

async function timed(n: number, warmup: number, run: () => Promise<unknown> | unknown): Promise<Timed> {
  for (let i = 0; i < warmup; i++) await run();
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  const used = process.cpuUsage(cpu);
  return { samples, cpuMs: (used.user + used.system) / 1000 / n };
}

/** Runs `run` under the V8 profiler of this process when `file` is given, and writes the profile there. */
async function profiled<T>(file: string | undefined, run: () => Promise<T>): Promise<T> {
  if (!file) return run();
  const session = new Session();
  session.connect();
  const post = (method: string) => new Promise<unknown>((done, fail) => session.post(method, (error, result) => (error ? fail(error) : done(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
}

/** The same shape as the seeded tenant's rules, for the engine alone. */
function engineInput(skus: string[]): PricingInput {
  return {
    now: new Date(),
    storeId: 's1',
    currencyCode: 'EUR',
    digits: 2,
    pricesIncludeTax: false,
    channel: 'web',
    customerGroup: null,
    lines: skus.map((sku, i) => ({ sku, quantity: 1 + (i % 7) })),
    couponCodes: [],
    basePrices: new Map(skus.map((sku, i) => [sku, BigInt(500 + i * 37)])),
    priceLists: ['store', 'all', 'web'].map((id, k) => ({
      id, currencyCode: 'EUR', storeIds: id === 'store' ? ['s1'] : [], channel: id === 'web' ? 'web' : null, customerGroup: null, priority: k, startsAt: null, endsAt: null,
      prices: skus.flatMap((sku, i) => [{ sku, amount: BigInt(480 + i * 35 - k * 5), minQuantity: 1 }, { sku, amount: BigInt(450 + i * 33 - k * 5), minQuantity: 5 }]),
    })),
    promotions: Array.from({ length: PROMOTIONS }, (_, i) => ({
      id: `p${String(i).padStart(2, '0')}`, name: `promo ${i}`, kind: KINDS[i % 5]!, value: ['5', '1.00', '4.00', '1', '9.00'][i % 5]!,
      appliesTo: { skus: [skus[i % LINES]!, skus[(i * 7) % LINES]!], categoryIds: [], brands: [] }, minQuantity: i % 5 === 4 ? 2 : i % 5 === 3 ? 2 : null, minSubtotal: null,
      couponCode: null, usageLimit: null, usageCount: 0, perCustomerLimit: null, customerUsageCount: 0, stackable: i % 2 === 0, priority: i % 4, startsAt: null, endsAt: null,
    })),
    taxRates: [{ name: 'state', rate: '6.25', category: null }, { name: 'county', rate: '1', category: null }, { name: 'city', rate: '2.375', category: null }],
    items: new Map(),
  };
}

/**
 * Counts the statements of each quote transaction of a data source (one query runner is one
 * transaction) and the time the quote waited for them: a transaction is a quote's when one of its
 * statements reads the promotions a cart may use (the promotion query of the loader, old or new,
 * or the prepared rules statement's EXECUTE), so the background workers' passes are left out. The
 * text of the last quote's statements is kept for `explainRules`.
 */
function countStatements(dataSource: { createQueryRunner: (...args: never[]) => { query: (...args: never[]) => Promise<unknown> } }) {
  const runners: { statements: number; quote: boolean; ms: number }[] = [];
  const texts: string[] = [];
  let on = false;
  const create = dataSource.createQueryRunner.bind(dataSource);
  dataSource.createQueryRunner = ((...args: never[]) => {
    const runner = create(...args);
    if (!on) return runner;
    const counted = { statements: 0, quote: false, ms: 0 };
    runners.push(counted);
    const count = (text: unknown) => {
      counted.statements++;
      if (/"promotion" p\b[\s\S]*p\.coupon_code = ANY|EXECUTE quote_rules_/.test(String(text))) {
        counted.quote = true;
        texts.push(String(text));
      }
    };
    const timedQuery = (sent: (...a: unknown[]) => unknown) => (...a: unknown[]) => {
      count(a[0]);
      const started = performance.now();
      const result = sent(...a);
      return result instanceof Promise ? result.finally(() => (counted.ms += performance.now() - started)) : result;
    };
    // Every statement reaches the driver's client that `connect` answers: TypeORM's `query` asks
    // it for the client each time, and a read sent in one round trip (readInOneRoundTrip) uses it.
    const withConnect = runner as unknown as { connect?: () => Promise<{ query: (...a: unknown[]) => unknown }> };
    const connect = withConnect.connect?.bind(runner);
    if (connect) {
      withConnect.connect = async () => {
        const client = await connect();
        const sent = client.query.bind(client);
        return new Proxy(client, { get: (target, key) => (key === 'query' ? timedQuery(sent) : Reflect.get(target, key)) });
      };
    }
    return runner;
  }) as typeof dataSource.createQueryRunner;
  return {
    start: () => { runners.length = 0; texts.length = 0; on = true; },
    stop: () => {
      on = false;
      const quotes = runners.filter((r) => r.quote);
      const counts = quotes.map((r) => r.statements);
      const ms = quotes.map((r) => r.ms).sort((a, b) => a - b);
      return { quotes: quotes.length, min: Math.min(...counts), max: Math.max(...counts), others: runners.length - quotes.length, sqlP50: ms.length ? pct(ms, 50) : NaN, texts: [...texts] };
    },
  };
}

/**
 * EXPLAIN ANALYZE of the quote's rules statement as the service last sent it (in a read-only
 * transaction with the same settings), `times` times: the medians of PostgreSQL's planning and
 * execution times. Inlined values (the old code) are planned on every call; a prepared statement's
 * EXECUTE (this code) reuses its plan. On PostgreSQL the statement is prepared on the connection
 * used here first (its name is the service's own, so a connection the service already prepared it
 * on answers 42P05, which is fine).
 */
async function explainRules(dataSource: { createQueryRunner: () => { connect: () => Promise<unknown>; release: () => Promise<void> } }, texts: string[], times: number) {
  const last = texts[texts.length - 1];
  if (!last) return null;
  const prepareText = texts.find((t) => /PREPARE quote_rules_/.test(t));
  const settings = last.slice(0, last.indexOf("'statement_timeout'"));
  const prefix = last.slice(0, last.indexOf('; ', settings.length) + 2);
  let body = last.slice(prefix.length, last.lastIndexOf('; COMMIT'));
  // The last quote may have been the first on its connection: its text prepares, then executes.
  if (body.startsWith('PREPARE ')) body = body.slice(body.lastIndexOf('; EXECUTE ') + 2);
  const runner = dataSource.createQueryRunner();
  const client = (await runner.connect()) as { query(text: string): Promise<unknown> };
  try {
    if (prepareText) {
      const prepare = prepareText.slice(prepareText.indexOf('PREPARE quote_rules_'), prepareText.lastIndexOf('; EXECUTE '));
      await client.query(prepare).catch((error: { code?: string }) => { if (error.code !== '42P05') throw error; });
    }
    const planning: number[] = [];
    const execution: number[] = [];
    for (let i = 0; i < times; i++) {
      const results = (await client.query(`${prefix}EXPLAIN (ANALYZE, FORMAT JSON) ${body}; COMMIT`)) as { rows: { 'QUERY PLAN': unknown }[] }[];
      const raw = results[2]!.rows[0]!['QUERY PLAN'];
      const [plan] = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { 'Planning Time': number; 'Execution Time': number }[];
      planning.push(plan!['Planning Time']);
      execution.push(plan!['Execution Time']);
    }
    const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 50);
    return { form: /^EXECUTE /.test(body) ? 'prepared, EXECUTE' : 'values inlined', planning: median(planning), execution: median(execution) };
  } finally {
    await runner.release();
  }
}

const LINE = /^(pricing subgraph|quote through the gateway).* p50 ([\d.]+) ms\s+p95 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+cpu ([\d.]+) ms/;

/**
 * Runs this bench file in a child process on one database, against a checkout's code: for another
 * checkout, a copy of this file is put in its bench/ for the run (its imports are relative, so the
 * copy measures that checkout's subgraphs and gateway), and removed after. Its lines, and the
 * figures parsed from them (p50, p95, p99, CPU ms per request).
 */
function runChild(checkout: string, env: NodeJS.ProcessEnv, args: string[]) {
  const own = resolve(checkout) === resolve(__dirname, '..');
  const file = own ? __filename : join(checkout, 'bench', `.pricing-compare-${process.pid}.ts`);
  if (!own) copyFileSync(__filename, file);
  try {
    const out = execFileSync(process.execPath, [join(checkout, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file, ...args], { cwd: checkout, env, encoding: 'utf8', maxBuffer: 1 << 24 });
    const figures = new Map<string, number[]>();
    for (const line of out.split('\n')) {
      const m = LINE.exec(line);
      if (m) figures.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])]);
    }
    return { out, figures };
  } finally {
    if (!own) rmSync(file, { force: true });
  }
}

/** `--postgres` / `--compare`: this bench (and another checkout's) as child processes, per database. */
function orchestrate(values: { requests: string; warmup: string; postgres?: string; redis?: string; compare?: string; rounds: string; race: string; 'race-limit': string }) {
  const databases: [string, NodeJS.ProcessEnv][] = [['PGlite', { ...process.env, DATABASE_URL: undefined, REDIS_URL: undefined }]];
  if (values.postgres) databases.push(['PostgreSQL', { ...process.env, DATABASE_URL: values.postgres, REDIS_URL: values.redis ?? process.env.REDIS_URL }]);
  for (const env of databases.map(([, e]) => e)) for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const args = ['--requests', values.requests, '--warmup', values.warmup, '--race', values.race, '--race-limit', values['race-limit']];
  const here = join(__dirname, '..');
  const rounds = values.compare ? Number(values.rounds) : 1;
  const load = () => readLoad();
  for (const [db, env] of databases) {
    const mine: Map<string, number[]>[] = [];
    const theirs: Map<string, number[]>[] = [];
    for (let r = 0; r < rounds; r++) {
      console.log(`\n== ${db}, round ${r + 1}/${rounds}: this checkout (load ${load()})`);
      const a = runChild(here, env, args);
      process.stdout.write(a.out.split('\n').filter((l) => !l.startsWith('>') && l.trim()).join('\n') + '\n');
      mine.push(a.figures);
      if (values.compare) {
        console.log(`== ${db}, round ${r + 1}/${rounds}: ${values.compare} (load ${load()})`);
        const b = runChild(values.compare, env, args);
        process.stdout.write(b.out.split('\n').filter((l) => LINE.test(l) || l.startsWith('SQL') || l.startsWith('coupon race')).join('\n') + '\n');
        theirs.push(b.figures);
      }
    }
    if (!values.compare) continue;
    console.log(`\n== ${db}: this checkout / ${values.compare}, per round (p50, p95 and CPU per request ratios; below 1 is faster)`);
    for (const path of ['pricing subgraph', 'quote through the gateway']) {
      const ratios = mine.map((m, i) => {
        const x = m.get(path);
        const y = theirs[i]!.get(path);
        return x && y ? `${(x[0]! / y[0]!).toFixed(2)} / ${(x[1]! / y[1]!).toFixed(2)} / ${(x[3]! / y[3]!).toFixed(2)}` : 'n/a';
      });
      console.log(`${path.padEnd(28)} ${ratios.join('   ')}`);
    }
  }
}

/**
 * The coupon race: `claims` concurrent `claimQuote` of a coupon with `limit` uses, through the
 * gateway. Exactly `limit` must be priced with it and the rest answered COUPON_EXHAUSTED, with the
 * promotion's usageCount at `limit`; anything else is printed and fails the bench.
 */
async function couponRace(gatewayUrl: string, ok: (q: string, v: Record<string, unknown>, h: Record<string, string>) => Promise<any>, headers: Record<string, string>, storeId: string, sku: string, claims: number, limit: number) {
  const code = `RACE${process.pid}`;
  const { createPromotion } = await ok('mutation ($input: CreatePromotionInput!) { createPromotion(input: $input) { id } }', {
    input: { name: 'race', kind: 'AMOUNT_OFF', value: '0.10', currencyCode: 'EUR', couponCode: code, usageLimit: limit, stackable: true },
  }, headers);
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: claims }, () =>
    graphqlRequest(gatewayUrl, 'mutation ($input: QuoteInput!) { claimQuote(input: $input) { appliedPromotions { id } } }', { input: { storeId, lines: [{ sku, quantity: 1 }], couponCodes: [code] } }, headers)));
  const ms = performance.now() - started;
  const outcomes: Record<string, number> = {};
  for (const r of results) {
    const applied = !r.errors && (r.data as any).claimQuote.appliedPromotions.some((p: { id: string }) => p.id === createPromotion.id);
    const outcome = r.errors ? String(r.errors[0]?.extensions?.code ?? r.errors[0]?.message) : applied ? 'priced with the coupon' : 'priced without it';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  const { node } = await ok('query ($id: ID!) { node(id: $id) { ... on Promotion { usageCount } } }', { id: createPromotion.id }, headers);
  const exact = outcomes['priced with the coupon'] === limit && outcomes.COUPON_EXHAUSTED === claims - limit && node.usageCount === limit;
  console.log(`coupon race: ${claims} concurrent claimQuote of a ${limit}-use coupon → ${Object.entries(outcomes).map(([k, v]) => `${v} ${k}`).join(', ')}; usageCount ${node.usageCount}; ${ms.toFixed(0)} ms in all (${exact ? 'exact' : 'NOT EXACT'})`);
  if (!exact) process.exitCode = 1;
}

function readLoad(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/.*load average:\s*/, '');
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: {
      requests: { type: 'string', default: '300' },
      warmup: { type: 'string', default: '50' },
      postgres: { type: 'string' },
      redis: { type: 'string' },
      compare: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      profile: { type: 'string' },
      race: { type: 'string', default: '100' },
      'race-limit': { type: 'string', default: '10' },
    },
  });
  if (values.postgres || values.compare) return orchestrate(values);
  console.log(`database: ${process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite'}; load average ${readLoad()}`);
  const n = Number(values.requests);
  const warmup = Number(values.warmup);
  const skus = Array.from({ length: LINES }, (_, i) => `BENCH-${String(i).padStart(2, '0')}`);

  report('engine alone (priceCart)', await timed(n * 10, warmup * 10, () => priceCart(engineInput(skus))));

  const system = await startBenchSystem();
  try {
    const { ok, tenantId, storeId, admin } = await benchTenant(system);
    const engine = engineInput(skus);
    await ok('mutation ($input: UpsertProductInput!) { upsertProduct(input: $input) { id } }', { input: { title: 'Bench', variants: skus.map((sku) => ({ sku, title: sku })) } }, admin);
    // The catalog's events reach pricing a moment later (one per variant, on a loaded machine
    // seconds apart): retry each price until its sku is known.
    for (const sku of skus) {
      for (let i = 0; ; i++) {
        const set = await graphqlRequest(system.gatewayUrl, 'mutation ($input: SetPriceInput!) { setPrice(input: $input) { version } }', { input: { sku, storeId, amount: (Number(engine.basePrices.get(sku)) / 100).toFixed(2), currencyCode: 'EUR' } }, admin);
        if (!set.errors) break;
        if (i > 300) throw new Error(JSON.stringify(set.errors));
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await ok('mutation ($input: ConfigureStorePricingInput!) { configureStorePricing(input: $input) { storeId } }', { input: { storeId, currencyCode: 'EUR', pricesIncludeTax: false } }, admin);
    for (const t of engine.taxRates) await ok('mutation ($input: SetTaxRateInput!) { setTaxRate(input: $input) { name } }', { input: { storeId, name: t.name, rate: t.rate } }, admin);
    for (const list of engine.priceLists) {
      const { createPriceList } = await ok('mutation ($input: CreatePriceListInput!) { createPriceList(input: $input) { id } }', {
        input: { name: list.id, currencyCode: 'EUR', storeIds: list.storeIds.length ? [storeId] : [], channel: list.channel, priority: list.priority },
      }, admin);
      await ok('mutation ($input: SetPriceListPricesInput!) { setPriceListPrices(input: $input) { id } }', {
        input: { priceListId: createPriceList.id, prices: list.prices.map((p) => ({ sku: p.sku, amount: (Number(p.amount) / 100).toFixed(2), minQuantity: p.minQuantity })) },
      }, admin);
    }
    for (const p of engine.promotions) {
      const money = p.kind === 'AMOUNT_OFF' || p.kind === 'FIXED_PRICE' || p.kind === 'BUNDLE';
      await ok('mutation ($input: CreatePromotionInput!) { createPromotion(input: $input) { id } }', {
        input: { name: p.name, kind: p.kind, value: p.value, currencyCode: money ? 'EUR' : null, appliesTo: { skus: p.appliesTo.skus }, minQuantity: p.minQuantity, stackable: p.stackable, priority: p.priority },
      }, admin);
    }
    const variables = { input: { storeId, channel: 'web', lines: engine.lines } };
    // Counted from the first quote on, so that a prepared statement's PREPARE is seen too.
    const statements = countStatements(system.dataSources.pricing as never);
    statements.start();
    const gatewayAnswer = await ok(QUOTE, variables, admin);
    const engineAnswer = priceCart(engine);
    console.log(`quote: ${LINES} lines, ${PROMOTIONS} promotions, 3 price lists, 3 tax rates → total ${gatewayAnswer.quote.total.amount} EUR (engine alone: ${(Number(engineAnswer.total) / 100).toFixed(2)}; the stored promotions have random ids, which order those of equal priority, so the totals differ run to run)`);

    const pricingUrl = system.subgraphUrls.pricing;
    const direct = async () => {
      const headers = { 'content-type': 'application/json', [CONTEXT_HEADER]: signContext({ tenantId, roles: ['admin'], requestId: randomUUID() }, { query: QUOTE, variables }, system.subgraphSecret) };
      const res = await fetch(pricingUrl, { method: 'POST', headers, body: JSON.stringify({ query: QUOTE, variables }) });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
    };
    for (let i = 0; i < 50; i++) await direct();
    const counted = statements.stop();
    console.log(`SQL round trips per quote: ${counted.min === counted.max ? counted.min : `${counted.min}–${counted.max}`} (over ${counted.quotes} quotes; BEGIN and COMMIT included; ${counted.others} background transactions meanwhile not counted)`);
    const explained = await explainRules(system.dataSources.pricing as never, counted.texts, 9);
    console.log(`SQL time per quote (the service waiting for its statements, one quote at a time): p50 ${counted.sqlP50.toFixed(2)} ms; rules statement ${explained ? `(${explained.form}), EXPLAIN ANALYZE medians of 9: planning ${explained.planning.toFixed(2)} ms, execution ${explained.execution.toFixed(2)} ms` : 'not seen'}`);
    const profile = values.profile;
    report('pricing subgraph (HTTP, signed)', await profiled(profile && `${profile}-pricing.cpuprofile`, () => timed(n, warmup, direct)), 10);
    report('quote through the gateway', await profiled(profile && `${profile}-gateway.cpuprofile`, () => timed(n, warmup, () => ok(QUOTE, variables, admin))), 25);
    await couponRace(system.gatewayUrl, ok, admin, storeId, skus[0]!, Number(values.race), Number(values['race-limit']));
  } finally {
    await system.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
