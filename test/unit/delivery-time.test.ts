import { GraphQLError } from 'graphql';
import { deliverySourceTime } from '../../subgraphs/inventory/src/ingestion/delivery-time.js';

const now = Date.parse('2026-06-01T12:00:00Z');
const hour = 3_600_000;
const window = { maxAgeMs: 24 * hour, now };
const codeOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return { code: (error as GraphQLError).extensions.code, message: (error as Error).message };
  }
  return null;
};

describe('the source time of a webhook delivery', () => {
  it('is the body’s time when it has one (signed), else X-Shopify-Triggered-At', () => {
    const body = new Date(now - 2 * hour);
    expect(deliverySourceTime({ source: 'SHOPIFY', topic: 'products/update', bodyTime: body, triggeredAt: new Date(now).toISOString() }, window)).toEqual(body);
    // Shopify sends nanoseconds; milliseconds are what we keep.
    expect(deliverySourceTime({ source: 'SHOPIFY', topic: 'inventory_levels/update', bodyTime: null, triggeredAt: '2026-06-01T11:00:27.877041743Z' }, window)).toEqual(new Date('2026-06-01T11:00:27.877Z'));
  });

  it('refuses a delivery without a time, or with a header that is not one', () => {
    expect(codeOf(() => deliverySourceTime({ source: 'SHOPIFY', topic: 'inventory_levels/update', bodyTime: null }, window))).toEqual({
      code: 'BAD_USER_INPUT',
      message: 'the delivery has no time: neither updated_at in the body nor X-Shopify-Triggered-At',
    });
    for (const triggeredAt of ['yesterday', '1717243200', '']) {
      expect(codeOf(() => deliverySourceTime({ source: 'SHOPIFY', topic: 'inventory_levels/update', bodyTime: null, triggeredAt }, window))?.code).toBe('BAD_USER_INPUT');
    }
  });

  it('refuses states older than the window and times ahead of the clock; deltas are exempt from the window', () => {
    const at = (ms: number, topic = 'inventory_levels/update', maxAgeMs = window.maxAgeMs) =>
      codeOf(() => deliverySourceTime({ source: topic.startsWith('stock.') ? 'POS' : 'SHOPIFY', topic, bodyTime: new Date(ms) }, { maxAgeMs, now }));
    expect(at(now - 24 * hour)).toBeNull();
    expect(at(now - 24 * hour - 1)).toEqual({ code: 'WEBHOOK_OUT_OF_WINDOW', message: expect.stringContaining('is older than the 24 h window') });
    expect(at(now - 25 * hour, 'stock.level')?.code).toBe('WEBHOOK_OUT_OF_WINDOW');
    expect(at(now - 72 * hour, 'stock.delta')).toBeNull();
    expect(at(now - 72 * hour, 'products/update', 0)).toBeNull();
    expect(at(now + 5 * 60_000)).toBeNull();
    expect(at(now + 5 * 60_000 + 1)).toEqual({ code: 'WEBHOOK_OUT_OF_WINDOW', message: expect.stringContaining('ahead of ours') });
    expect(at(now + hour, 'stock.delta')?.code).toBe('WEBHOOK_OUT_OF_WINDOW');
  });
});
