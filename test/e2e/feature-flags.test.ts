import { randomBytes } from 'node:crypto';
import { bucketOf } from '../../lib/flags/definition.js';
import { graphqlOk, graphqlRequest } from '../../scripts/graphql-request.js';
import { addProduct, createShop, quoted, receiveStock, setPrice, type Shop } from '../support/fixtures.js';
import { eventually, startSupergraph, type TestSupergraph } from '../support/start-supergraph.js';
import { createClient } from 'redis';
import { startRedisProcess, startSystemProcesses, type RedisProcess, type SystemProcesses } from '../support/drills/system-processes.js';

const SET = `mutation ($i: FeatureFlagInput!) { setFeatureFlag(input: $i) {
  key enabled defaultVariant revision updatedAt variants { name value } rules { storeIds roles percentage variant } } }`;
const LIST = '{ featureFlags { key enabled defaultVariant revision variants { name value } rules { storeIds roles percentage variant } } }';
const DELETE = 'mutation ($key: String!) { deleteFeatureFlag(key: $key) }';
const EVALUATE = `query ($key: String!, $storeId: ID, $subject: String) {
  featureFlagEvaluation(key: $key, storeId: $storeId, subject: $subject) { key value variant reason errorCode ruleIndex bucket subject } }`;
const PLACE = 'mutation ($i: PlaceOrderInput!) { placeOrder(input: $i) { id workflowVersion } }';
const codes = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.code);
const fields = (result: { errors?: { extensions?: Record<string, unknown> }[] }) => (result.errors ?? []).map((e) => e.extensions?.field);

/** A canary of workflow v3 over v2: `percentage` of new orders (by order id) start on v3. */
const canary = (percentage: number, extra: Record<string, unknown> = {}) => ({
  key: 'order-workflow-version',
  enabled: true,
  variants: [{ name: 'v1', value: '1' }, { name: 'v2', value: '2' }, { name: 'v3', value: '3' }],
  defaultVariant: 'v2',
  rules: [{ percentage, variant: 'v3' }],
  ...extra,
});

/**
 * Issue 18, feature flags per tenant: kept by the tenant subgraph, evaluated through OpenFeature
 * with our provider in every process, kept current by `tenant.feature-flag.changed`, and used for
 * the workflow version of new orders. On both databases and buses, as every e2e suite.
 */
