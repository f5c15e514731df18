import { planExtras } from './feed-extras.js';
import type { FeedRow } from './feed-rows.js';

const row = (line: number, sku: string, extras: Partial<FeedRow>): FeedRow => ({
  line, handle: 'h', title: 'T', sku, variantTitle: sku, brand: null, description: null, barcode: null, published: null,
  price: null, storeCode: null, stock: null, options: [], image: null, variantImage: null, attributes: [], ...extras,
});

describe("a feed's options, pictures and attributes", () => {
  it('adds values to the options the product has, and a refused row changes nothing', () => {
    const existing = new Map([['h', { options: [{ name: 'Size', values: ['S'] }], media: [] }]]);
    const plan = planExtras(
      [
        row(2, 'A', { options: [{ index: 0, name: null, value: 'M' }] }),
        // Past the bound of 100 values: refused whole, its picture not added either.
        ...Array.from({ length: 98 }, (_, i) => row(3 + i, `B${i}`, { options: [{ index: 0, name: null, value: `v${i}` }] })),
        row(200, 'C', { options: [{ index: 0, name: null, value: 'one too many' }], image: { url: 'https://x.example/c.png', alt: null } }),
        row(201, 'D', { options: [{ index: 1, name: null, value: 'Red' }] }),
      ],
      existing,
      new Map(),
    );
    const size = plan.products.get('h')!.options[0]!;
    expect(size.values).toHaveLength(100);
    expect(size.values.slice(0, 2)).toEqual(['S', 'M']);
    expect(plan.products.get('h')!.media).toEqual([]);
    expect(plan.refused).toEqual(
      new Map([
        [200, 'option "Size" would have more than 100 values'],
        [201, "option2_value needs option2_name (on this row, on an earlier row of handle h, or the product's option 2)"],
      ]),
    );
    expect(plan.variants.get('A')).toEqual({ options: [{ name: 'Size', value: 'M' }], media: null });
    expect(plan.variants.has('C')).toBe(false);
  });
});
