import { apply, enrich, type EnrichmentRules } from './rules.js';

const rules: EnrichmentRules = {
  brands: ['Nescafé', 'Coca-Cola', 'Heinz', 'Oatly', "Lay's", 'Barilla', 'Lavazza', 'Dettol', 'Red Bull', "Kellogg's", 'Danone', 'Nutella'],
  categoryKeywords: {
    Coffee: ['coffee', 'espresso', 'coffee beans', 'instant coffee'],
    Drinks: ['cola', 'soda', 'energy drink', 'juice', 'water', 'sparkling water'],
    'Dairy & alternatives': ['milk', 'oat milk', 'yoghurt', 'cheese', 'greek yoghurt'],
    Pasta: ['pasta', 'spaghetti', 'penne', 'fusilli', 'dried pasta'],
    Snacks: ['chips', 'crisps', 'nuts', 'potato chips'],
    Household: ['soap', 'detergent', 'handwash', 'disinfectant', 'liquid soap'],
  },
};

// Dirty titles as POS and ERP systems send them → [title, brand, category applied, size, unit,
// pack count, category left for review].
const table: [string, string, string | null, string | null, number | null, string | null, number | null, string | null][] = [
  ['NESCAFE GOLD INSTANT COFFEE 200GM', 'Nescafé Gold Instant Coffee 200 g', 'Nescafé', 'Coffee', 200, 'g', null, null],
  ['Nescafe nescafe classic 0.5 KG', 'Nescafé classic 500 g', 'Nescafé', null, 500, 'g', null, null],
  ['coca-cola   6x330ml', 'Coca-Cola 6 × 330 ml', 'Coca-Cola', null, 330, 'ml', 6, 'Drinks'],
  ['Oat milk OATLY 1L', 'Oat milk Oatly 1 l', 'Oatly', 'Dairy & alternatives', 1000, 'ml', null, null],
  ['Heinz Tomato Ketchup 500 G', 'Heinz Tomato Ketchup 500 g', 'Heinz', null, 500, 'g', null, null],
  ['barilla spaghetti n.5 1kg', 'Barilla Spaghetti n.5 1 kg', 'Barilla', null, 1000, 'g', null, 'Pasta'],
  ['LAYS classic potato chips 150gms', "Lay's classic potato chips 150 g", "Lay's", 'Snacks', 150, 'g', null, null],
  ['Red Bull Energy Drink 250ml x 24', 'Red Bull Energy Drink 24 × 250 ml', 'Red Bull', 'Drinks', 250, 'ml', 24, null],
  ['Dettol handwash 250 ml - - ', 'Dettol handwash 250 ml', 'Dettol', null, 250, 'ml', null, 'Household'],
  ['Lavazza Qualità Rossa coffee beans 1 Kg', 'Lavazza Qualità Rossa coffee beans 1 kg', 'Lavazza', 'Coffee', 1000, 'g', null, null],
  ['penne rigate 500gr', 'Penne Rigate 500 g', null, null, 500, 'g', null, 'Pasta'],
  ['Sparkling water 1,5l', 'Sparkling water 1.5 l', null, 'Drinks', 1500, 'ml', null, null],
  ["Kellogg's cornflakes 12 pcs", "Kellogg's cornflakes 12 pcs", "Kellogg's", null, 12, 'pcs', null, null],
  ['GOLDEN SYRUP 454g', 'Golden Syrup 454 g', null, null, 454, 'g', null, null],
  ['Cheese & onion crisps 6 x 25g', 'Cheese & onion crisps 6 × 25 g', null, null, 25, 'g', 6, 'Dairy & alternatives'],
  ['Apple juice .75 L', 'Apple juice 750 ml', null, null, 750, 'ml', null, 'Drinks'],
  ['MILK CHOCOLATE 100G', 'Milk Chocolate 100 g', null, null, 100, 'g', null, 'Dairy & alternatives'],
  ['Greek yoghurt DANONE 4x125g', 'Greek yoghurt Danone 4 × 125 g', 'Danone', 'Dairy & alternatives', 125, 'g', 4, null],
  ['Nutella 750 grams', 'Nutella 750 g', 'Nutella', null, 750, 'g', null, null],
  ['Liquid soap refill 1 litre', 'Liquid soap refill 1 l', null, 'Household', 1000, 'ml', null, null],
  ['Cola Zero 2 LTR', 'Cola Zero 2 l', null, null, 2000, 'ml', null, 'Drinks'],
  ['Espresso ground coffee 250 g', 'Espresso ground coffee 250 g', null, 'Coffee', 250, 'g', null, null],
  ['Dried pasta fusilli 500 g', 'Dried pasta fusilli 500 g', null, 'Pasta', 500, 'g', null, null],
  ['Salted nuts 200 g', 'Salted nuts 200 g', null, null, 200, 'g', null, 'Snacks'],
  ['Oat milk 6 x 1 l', 'Oat milk 6 × 1 l', null, 'Dairy & alternatives', 1000, 'ml', 6, null],
  ['Olive oil 750 ML', 'Olive oil 750 ml', null, null, 750, 'ml', null, null],
  ['Basmati rice 5 kilos', 'Basmati rice 5 kg', null, null, 5000, 'g', null, null],
  ['Tea bags 80 ct', 'Tea bags 80 pcs', null, null, 80, 'pcs', null, null],
  ['Eggs 12 pieces', 'Eggs 12 pcs', null, null, 12, 'pcs', null, null],
  ['Butter 250gm', 'Butter 250 g', null, null, 250, 'g', null, null],
  ['Honey 12 oz', 'Honey 340 g', null, null, 340, 'g', null, null],
  ['Peanut butter 1 lb', 'Peanut butter 454 g', null, null, 454, 'g', null, null],
  ['Yoghurt 500 g', 'Yoghurt 500 g', null, null, 500, 'g', null, 'Dairy & alternatives'],
  ['Energy drink 4 x 500 ml', 'Energy drink 4 × 500 ml', null, 'Drinks', 500, 'ml', 4, null],
  ['Orange juice 1.75 L', 'Orange juice 1.75 l', null, null, 1750, 'ml', null, 'Drinks'],
  ['  Whole   milk  ,  1 l  ', 'Whole milk, 1 l', null, null, 1000, 'ml', null, 'Dairy & alternatives'],
  ['SPAGHETTI', 'Spaghetti', null, null, null, null, null, 'Pasta'],
  ['Detergent 3 L', 'Detergent 3 l', null, null, 3000, 'ml', null, 'Household'],
  ['cheese slices 10 pcs', 'Cheese Slices 10 pcs', null, null, 10, 'pcs', null, 'Dairy & alternatives'],
  ['Coffee  Beans Dark Roast 1kg', 'Coffee Beans Dark Roast 1 kg', null, 'Coffee', 1000, 'g', null, null],
  ['Paper towels 6 pack', 'Paper towels 6 pack', null, null, null, null, null, null],
  ['Red Bull Red Bull Sugarfree 355 ml', 'Red Bull Sugarfree 355 ml', 'Red Bull', null, 355, 'ml', null, null],
  ['Mineral water 500 ml x 12', 'Mineral water 12 × 500 ml', null, null, 500, 'ml', 12, 'Drinks'],
  ['Rice cakes 100 g', 'Rice cakes 100 g', null, null, 100, 'g', null, null],
];