describe('feature flags per tenant', () => {
  let system: TestSupergraph;
  let shop: Shop;
  let other: Shop;

  beforeAll(async () => {
    system = await startSupergraph();
    [shop, other] = [await createShop(system), await createShop(system)];
    await addProduct(system, shop, 'Flagged', ['FLG-1']);
    await setPrice(system, shop, 'FLG-1', '1.00');
    await setPrice(system, shop, 'FLG-1', '1.00', shop.stores[1]!.id);
  }, 120_000);
  afterAll(() => system?.stop());

  const evaluate = async (variables: Record<string, unknown>, headers = shop.headers) =>
    (await system.ok(EVALUATE, variables, headers)).featureFlagEvaluation;
  const place = (storeId: string) =>
    eventually(async () => (await system.ok(PLACE, { i: await quoted(system, { storeId, lines: [{ sku: 'FLG-1', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders)).placeOrder as { id: string; workflowVersion: number });

  it('sets, lists, replaces and deletes a flag (admin); a flag set without variants is a boolean one', async () => {
    const set = (await system.ok(SET, { i: { key: 'new-search', enabled: true } }, shop.headers)).setFeatureFlag;
    expect(set).toEqual({
      key: 'new-search', enabled: true, defaultVariant: 'on', revision: expect.any(Number), updatedAt: expect.any(String),
      variants: [{ name: 'on', value: 'true' }, { name: 'off', value: 'false' }], rules: [],
    });
    const replaced = (await system.ok(SET, { i: { key: 'new-search', enabled: false, defaultVariant: 'off' } }, shop.headers)).setFeatureFlag;
    expect(replaced.revision).toBe(set.revision + 1);
    expect((await system.ok(LIST, {}, shop.headers)).featureFlags).toEqual([expect.objectContaining({ key: 'new-search', enabled: false, defaultVariant: 'off' })]);
    expect(await system.ok(DELETE, { key: 'new-search' }, shop.headers)).toEqual({ deleteFeatureFlag: true });
    expect(await system.ok(DELETE, { key: 'new-search' }, shop.headers)).toEqual({ deleteFeatureFlag: false });
    expect((await system.ok(LIST, {}, shop.headers)).featureFlags).toEqual([]);
    expect(await evaluate({ key: 'new-search' })).toEqual(expect.objectContaining({ value: null, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' }));
  });

  it('refuses what breaks a bound or a rule with BAD_USER_INPUT naming the field, and writes nothing', async () => {
    const two = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
    const cases: [Record<string, unknown>, string][] = [
      [{ key: 'Not A Key', enabled: true }, 'key'],
      [{ key: 'k'.repeat(65), enabled: true }, 'FeatureFlagInput.key'],
      [{ key: '-dash-first', enabled: true }, 'key'],
      [{ key: 'pct', enabled: true, rules: [{ percentage: 101, variant: 'on' }] }, 'FlagRuleInput.percentage'],
      [{ key: 'pct', enabled: true, rules: [{ percentage: -1, variant: 'on' }] }, 'FlagRuleInput.percentage'],
      [{ key: 'many', enabled: true, rules: two(21, () => ({ variant: 'on' })) }, 'FeatureFlagInput.rules'],
      [{ key: 'many', enabled: true, variants: two(21, (i) => ({ name: `v${i}`, value: String(i) })) }, 'FeatureFlagInput.variants'],
      [{ key: 'long', enabled: true, variants: [{ name: 'a', value: 'x'.repeat(1_025) }] }, 'FlagVariantInput.value'],
      [{ key: 'twice', enabled: true, variants: [{ name: 'a', value: '1' }, { name: 'a', value: '2' }] }, 'variants.name'],
      [{ key: 'bad-name', enabled: true, variants: [{ name: 'a b', value: '1' }] }, 'variants.name'],
      [{ key: 'nodefault', enabled: true, defaultVariant: 'nope' }, 'defaultVariant'],
      [{ key: 'norule', enabled: true, rules: [{ variant: 'nope' }] }, 'rules.variant'],
      [{ key: 'nostore', enabled: true, rules: [{ storeIds: ['not-a-uuid'], variant: 'on' }] }, 'rules.storeIds'],
      // Another tenant's store is no store of this one.
      [{ key: 'theirs', enabled: true, rules: [{ storeIds: [other.storeId], variant: 'on' }] }, 'rules.storeIds'],
      [{ key: 'nul', enabled: true, variants: [{ name: 'a', value: 'x\u0000y' }] }, 'FlagVariantInput.value'],
    ];
    for (const [input, field] of cases) {
      const result = await system.request(SET, { i: input }, shop.headers);
      expect({ input, codes: codes(result), fields: fields(result) }).toEqual({ input, codes: ['BAD_USER_INPUT'], fields: [field] });
    }
    expect(codes(await system.request(DELETE, { key: 'k'.repeat(65) }, shop.headers))).toEqual(['BAD_USER_INPUT']);
    expect((await system.ok(LIST, {}, shop.headers)).featureFlags).toEqual([]);
  });

  it('lets only an admin set, list or delete flags, and only within its tenant', async () => {
    expect(codes(await system.request(SET, { i: { key: 'mine', enabled: true } }, shop.posHeaders))).toEqual(['FORBIDDEN']);
    expect(codes(await system.request(LIST, {}, shop.posHeaders))).toEqual(['FORBIDDEN']);
    expect(codes(await system.request(DELETE, { key: 'mine' }, shop.storefrontHeaders))).toEqual(['FORBIDDEN']);
    await system.ok(SET, { i: { key: 'mine', enabled: true } }, shop.headers);
    // The other tenant sees none of it, and its flag of the same key is its own.
    expect((await system.ok(LIST, {}, other.headers)).featureFlags).toEqual([]);
    expect(await evaluate({ key: 'mine' }, other.headers)).toEqual(expect.objectContaining({ errorCode: 'FLAG_NOT_FOUND' }));
    expect(await system.ok(DELETE, { key: 'mine' }, other.headers)).toEqual({ deleteFeatureFlag: false });
    await system.ok(SET, { i: { key: 'mine', enabled: false } }, other.headers);
    expect(await evaluate({ key: 'mine' }, other.headers)).toEqual(expect.objectContaining({ reason: 'DISABLED', value: null }));
    expect(await evaluate({ key: 'mine' })).toEqual(expect.objectContaining({ reason: 'DEFAULT', variant: 'on', value: 'true' }));
    // Row-level security holds it too: the other tenant's processes never evaluate this tenant's flag.
    expect(await system.gateway.flags.client.getBooleanValue('mine', false, { tenantId: other.tenantId })).toBe(false);
    expect(await system.gateway.flags.client.getBooleanValue('mine', false, { tenantId: shop.tenantId })).toBe(true);
    await system.ok(DELETE, { key: 'mine' }, shop.headers);
    await system.ok(DELETE, { key: 'mine' }, other.headers);
  });

  it('targets by store and by role, first matching rule first; off serves the caller\'s default', async () => {
    const [s1, d1] = [shop.stores[0]!.id, shop.stores[1]!.id];
    const set = await system.ok(SET, {
      i: {
        key: 'banner', enabled: true, defaultVariant: 'plain',
        variants: [{ name: 'plain', value: 'welcome' }, { name: 'dark', value: 'late-night' }, { name: 'till', value: 'scan-first' }],
        rules: [{ storeIds: [d1], variant: 'dark' }, { roles: ['POS'], variant: 'till' }],
      },
    }, shop.headers);
    expect(set.setFeatureFlag.rules).toEqual([
      { storeIds: [d1], roles: [], percentage: 100, variant: 'dark' },
      { storeIds: [], roles: ['POS'], percentage: 100, variant: 'till' },
    ]);
    expect(await evaluate({ key: 'banner', storeId: s1 })).toEqual({
      key: 'banner', value: 'welcome', variant: 'plain', reason: 'DEFAULT', errorCode: null, ruleIndex: null, bucket: null, subject: s1,
    });
    expect(await evaluate({ key: 'banner', storeId: d1 })).toEqual(expect.objectContaining({ value: 'late-night', reason: 'TARGETING_MATCH', ruleIndex: 0 }));
    expect(await evaluate({ key: 'banner', storeId: s1 }, shop.posHeaders)).toEqual(expect.objectContaining({ value: 'scan-first', reason: 'TARGETING_MATCH', ruleIndex: 1 }));
    // The store rule comes first, whoever asks.
    expect(await evaluate({ key: 'banner', storeId: d1 }, shop.posHeaders)).toEqual(expect.objectContaining({ value: 'late-night', ruleIndex: 0 }));
    expect(await evaluate({ key: 'banner' }, shop.storefrontHeaders)).toEqual(expect.objectContaining({ value: 'welcome', reason: 'DEFAULT' }));
    await system.ok(SET, { i: { key: 'banner', enabled: false, variants: [{ name: 'plain', value: 'welcome' }] } }, shop.headers);
    expect(await evaluate({ key: 'banner', storeId: d1 })).toEqual(expect.objectContaining({ value: null, variant: null, reason: 'DISABLED' }));
    // The gateway's own evaluation: the caller's default, typed.
    await eventually(async () => expect(await system.gateway.flags.client.getStringValue('banner', 'fallback', { tenantId: shop.tenantId, storeId: d1 })).toBe('fallback'));
    await system.ok(DELETE, { key: 'banner' }, shop.headers);
  });

  it('rolls out by a stable share of subjects: 30 % lands near 30 %, widening to 50 % keeps everyone in', async () => {
    const subjects = Array.from({ length: 300 }, (_, i) => `customer-${i}`);
    const valuesFor = async () => {
      const values = new Map<string, string>();
      // 25 aliases a request (the gateway allows 30).
      for (let i = 0; i < subjects.length; i += 25) {
        const batch = subjects.slice(i, i + 25);
        const query = `query { ${batch.map((s, j) => `e${j}: featureFlagEvaluation(key: "rollout", subject: "${s}") { value bucket }`).join(' ')} }`;
        const data = await system.ok(query, {}, shop.headers);
        batch.forEach((s, j) => {
          expect(data[`e${j}`].bucket).toBe(bucketOf('rollout', s));
          values.set(s, data[`e${j}`].value);
        });
      }
      return values;
    };
    const rollout = (percentage: number) => ({ key: 'rollout', enabled: true, defaultVariant: 'off', rules: [{ percentage, variant: 'on' }] });
    await system.ok(SET, { i: rollout(30) }, shop.headers);
    const at30 = await valuesFor();
    const in30 = subjects.filter((s) => at30.get(s) === 'true');
    expect(in30.length).toBeGreaterThanOrEqual(60);
    expect(in30.length).toBeLessThanOrEqual(120);
    // Exactly those whose bucket is below 30: the same in every process.
    expect(in30).toEqual(subjects.filter((s) => bucketOf('rollout', s) < 30));
    await system.ok(SET, { i: rollout(50) }, shop.headers);
    const at50 = await valuesFor();
    const in50 = subjects.filter((s) => at50.get(s) === 'true');
    expect(in30.filter((s) => at50.get(s) !== 'true')).toEqual([]);
    expect(in50.length).toBeGreaterThan(in30.length);
    expect(in50.length).toBeLessThanOrEqual(190);
    await system.ok(DELETE, { key: 'rollout' }, shop.headers);
  });

  it('chooses the workflow version of new orders per tenant by the flag: default, by store, then a canary', async () => {
    const [s1, d1] = [shop.stores[0]!.id, shop.stores[1]!.id];
    await receiveStock(system, shop, 'FLG-1', 500);
    await receiveStock(system, shop, 'FLG-1', 500, d1);
    // No flag: ORDER_WORKFLOW_VERSION's default, the latest shipped.
    expect((await place(s1)).workflowVersion).toBe(3);
    // v1 in the dark store, v2 elsewhere: a change in the tenant subgraph, applied by orders.
    await system.ok(SET, { i: canary(0, { rules: [{ storeIds: [d1], variant: 'v1' }] }) }, shop.headers);
    await eventually(async () => expect((await place(d1)).workflowVersion).toBe(1));
    await eventually(async () => expect((await place(s1)).workflowVersion).toBe(2));
    // A canary: 50 % of new orders (by order id) on v3, the others on v2.
    await system.ok(SET, { i: canary(50) }, shop.headers);
    await eventually(async () => expect((await place(d1)).workflowVersion).not.toBe(1));
    const orders = [];
    for (let i = 0; i < 20; i++) orders.push(await place(s1));
    for (const order of orders) expect({ id: order.id, version: order.workflowVersion }).toEqual({ id: order.id, version: bucketOf('order-workflow-version', order.id) < 50 ? 3 : 2 });
    expect(new Set(orders.map((o) => o.workflowVersion))).toEqual(new Set([2, 3]));
    // A version that is not shipped falls back to the default; another tenant is never affected.
    await system.ok(SET, { i: { ...canary(100), variants: [{ name: 'v2', value: '2' }, { name: 'v3', value: '99' }] } }, shop.headers);
    await eventually(async () => expect((await place(s1)).workflowVersion).toBe(3));
    await system.ok(SET, { i: { ...canary(100), enabled: false } }, shop.headers);
    expect((await place(s1)).workflowVersion).toBe(3);
  });

  it('reaches every subgraph\'s copy and the gateway: a change applies without a restart', async () => {
    await system.ok(SET, { i: { key: 'everywhere', enabled: true, variants: [{ name: 'old', value: 'a' }, { name: 'new', value: 'b' }], defaultVariant: 'old' } }, shop.headers);
    const gatewayValue = () => system.gateway.flags.client.getStringValue('everywhere', '', { tenantId: shop.tenantId });
    await eventually(async () => expect(await gatewayValue()).toBe('a'));
    await system.ok(SET, { i: { key: 'everywhere', enabled: true, variants: [{ name: 'old', value: 'a' }, { name: 'new', value: 'b' }], defaultVariant: 'new' } }, shop.headers);
    // Cached in the gateway from the first read; the event updates it.
    await eventually(async () => expect(await gatewayValue()).toBe('b'));
    await system.ok(DELETE, { key: 'everywhere' }, shop.headers);
    await eventually(async () => expect(await gatewayValue()).toBe(''));
  });
});

// Real processes share a real PostgreSQL; the embedded run is one process.
const real = process.env.DATABASE_URL && !process.env.TEST_EMBEDDED_POSTGRES;
const processes = real ? describe : describe.skip;
if (!real) console.info('feature flag propagation across processes skipped: it needs DATABASE_URL (a real PostgreSQL)');

/**
 * Two gateways, two tenant and two orders processes on a Redis of the test's own: the second
 * gateway reaches `tenant-2` and `orders-2`. A flag set through the first gateway changes what the
 * second one's processes answer, caches warm included; and again after Redis was killed and came
 * back empty (every process's ephemeral flag group is made anew).
 */
processes('feature flags across processes', () => {
  let redis: RedisProcess;
  let system: SystemProcesses;
  let passed = false;
  beforeAll(async () => {
    redis = await startRedisProcess();
    system = await startSystemProcesses({ databaseUrl: process.env.DATABASE_URL!, redisUrl: redis.url, replicas: { tenant: 2, orders: 2 }, gateways: 2 });
  }, 300_000);
  afterAll(async () => {
    await system?.stop(!passed);
    await redis?.stop();
  });

  it('applies a change made through one process in the others, without a restart, also after Redis came back empty', async () => {
    const [first, second] = system.gatewayUrls as [string, string];
    const via = (url: string) =>
      ({
        platformApiKey: system.platformApiKey,
        request: (q: string, v?: Record<string, unknown>, h?: Record<string, string>) => graphqlRequest(url, q, v, h),
        ok: (q: string, v?: Record<string, unknown>, h?: Record<string, string>) => graphqlOk(url, q, v, h),
      }) as unknown as TestSupergraph;
    const shop = await createShop(via(first), `flags-${randomBytes(3).toString('hex')}`);
    await addProduct(via(first), shop, 'Flagged', ['FLG-P']);
    await setPrice(via(first), shop, 'FLG-P', '1.00');
    await receiveStock(via(first), shop, 'FLG-P', 100);
    const placeVia2 = () =>
      eventually(async () => (await graphqlOk(second, PLACE, { i: await quoted(second, { storeId: shop.storeId, lines: [{ sku: 'FLG-P', quantity: 1 }] }, shop.posHeaders) }, shop.posHeaders)).placeOrder as { workflowVersion: number }, 30_000);
    const evaluateVia2 = async () => (await graphqlOk(second, EVALUATE, { key: 'order-workflow-version' }, shop.headers)).featureFlagEvaluation;
    // Warm caches in tenant-2 and orders-2: no flag yet.
    expect(await evaluateVia2()).toEqual(expect.objectContaining({ errorCode: 'FLAG_NOT_FOUND' }));
    expect((await placeVia2()).workflowVersion).toBe(3);
    await graphqlOk(first, SET, { i: canary(0, { defaultVariant: 'v1' }) }, shop.headers);
    await eventually(async () => expect(await evaluateVia2()).toEqual(expect.objectContaining({ value: '1', reason: 'DEFAULT' })), 10_000);
    await eventually(async () => expect((await placeVia2()).workflowVersion).toBe(1), 10_000);
    await graphqlOk(first, SET, { i: canary(0, { defaultVariant: 'v2' }) }, shop.headers);
    await eventually(async () => expect((await placeVia2()).workflowVersion).toBe(2), 10_000);

    // Redis killed and back empty: each of the 7 subgraph processes makes its flag group again (the gateways' hubs theirs).
    await redis.kill();
    await redis.start();
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await eventually(async () => {
        const groups = (await client.exists('commerce:events')) ? await client.xInfoGroups('commerce:events') : [];
        expect(groups.filter((g) => String(g.name).startsWith('flags-'))).toHaveLength(7);
        expect(groups.filter((g) => /^gateway-[0-9a-f-]{36}$/.test(String(g.name)))).toHaveLength(2);
      }, 60_000);
    } finally {
      await client.quit();
    }
    await eventually(async () => {
      await graphqlOk(first, SET, { i: canary(0, { defaultVariant: 'v1' }) }, shop.headers);
    }, 30_000);
    await eventually(async () => expect(await evaluateVia2()).toEqual(expect.objectContaining({ value: '1' })), 10_000);
    await eventually(async () => expect((await placeVia2()).workflowVersion).toBe(1), 10_000);
    passed = true;
  });
});
