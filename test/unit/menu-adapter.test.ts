import { adapt, MalformedPayload } from '../../lib/webhooks/adapters.js';

const menu = (items: unknown[], extra: Record<string, unknown> = {}) => ({
  event_id: 'till-7-menu-1', type: 'menu.updated', occurred_at: '2026-01-15T07:00:00Z', location: 'S1', time_zone: 'Europe/Berlin', items, ...extra,
});
const latte = { id: 'latte', sku: 'LATTE', title: 'Latte', price: '3.20', windows: [{ from: '07:00', to: '11:00' }], modifier_groups: [{ name: 'Milk', min: 1, max: 1, modifiers: [{ sku: 'OAT', name: 'Oat', price: '0.40' }] }] };

describe('POS menu.updated adapter', () => {
  it('turns a menu into one menu command for its location', () => {
    expect(adapt('POS', 'menu.updated', menu([latte])).commands).toEqual([{
      kind: 'menu', location: 'S1', timeZone: 'Europe/Berlin',
      items: [{ id: 'latte', sku: 'LATTE', title: 'Latte', price: '3.20', windows: [{ from: '07:00', to: '11:00' }], modifierGroups: [{ name: 'Milk', minSelections: 1, maxSelections: 1, modifiers: [{ sku: 'OAT', name: 'Oat', price: '0.40' }] }] }],
    }]);
  });

  it.each([
    ['a bad time zone', menu([latte], { time_zone: 'Mars/Olympus' })],
    ['a bad window', menu([{ ...latte, windows: [{ from: '7am', to: '11:00' }] }])],
    ['a modifier twice', menu([{ ...latte, modifier_groups: [...latte.modifier_groups, { name: 'Again', modifiers: [{ sku: 'OAT', name: 'Oat' }] }] }])],
    ['min above its modifiers', menu([{ ...latte, modifier_groups: [{ name: 'Milk', min: 2, max: 2, modifiers: [{ sku: 'OAT', name: 'Oat' }] }] }])],
    ['a price that is not an amount', menu([{ ...latte, price: 'free' }])],
  ])('refuses %s', (_what, payload) => {
    expect(() => adapt('POS', 'menu.updated', payload)).toThrow(MalformedPayload);
  });

  it('is a POS topic only', () => {
    expect(() => adapt('ERP', 'menu.updated', menu([latte]))).toThrow(/not supported/);
  });
});