describe('catalog enrichment rules', () => {
  it.each(table)('%j', (input, title, brand, category, size, unit, pack, reviewCategory) => {
    const { product, review } = enrich({ title: input }, rules);
    expect({
      title: product.title,
      brand: product.brand ?? null,
      category: product.category ?? null,
      size: product.attributes?.size ?? null,
      unit: product.attributes?.unit ?? null,
      pack: product.attributes?.packCount ?? null,
      review: review.find((o) => o.field === 'category')?.to ?? null,
    }).toEqual({ title, brand, category, size, unit, pack, review: reviewCategory });
  });

  it('says which rule changed what, and is stable (enriching the result changes nothing more)', () => {
    const first = enrich({ title: 'NESCAFE GOLD BLEND NESCAFE 200GM' }, rules);
    expect(first.applied.map((o) => `${o.rule}:${o.field}`)).toEqual(
      expect.arrayContaining(['size:title', 'size:attributes.size', 'casing:title', 'brand:brand', 'brand:title', 'synonyms:synonyms']),
    );
    const again = enrich(first.product, rules);
    expect(again.applied).toEqual([]);
    expect(again.product).toEqual(first.product);
  });

  it('leaves an existing brand and category alone, fixing only the brand’s spelling', () => {
    const { product } = enrich({ title: 'Gold blend', brand: 'NESCAFE', category: 'Tea' }, rules);
    expect(product).toMatchObject({ brand: 'Nescafé', category: 'Tea' });
  });

  it('switches rules off by name, and a reviewer applies a suggestion as the rule would have', () => {
    const { product, review } = enrich({ title: 'SPAGHETTI 500GM' }, { ...rules, disabled: ['casing'] });
    expect(product.title).toBe('SPAGHETTI 500 g');
    expect(apply(product, review.find((o) => o.field === 'category')!).category).toBe('Pasta');
  });
});
