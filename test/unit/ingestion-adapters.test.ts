import { signJson, signShopify, verifyShopify, verifySignedJson } from '../../lib/webhooks/signatures.js';
import { adapt, MalformedPayload, parsePayload, type ProductCommand } from '../../lib/webhooks/adapters.js';

describe('webhook signatures', () => {
  const body = Buffer.from('{"event_id":"e1"}');

  it('accepts Shopify’s base64 HMAC of the raw body and nothing else', () => {
    expect(verifyShopify(body, signShopify(body, 'secret-0123456789'), 'secret-0123456789')).toEqual({ ok: true });
    expect(verifyShopify(Buffer.from('{"event_id":"e2"}'), signShopify(body, 'secret-0123456789'), 'secret-0123456789').ok).toBe(false);
    expect(verifyShopify(body, undefined, 'secret-0123456789')).toEqual({ ok: false, reason: 'X-Shopify-Hmac-Sha256 is missing' });
    expect(verifyShopify(body, 'bm90IGEgbWFj', 'secret-0123456789').ok).toBe(false);
  });

  it('accepts "<timestamp>.<body>" signatures within five minutes only', () => {
    const now = 1_800_000_000_000;
    const { 'x-timestamp': ts, 'x-signature': sig } = signJson(body, 'secret-0123456789', now);
    expect(verifySignedJson(body, ts, sig, 'secret-0123456789', now + 299_000)).toEqual({ ok: true });
    expect(verifySignedJson(body, ts, sig, 'secret-0123456789', now + 301_000)).toEqual({ ok: false, reason: 'X-Timestamp is more than 300 s from now' });
    expect(verifySignedJson(body, String(Number(ts) + 1), sig, 'secret-0123456789', now).ok).toBe(false);
    expect(verifySignedJson(body, ts, sig.replace('sha256=', ''), 'secret-0123456789', now).ok).toBe(false);
    expect(verifySignedJson(body, 'yesterday', sig, 'secret-0123456789', now).ok).toBe(false);
  });
});

