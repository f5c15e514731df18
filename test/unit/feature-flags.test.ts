import { OpenFeature } from '@openfeature/server-sdk';
import { FlagCache } from '../../lib/flags/cache.js';
import { bucketOf, evaluateFlag, parseFlagInput, type FlagDefinition, type FlagSnapshot } from '../../lib/flags/definition.js';
import { createFlags } from '../../lib/flags/provider.js';
import { createInMemoryBus } from '../../lib/events/in-memory-bus.js';

const TENANT = '00000000-0000-4000-8000-000000000001';
const flag = (key: string, defaultVariant: string, extra: Partial<FlagDefinition> = {}): FlagDefinition =>
  parseFlagInput({ key, enabled: true, variants: [{ name: 'a', value: 'A' }, { name: 'b', value: 'B' }], defaultVariant, ...extra });

describe('flag evaluation', () => {
  it('buckets by SHA-256 of key:subject, the same everywhere, spread over 0..99', () => {
    expect(bucketOf('k', 's')).toBe(bucketOf('k', 's'));
    const buckets = Array.from({ length: 10_000 }, (_, i) => bucketOf('spread', `s${i}`));
    expect(Math.min(...buckets)).toBe(0);
    expect(Math.max(...buckets)).toBe(99);
    const below30 = buckets.filter((b) => b < 30).length;
    expect(below30).toBeGreaterThan(2_800);
    expect(below30).toBeLessThan(3_200);
    // Independent between flags: another key puts other subjects in.
    const other = Array.from({ length: 10_000 }, (_, i) => bucketOf('other', `s${i}`));
    expect(buckets.filter((b, i) => (b < 30) === (other[i]! < 30)).length).toBeLessThan(7_000);
  });

  it('tries rules in order; a share needs a targeting key; off and unknown say so', () => {
    const rules = [
      { storeIds: ['00000000-0000-4000-8000-00000000000a'], variant: 'b' },
      { roles: ['POS'], percentage: 0, variant: 'b' },
      { roles: ['ADMIN'], percentage: 100, variant: 'b' },
    ];
    const f = flag('f', 'a', { rules: parseFlagInput({ key: 'f', enabled: true, variants: [{ name: 'a', value: 'A' }, { name: 'b', value: 'B' }], rules }).rules });
    expect(evaluateFlag(f, {})).toEqual({ variant: 'a', value: 'A', reason: 'DEFAULT', bucket: undefined });
    expect(evaluateFlag(f, { storeId: '00000000-0000-4000-8000-00000000000a' })).toEqual(expect.objectContaining({ variant: 'b', reason: 'TARGETING_MATCH', ruleIndex: 0 }));
    expect(evaluateFlag(f, { roles: ['pos'], targetingKey: 'x' })).toEqual(expect.objectContaining({ variant: 'a', reason: 'DEFAULT', bucket: bucketOf('f', 'x') }));
    expect(evaluateFlag(f, { roles: ['admin'] })).toEqual(expect.objectContaining({ variant: 'b', ruleIndex: 2 }));
    expect(evaluateFlag({ ...f, enabled: false }, { roles: ['admin'] })).toEqual({ reason: 'DISABLED' });
    expect(evaluateFlag(undefined, {})).toEqual({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
    const half = parseFlagInput({ key: 'half', enabled: true, defaultVariant: 'off', rules: [{ percentage: 50, variant: 'on' }] });
    expect(evaluateFlag(half, {})).toEqual(expect.objectContaining({ variant: 'off', reason: 'DEFAULT' }));
    const subject = Array.from({ length: 100 }, (_, i) => `s${i}`).find((s) => bucketOf('half', s) < 50)!;
    expect(evaluateFlag(half, { targetingKey: subject })).toEqual(expect.objectContaining({ variant: 'on', value: 'true', reason: 'SPLIT' }));
  });
});

describe('the flag cache', () => {
  const changeOf = (revision: number, f: FlagDefinition | null, key = f?.key ?? 'gone') => ({ tenantId: TENANT, key, revision, flag: f });

  it('reads a tenant once and applies the next revision in place; a gap reads again', async () => {
    let snapshot: FlagSnapshot = { revision: 1, flags: [flag('x', 'a')] };
    const load = jest.fn(async () => snapshot);
    const cache = new FlagCache({ load });
    expect((await cache.flags(TENANT)).get('x')?.defaultVariant).toBe('a');
    cache.changed(changeOf(2, flag('x', 'b')));
    expect((await cache.flags(TENANT)).get('x')?.defaultVariant).toBe('b');
    cache.changed(changeOf(2, flag('x', 'a'))); // a redelivery changes nothing
    cache.changed(changeOf(3, null, 'x'));
    expect((await cache.flags(TENANT)).has('x')).toBe(false);
    expect(load).toHaveBeenCalledTimes(1);
    snapshot = { revision: 5, flags: [flag('y', 'a')] };
    cache.changed(changeOf(5, flag('y', 'a'))); // 4 was missed
    expect([...(await cache.flags(TENANT)).keys()]).toEqual(['y']);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('completes a read from a lagging copy with the changes it saw; keeps no read still behind one', async () => {
    let snapshot: FlagSnapshot = { revision: 0, flags: [] };
    const load = jest.fn(async () => snapshot);
    const cache = new FlagCache({ load });
    // The event reached this process before its subgraph's copy was written.
    cache.changed(changeOf(1, flag('x', 'b')));
    expect((await cache.flags(TENANT)).get('x')?.defaultVariant).toBe('b');
    await cache.flags(TENANT);
    expect(load).toHaveBeenCalledTimes(1);
    // Another tenant: revision 2 seen, 1 missed, the copy at 0: answered, not kept, read again.
    const other = '00000000-0000-4000-8000-000000000002';
    cache.changed({ tenantId: other, key: 'y', revision: 2, flag: flag('y', 'b') });
    expect((await cache.flags(other)).size).toBe(0);
    expect((await cache.flags(other)).size).toBe(0);
    expect(load).toHaveBeenCalledTimes(3);
    snapshot = { revision: 2, flags: [flag('y', 'b')] };
    expect((await cache.flags(other)).get('y')?.defaultVariant).toBe('b');
    await cache.flags(other);
    expect(load).toHaveBeenCalledTimes(4);
  });

  it('reads again after its ttl, and shares one read between concurrent callers', async () => {
    const load = jest.fn(async () => ({ revision: 1, flags: [] }));
    const cache = new FlagCache({ load, ttlMs: 0 });
    await Promise.all([cache.flags(TENANT), cache.flags(TENANT), cache.flags(TENANT)]);
    expect(load).toHaveBeenCalledTimes(1);
    await cache.flags(TENANT);
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('the OpenFeature provider', () => {
  afterAll(() => OpenFeature.close());

  it('serves typed values through an OpenFeature client, follows change events, and says why', async () => {
    const bus = createInMemoryBus();
    const flags = createFlags({
      name: 'unit',
      bus,
      load: async () => ({
        revision: 1,
        flags: [
          parseFlagInput({ key: 'n', enabled: true, variants: [{ name: 'two', value: '2' }, { name: 'word', value: 'two' }, { name: 'obj', value: '{"a":1}' }] }),
          parseFlagInput({ key: 'b', enabled: true }),
        ],
      }),
    });
    await flags.start();
    const context = { tenantId: TENANT };
    expect(await flags.client.getNumberValue('n', 0, context)).toBe(2);
    expect(await flags.client.getBooleanValue('b', false, context)).toBe(true);
    expect(await flags.client.getStringDetails('missing', 'dflt', context)).toEqual(expect.objectContaining({ value: 'dflt', errorCode: 'FLAG_NOT_FOUND', reason: 'ERROR' }));
    expect(await flags.client.getBooleanDetails('n', false, context)).toEqual(expect.objectContaining({ value: false, errorCode: 'TYPE_MISMATCH' }));
    expect(await flags.client.getNumberDetails('n', 7, {})).toEqual(expect.objectContaining({ value: 7, errorCode: 'INVALID_CONTEXT' }));
    await bus.publish({
      eventId: 'e1', type: 'tenant.feature-flag.changed', occurredAt: new Date().toISOString(), tenantId: TENANT, source: 'tenant', version: 1,
      payload: { key: 'n', revision: 2, flag: parseFlagInput({ key: 'n', enabled: true, variants: [{ name: 'obj', value: '{"a":1}' }] }) },
    });
    expect(await flags.client.getObjectValue('n', {}, context)).toEqual({ a: 1 });
    await flags.stop();
    await bus.close();
  });
});
