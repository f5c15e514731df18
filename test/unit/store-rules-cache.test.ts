import type { EntityManager } from 'typeorm';
import { applicableLists, StoreRulesCache, type PriceListRow, type StoreRules, type StoreRulesLoader } from '../../subgraphs/pricing/src/services/store-rules.js';

const m = {} as EntityManager;
const rulesWith = (taxRate: string): StoreRules => ({ settings: { currency_code: 'EUR', prices_include_tax: false }, lists: [], taxRows: [{ category: '', name: 'VAT', rate: taxRate }] });

/** A loader that counts its reads and answers what `current` holds at the time of the read. */
function countingLoader() {
  const state = { reads: 0, current: rulesWith('20') };
  const read: StoreRulesLoader = async (_m, tenantId, storeId) => {
    state.reads += 1;
    return { ...state.current, taxRows: state.current.taxRows.map((t) => ({ ...t, name: `${tenantId}/${storeId}/${t.name}` })) };
  };
  return { state, read };
}

describe('StoreRulesCache: the store rules kept for the shown prices', () => {
  it('reads a store once while its rules are fresh, and again after the time to keep them', async () => {
    const { state, read } = countingLoader();
    let clock = 0;
    const cache = new StoreRulesCache(read, 2_000, () => clock);
    await cache.load(m, 't1', 's1');
    await cache.load(m, 't1', 's1');
    expect(state.reads).toBe(1);
    await cache.load(m, 't1', 's2');
    await cache.load(m, 't2', 's1');
    expect(state.reads).toBe(3);
    clock = 2_000;
    await cache.load(m, 't1', 's1');
    expect(state.reads).toBe(4);
  });

  it('reads a tenant again at once after one of its rules changed, and leaves other tenants kept', async () => {
    const { state, read } = countingLoader();
    const cache = new StoreRulesCache(read, 60_000, () => 0);
    await cache.load(m, 't1', 's1');
    await cache.load(m, 't2', 's1');
    state.current = rulesWith('7');
    cache.invalidate('t1');
    expect((await cache.load(m, 't1', 's1')).taxRows[0]!.rate).toBe('7');
    expect((await cache.load(m, 't2', 's1')).taxRows[0]!.rate).toBe('20');
    expect(state.reads).toBe(3);
  });

  it('does not keep an answer read before a rule change that committed while it was read', async () => {
    let release!: () => void;
    let reads = 0;
    const read: StoreRulesLoader = async () => {
      reads += 1;
      if (reads === 1) await new Promise<void>((resolve) => (release = resolve));
      return rulesWith(reads === 1 ? 'old' : 'new');
    };
    const cache = new StoreRulesCache(read, 60_000, () => 0);
    const inFlight = cache.load(m, 't1', 's1');
    await Promise.resolve();
    cache.invalidate('t1');
    release();
    expect((await inFlight).taxRows[0]!.rate).toBe('old');
    expect((await cache.load(m, 't1', 's1')).taxRows[0]!.rate).toBe('new');
  });
});

describe('applicableLists: what the price list query filtered, on the kept rows', () => {
  const list = (over: Partial<PriceListRow>): PriceListRow => ({
    id: 'l', currency_code: 'EUR', store_ids: [], channel: null, customer_group: null, priority: 0, starts_at: null, ends_at: null, ...over,
  });
  const now = new Date('2026-01-01T12:00:00Z');
  const ids = (lists: PriceListRow[], channel: string | null = null, group: string | null = null) => applicableLists(lists, 'EUR', now, channel, group).map((l) => l.id);

  it('keeps the lists in the currency, open at the moment, for every channel and group or for the ones asked', () => {
    const lists = [
      list({ id: 'open' }),
      list({ id: 'usd', currency_code: 'USD' }),
      list({ id: 'started', starts_at: now }),
      list({ id: 'later', starts_at: new Date(now.getTime() + 1) }),
      list({ id: 'ended', ends_at: now }),
      list({ id: 'ending', ends_at: new Date(now.getTime() + 1) }),
      list({ id: 'pos', channel: 'POS' }),
      list({ id: 'vip', customer_group: 'VIP' }),
    ];
    expect(ids(lists)).toEqual(['open', 'started', 'ending']);
    expect(ids(lists, 'POS', 'VIP')).toEqual(['open', 'started', 'ending', 'pos', 'vip']);
    expect(ids(lists, 'WEB', 'WHOLESALE')).toEqual(['open', 'started', 'ending']);
  });
});