describe('ingestion adapters', () => {
  it('keeps ids beyond 2^53 exact, and leaves strings and decimals alone', () => {
    expect(parsePayload('{"id": 271878346596884015, "n": 12, "s": "271878346596884015 x", "p": 19.99, "e": 1e21, "neg": -271878346596884015}')).toEqual({
      id: '271878346596884015', n: 12, s: '271878346596884015 x', p: 19.99, e: 1e21, neg: '-271878346596884015',
    });
    expect(parsePayload('{"s": "quote \\" 271878346596884015"}')).toEqual({ s: 'quote " 271878346596884015' });
  });

  it('turns Shopify and POS/ERP payloads into canonical commands', () => {
    expect(adapt('SHOPIFY', 'inventory_levels/update', parsePayload('{"inventory_item_id": 271878346596884015, "location_id": 24826418, "available": 6, "updated_at": "2024-01-03T10:00:00-05:00"}'))).toEqual({
      commands: [{ kind: 'level', item: '271878346596884015', location: '24826418', level: 6 }],
      occurredAt: new Date('2024-01-03T15:00:00Z'),
    });
    expect(adapt('ERP', 'stock.delta', { event_id: 'e1', type: 'stock.delta', occurred_at: '2024-01-01T00:00:00Z', items: [{ sku: 'A', location: 'W1', delta: -2 }] }).commands).toEqual([
      { kind: 'delta', item: 'A', location: 'W1', delta: -2 },
    ]);
  });

  it('refuses payloads that do not follow their format, saying what is wrong', () => {
    const stock = { event_id: 'e1', type: 'stock.level', occurred_at: '2024-01-01T00:00:00Z', items: [{ sku: 'A', location: 'W1', level: 3 }] };
    const cases: [unknown, string][] = [
      [[], 'the body must be a JSON object'],
      [{ ...stock, event_id: '' }, 'event_id must be an id (a number or a non-empty string)'],
      [{ ...stock, items: [] }, 'items must be a non-empty array'],
      [{ ...stock, items: [{ sku: 'A', location: 'W1', level: -1 }] }, 'items[0].level must not be negative'],
      [{ ...stock, items: [{ sku: 'A', location: 'W1', level: 1.5 }] }, 'items[0].level must be a whole number'],
      [{ ...stock, occurred_at: 'soon' }, 'occurred_at must be an ISO 8601 time'],
      [{ ...stock, type: 'stock.delta' }, 'type must be "stock.level"'],
      [{ ...stock, items: [{ sku: 'A\u0000', location: 'W1', level: 3 }] }, 'items[0].sku contains a NUL character (U+0000), which is not allowed'],
      [{ ...stock, note: { by: ['x\u0000'] } }, 'note.by[0] contains a NUL character (U+0000), which is not allowed'],
      [{ ...stock, items: [{ sku: 'A'.repeat(129), location: 'W1', level: 3 }] }, 'items[0].sku must be an id (a number or a non-empty string)'],
      [{ ...stock, items: [{ sku: 'A', location: 'W1', level: 2_147_483_647 }] }, 'items[0].level must be between -9007199254740991 and 1000000000'],
    ];
    for (const [payload, message] of cases) {
      expect(() => adapt('POS', 'stock.level', payload)).toThrow(new MalformedPayload(message));
    }
    expect(() => adapt('SHOPIFY', 'orders/create', {})).toThrow(/not supported/);
    const delta = { event_id: 'e2', type: 'stock.delta', occurred_at: '2024-01-01T00:00:00Z', items: [{ sku: 'A', location: 'W1', delta: -2_000_000 }] };
    expect(() => adapt('POS', 'stock.delta', delta)).toThrow(new MalformedPayload('items[0].delta must be between -1000000 and 1000000'));
    const product = { id: 7, title: 'Tea', status: 'active', variants: [{ sku: 'TEA-1', title: 'x'.repeat(256) }] };
    expect(() => adapt('SHOPIFY', 'products/update', product)).toThrow(new MalformedPayload('variants[0].title is longer than 255 characters'));
  });

  it('takes a Shopify product’s options, each variant’s values and its pictures, within upsertProduct’s bounds', () => {
    const product = {
      id: 7, title: 'Tea', status: 'active',
      options: [{ name: 'Size', position: 1, values: ['50 g', '100 g'] }],
      variants: [{ id: 71, sku: 'TEA-50', title: '50 g', option1: '50 g', image_id: 2 }, { id: 72, sku: 'TEA-100', title: '100 g', option1: '100 g' }],
      images: [
        { id: 2, position: 2, src: 'https://cdn.example/tea-50.png', alt: 'Small tin', variant_ids: [] },
        { id: 1, position: 1, src: 'https://cdn.example/tea.png', alt: null, variant_ids: [72] },
      ],
    };
    const [command] = adapt('SHOPIFY', 'products/update', product).commands as ProductCommand[];
    expect(command!.options).toEqual([{ name: 'Size', values: ['50 g', '100 g'] }]);
    expect(command!.media).toEqual([{ url: 'https://cdn.example/tea.png', alt: null }, { url: 'https://cdn.example/tea-50.png', alt: 'Small tin' }]);
    expect(command!.variants.map(({ sku, options, media }) => ({ sku, options, media }))).toEqual([
      { sku: 'TEA-50', options: [{ name: 'Size', value: '50 g' }], media: [{ url: 'https://cdn.example/tea-50.png', alt: 'Small tin' }] },
      { sku: 'TEA-100', options: [{ name: 'Size', value: '100 g' }], media: [{ url: 'https://cdn.example/tea.png', alt: null }] },
    ]);
    // Shopify's placeholder option of a product without options is none; more than 20 pictures keep the first 20.
    const plain = {
      id: 8, title: 'Mug', status: 'active',
      options: [{ name: 'Title', position: 1, values: ['Default Title'] }],
      variants: [{ id: 81, sku: 'MUG', title: 'Default Title', option1: 'Default Title' }],
      images: Array.from({ length: 25 }, (_, i) => ({ id: i, position: i + 1, src: `https://cdn.example/mug-${i}.png`, variant_ids: [] })),
    };
    const [mug] = adapt('SHOPIFY', 'products/create', plain).commands as ProductCommand[];
    expect(mug!.options).toEqual([]);
    expect(mug!.variants[0]!.options).toEqual([]);
    expect(mug!.media).toHaveLength(20);
    expect(mug!.media![19]!.url).toBe('https://cdn.example/mug-19.png');
    // What upsertProduct would refuse goes to review with the reason, not half-applied.
    const refusals: [Record<string, unknown>, string][] = [
      [{ ...product, variants: [{ ...product.variants[0], option1: '1 kg' }] }, 'variants[0].option1 must be one of the values of option "Size"'],
      [{ ...product, images: [{ id: 1, src: 'javascript:alert(1)' }] }, 'images[0].src must be an http(s) address of at most 2048 characters'],
      [{ ...product, options: [{ name: 'Size', values: ['50 g', '50 g'] }] }, 'options[0].values must be 1 or more different values'],
      [{ ...product, options: [{ name: 'x'.repeat(65), values: ['a'] }] }, 'options[0].name is longer than 64 characters'],
    ];
    for (const [payload, message] of refusals) expect(() => adapt('SHOPIFY', 'products/update', payload)).toThrow(new MalformedPayload(message));
  });
});
