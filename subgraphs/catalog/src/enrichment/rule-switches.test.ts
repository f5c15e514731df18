import { bucketOf, type FlagDefinition } from '../../../../lib/flags/definition.js';
import { ruleSwitchesOf } from './rule-switches.js';

const flag = (key: string, over: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key,
  enabled: true,
  variants: [{ name: 'on', value: 'true' }, { name: 'off', value: 'false' }],
  defaultVariant: 'on',
  rules: [],
  updatedAt: '2026-12-07T00:00:00.000Z',
  ...over,
});
const of = (...flags: FlagDefinition[]) => ruleSwitchesOf(new Map(flags.map((f) => [f.key, f])));

describe('enrichment rules switched by feature flags (enrichment.<rule>)', () => {
  it('runs every rule without flags, with a flag that is off, or with a value that is not a boolean', () => {
    expect(of()({ targetingKey: 'A-1' })).toEqual([]);
    expect(of(flag('enrichment.casing', { enabled: false, defaultVariant: 'off' }))({})).toEqual([]);
    expect(of(flag('enrichment.casing', { variants: [{ name: 'x', value: 'maybe' }], defaultVariant: 'x' }))({})).toEqual([]);
    expect(of(flag('other-flag', { defaultVariant: 'off' }), flag('enrichment.spelling', { defaultVariant: 'off' }))({})).toEqual([]);
  });

  it('switches a rule off for the tenant, a store, or the skus of a share', () => {
    expect(of(flag('enrichment.casing', { defaultVariant: 'off' }), flag('enrichment.size'))({ targetingKey: 'A-1' })).toEqual(['casing']);
    const store = of(flag('enrichment.brand', { rules: [{ storeIds: ['s-dark'], roles: [], percentage: 100, variant: 'off' }] }));
    expect(store({ storeId: 's-dark' })).toEqual(['brand']);
    expect(store({ storeId: 's-main' })).toEqual([]);
    const share = of(flag('enrichment.size', { rules: [{ storeIds: [], roles: [], percentage: 30, variant: 'off' }] }));
    const skus = Array.from({ length: 50 }, (_, i) => `SKU-${i}`);
    expect(skus.filter((sku) => share({ targetingKey: sku }).includes('size'))).toEqual(skus.filter((sku) => bucketOf('enrichment.size', sku) < 30));
    // Without a sku a share takes nobody: the rule runs.
    expect(share({})).toEqual([]);
  });
});
