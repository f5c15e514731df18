/**
 * Catalog enrichment: small named rules that clean a product as it comes in (sizes and units,
 * casing, whitespace, a brand inside the title, a category from keywords, search synonyms). Pure
 * functions, no I/O: the same input and rules give the same output, so a table of dirty inputs
 * tests them (enrichment.test.ts). Each rule says what it changed and how sure it is; what falls
 * below the tenant's threshold is a suggestion for review, not a change.
 */

/** What enrichment reads and writes of a product. */
export interface ProductDraft {
  title: string;
  brand?: string | null;
  category?: string | null;
  attributes?: Record<string, string | number>;
  synonyms?: string[];
}

/** A tenant's enrichment settings. */
export interface EnrichmentRules {
  /** Brands as they should be spelled ("Nescafé", "Coca-Cola"). */
  brands: readonly string[];
  /** Category name → keywords that suggest it. */
  categoryKeywords: Readonly<Record<string, readonly string[]>>;
  /** Rules switched off by name. */
  disabled?: readonly string[];
  /** Below this confidence a result is a suggestion for review (default 0.8). */
  threshold?: number;
}

/** One rule's result: which field it changed, from what to what, and how sure it is (0-1). */
export interface RuleOutcome {
  /** A rule's name, or `model` for an external model's proposal (always for review). */
  rule: RuleName | 'model';
  field: 'title' | 'brand' | 'category' | `attributes.${string}` | 'synonyms';
  from: unknown;
  to: unknown;
  confidence: number;
  reason: string;
}

export interface Enrichment {
  /** The product with every confident change applied. */
  product: ProductDraft;
  applied: RuleOutcome[];
  /** Changes not applied: below the threshold, for a person to apply or reject. */
  review: RuleOutcome[];
}

export const RULES = ['whitespace', 'size', 'casing', 'brand', 'category', 'synonyms'] as const;
export type RuleName = (typeof RULES)[number];

/** Runs every enabled rule in order; each sees what the ones before it applied. */
export function enrich(input: ProductDraft, rules: EnrichmentRules): Enrichment {
  const threshold = rules.threshold ?? 0.8;
  const disabled = new Set(rules.disabled ?? []);
  let product: ProductDraft = { ...input, attributes: { ...(input.attributes ?? {}) }, synonyms: [...(input.synonyms ?? [])] };
  const applied: RuleOutcome[] = [];
  const review: RuleOutcome[] = [];
  for (const name of RULES) {
    if (disabled.has(name)) continue;
    for (const outcome of STEPS[name](product, rules)) {
      if (outcome.confidence >= threshold) {
        product = apply(product, outcome);
        applied.push(outcome);
      } else {
        review.push(outcome);
      }
    }
  }
  return { product, applied, review };
}

/** A suggestion applied to a product (also how a reviewer's `applyEnrichment` takes one). */
export function apply(product: ProductDraft, outcome: RuleOutcome): ProductDraft {
  if (outcome.field.startsWith('attributes.')) {
    return { ...product, attributes: { ...(product.attributes ?? {}), [outcome.field.slice('attributes.'.length)]: outcome.to as string | number } };
  }
  return { ...product, [outcome.field]: outcome.to };
}

type Step = (product: ProductDraft, rules: EnrichmentRules) => RuleOutcome[];

const STEPS: Record<RuleName, Step> = {
  whitespace(product) {
    const to = product.title
      .replace(/\s+/g, ' ')
      .replace(/\s+([,.;:!?)])(?=\s|$)/g, '$1')
      .replace(/([(])\s+/g, '$1')
      .replace(/([-–—,])\1+/g, '$1')
      .replace(/^[\s\-–—,.;:]+|[\s\-–—,;:]+$/g, '');
    return to === product.title ? [] : [{ rule: 'whitespace', field: 'title', from: product.title, to, confidence: 1, reason: 'extra spaces and stray punctuation' }];
  },

  size(product) {
    const found = findSize(product.title);
    if (!found) return [];
    const out: RuleOutcome[] = [];
    const title = `${product.title.slice(0, found.index)}${found.text}${product.title.slice(found.index + found.raw.length)}`.replace(/\s+/g, ' ').trim();
    if (title !== product.title) out.push({ rule: 'size', field: 'title', from: product.title, to: title, confidence: 1, reason: `"${found.raw.trim()}" written as ${found.text}` });
    const attributes = product.attributes ?? {};
    const set = (key: string, value: string | number) => {
      if (attributes[key] !== value) out.push({ rule: 'size', field: `attributes.${key}`, from: attributes[key] ?? null, to: value, confidence: 1, reason: `from "${found.raw.trim()}" in the title` });
    };
    set('size', found.size);
    set('unit', found.unit);
    if (found.pack > 1) set('packCount', found.pack);
    return out;
  },

  casing(product) {
    const letters = product.title.replace(/[^A-Za-zÀ-ÖØ-öø-ÿ]/g, '');
    if (letters.length < 4) return [];
    const upper = letters.replace(/[^A-ZÀ-ÖØ-Þ]/g, '').length / letters.length;
    const lower = letters.replace(/[^a-zß-öø-ÿ]/g, '').length / letters.length;
    if (upper < 0.8 && lower < 0.98) return [];
    const to = titleCase(product.title);
    return to === product.title ? [] : [{ rule: 'casing', field: 'title', from: product.title, to, confidence: 0.95, reason: upper >= 0.8 ? 'all capitals' : 'all lower case' }];
  },

  brand(product, rules) {
    const out: RuleOutcome[] = [];
    // The title folded once for the whole dictionary (not once per brand).
    const folded = foldSameLength(product.title);
    const hits = rules.brands
      .map((brand) => ({ brand, matches: brandMatches(product.title, folded, brand) }))
      .filter((hit) => hit.matches.length > 0)
      .sort((a, b) => b.brand.length - a.brand.length);
    const known = product.brand ? rules.brands.find((b) => fold(b) === fold(product.brand!)) : undefined;
    if (known && known !== product.brand) {
      out.push({ rule: 'brand', field: 'brand', from: product.brand, to: known, confidence: 1, reason: `the dictionary spells it ${known}` });
    }
    const hit = hits[0];
    if (!hit) return out;
    if (!product.brand) {
      // One brand named in the title: sure. Two different ones: a person decides.
      out.push({ rule: 'brand', field: 'brand', from: null, to: hit.brand, confidence: hits.length === 1 ? 0.9 : 0.5, reason: `"${hit.matches[0]!.text}" in the title` });
    }
    let title = product.title;
    // The brand written twice ("NESCAFE Nescafe Gold"), or in another spelling: once, as the dictionary spells it.
    const matches = hit.matches;
    for (const match of matches.slice(1).reverse()) title = `${title.slice(0, match.index)}${title.slice(match.index + match.text.length)}`;
    const first = matches[0]!;
    title = `${title.slice(0, first.index)}${hit.brand}${title.slice(first.index + first.text.length)}`.replace(/\s+/g, ' ').trim();
    if (title !== product.title) out.push({ rule: 'brand', field: 'title', from: product.title, to: title, confidence: 1, reason: matches.length > 1 ? 'brand written twice' : `brand spelled ${hit.brand}` });
    return out;
  },

  category(product, rules) {
    if (product.category) return [];
    const words = new Set(tokens(`${product.title} ${product.brand ?? ''}`));
    // A keyword of two words ("instant coffee") weighs two.
    const scored = keywordTokensOf(rules.categoryKeywords)
      .map(({ category, keywords }) => {
        const matched = keywords.filter((k) => k.tokens.every((t) => words.has(t)));
        return { category, matched: matched.map((k) => k.keyword), score: matched.reduce((sum, k) => sum + k.tokens.length, 0) };
      })
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score);
    const best = scored[0];
    if (!best) return [];
    const runnerUp = scored[1]?.score ?? 0;
    // Sure when one category wins on two words or more; one word alone, or a contest, goes to review.
    const confidence = runnerUp === best.score ? 0.4 : runnerUp > 0 ? 0.6 : best.score >= 2 ? 0.9 : 0.7;
    return [{ rule: 'category', field: 'category', from: null, to: best.category, confidence, reason: `keywords ${best.matched.map((k) => `"${k}"`).join(', ')}${runnerUp ? `; also ${scored[1]!.category}` : ''}` }];
  },

  synonyms(product) {
    const size = product.attributes?.size;
    const unit = product.attributes?.unit;
    if (typeof size !== 'number' || typeof unit !== 'string') return [];
    const extra = sizeSpellings(size, unit).filter((s) => !(product.synonyms ?? []).includes(s));
    if (extra.length === 0) return [];
    const to = [...(product.synonyms ?? []), ...extra];
    return [{ rule: 'synonyms', field: 'synonyms', from: product.synonyms ?? [], to, confidence: 1, reason: 'other ways shoppers write the size' }];
  },
};

const UNITS: Record<string, { unit: 'g' | 'ml' | 'pcs'; factor: number }> = {
  mg: { unit: 'g', factor: 0.001 },
  g: { unit: 'g', factor: 1 }, gm: { unit: 'g', factor: 1 }, gms: { unit: 'g', factor: 1 }, gr: { unit: 'g', factor: 1 }, grs: { unit: 'g', factor: 1 },
  gram: { unit: 'g', factor: 1 }, grams: { unit: 'g', factor: 1 }, gramm: { unit: 'g', factor: 1 },
  kg: { unit: 'g', factor: 1000 }, kgs: { unit: 'g', factor: 1000 }, kilo: { unit: 'g', factor: 1000 }, kilos: { unit: 'g', factor: 1000 }, kilogram: { unit: 'g', factor: 1000 }, kilograms: { unit: 'g', factor: 1000 },
  oz: { unit: 'g', factor: 28.349523125 }, lb: { unit: 'g', factor: 453.59237 }, lbs: { unit: 'g', factor: 453.59237 },
  ml: { unit: 'ml', factor: 1 }, mls: { unit: 'ml', factor: 1 }, cl: { unit: 'ml', factor: 10 }, dl: { unit: 'ml', factor: 100 },
  l: { unit: 'ml', factor: 1000 }, lt: { unit: 'ml', factor: 1000 }, ltr: { unit: 'ml', factor: 1000 }, ltrs: { unit: 'ml', factor: 1000 },
  litre: { unit: 'ml', factor: 1000 }, litres: { unit: 'ml', factor: 1000 }, liter: { unit: 'ml', factor: 1000 }, liters: { unit: 'ml', factor: 1000 },
  pc: { unit: 'pcs', factor: 1 }, pcs: { unit: 'pcs', factor: 1 }, piece: { unit: 'pcs', factor: 1 }, pieces: { unit: 'pcs', factor: 1 },
  ct: { unit: 'pcs', factor: 1 }, count: { unit: 'pcs', factor: 1 }, st: { unit: 'pcs', factor: 1 }, stk: { unit: 'pcs', factor: 1 },
};
const UNIT_WORDS = Object.keys(UNITS).sort((a, b) => b.length - a.length).join('|');
const NUMBER = String.raw`\d+(?:[.,]\d+)?|[.,]\d+`;
// "6x330ml", "6 x 330 ML", "330ml x 6", "500gm", "0.5 KG", "1,5l", "12 pcs"
const PACK_FIRST = new RegExp(String.raw`(?<![\w.,])(\d+)\s*[x×*]\s*(${NUMBER})\s*(${UNIT_WORDS})\.?(?![\p{L}\d])`, 'iu');
const PACK_LAST = new RegExp(String.raw`(?<![\w.,])(${NUMBER})\s*(${UNIT_WORDS})\.?\s*[x×*]\s*(\d+)(?![\p{L}\d])`, 'iu');
const SINGLE = new RegExp(String.raw`(?<![\w.,])(${NUMBER})\s*(${UNIT_WORDS})\.?(?![\p{L}\d])`, 'iu');

interface FoundSize {
  raw: string;
  index: number;
  size: number;
  unit: 'g' | 'ml' | 'pcs';
  pack: number;
  /** How the title writes it now ("500 g", "6 × 330 ml"). */
  text: string;
}

function findSize(title: string): FoundSize | undefined {
  const build = (raw: string, index: number, amount: string, unitWord: string, pack: number): FoundSize | undefined => {
    const unit = UNITS[unitWord.toLowerCase()];
    const value = Number(amount.replace(',', '.'));
    if (!unit || !Number.isFinite(value) || value <= 0) return undefined;
    // Imperial units to whole grams (12 oz is 340 g on a label, not 340.194).
    const size = Number.isInteger(Math.log10(unit.factor)) ? round(value * unit.factor) : Math.round(value * unit.factor);
    const one = displaySize(size, unit.unit);
    return { raw, index, size, unit: unit.unit, pack, text: pack > 1 ? `${pack} × ${one}` : one };
  };
  let m = PACK_FIRST.exec(title);
  if (m) return build(m[0], m.index, m[2]!, m[3]!, Number(m[1]));
  m = PACK_LAST.exec(title);
  if (m) return build(m[0], m.index, m[1]!, m[2]!, Number(m[3]));
  m = SINGLE.exec(title);
  if (m) return build(m[0], m.index, m[1]!, m[2]!, 1);
  return undefined;
}

const round = (n: number) => Math.round(n * 1000) / 1000;
/** How a title shows a size: 1 kg and 1.5 l rather than 1000 g and 1500 ml. */
const displaySize = (size: number, unit: 'g' | 'ml' | 'pcs') =>
  unit === 'g' && size >= 1000 ? `${formatNumber(size / 1000)} kg` : unit === 'ml' && size >= 1000 ? `${formatNumber(size / 1000)} l` : `${formatNumber(size)} ${unit}`;
const formatNumber = (n: number) => (Number.isInteger(n) ? String(n) : String(round(n)));

/** Other spellings of a normalised size, for search ("500 g" → "500g", "0.5 kg"). */
function sizeSpellings(size: number, unit: string): string[] {
  const out = [`${formatNumber(size)}${unit}`];
  if (unit === 'g' && size >= 100) out.push(`${formatNumber(size / 1000)} kg`, `${formatNumber(size / 1000)}kg`);
  if (unit === 'ml' && size >= 100) out.push(`${formatNumber(size / 1000)} l`, `${formatNumber(size / 1000)}l`);
  return out;
}

const SMALL_WORDS = new Set(['a', 'an', 'and', 'as', 'at', 'by', 'de', 'for', 'in', 'of', 'on', 'or', 'the', 'to', 'with', 'x', 'g', 'ml', 'pcs', 'kg', 'l']);

/** "ORGANIC OAT MILK 1 L" → "Organic Oat Milk 1 l": small words and units lower case, codes with digits kept. */
function titleCase(title: string): string {
  return title
    .split(/(\s+|-|\/)/)
    .map((word, i) => {
      if (!/\p{L}/u.test(word)) return word;
      if (/\d/.test(word)) return word;
      const lower = word.toLocaleLowerCase();
      if (i > 0 && SMALL_WORDS.has(lower)) return lower;
      return lower.charAt(0).toLocaleUpperCase() + lower.slice(1);
    })
    .join('');
}

const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const tokens = (text: string) => fold(text).split(/[^a-z0-9]+/).filter(Boolean);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The title with accents dropped, one UTF-16 unit for one: indices found in it hold in the title. */
const foldSameLength = (text: string) =>
  // Printable ASCII has nothing to fold (most titles): skip the per-character pass.
  /^[\u0020-\u007e]*$/.test(text)
    ? text
    : text
    .split('')
    .map((c) => {
      const f = c.normalize('NFD').replace(/\p{M}/gu, '');
      return f.length === 1 ? f : c;
    })
    .join('');

/** Each brand's pattern, compiled once (a feed matches every row against the whole dictionary). */
const BRAND_PATTERNS = new Map<string, RegExp>();

/**
 * Each keyword's words, once per tenant's settings (a feed batch shares one settings object over
 * its rows; the profile of a feed showed every row folding and splitting every keyword again).
 */
const KEYWORD_TOKENS = new WeakMap<object, { category: string; keywords: { keyword: string; tokens: string[] }[] }[]>();
function keywordTokensOf(categoryKeywords: EnrichmentRules['categoryKeywords']) {
  let compiled = KEYWORD_TOKENS.get(categoryKeywords);
  if (!compiled) {
    compiled = Object.entries(categoryKeywords).map(([category, keywords]) => ({ category, keywords: keywords.map((keyword) => ({ keyword, tokens: tokens(keyword) })) }));
    KEYWORD_TOKENS.set(categoryKeywords, compiled);
  }
  return compiled;
}

/** Where a brand stands in a title (`folded`: the title through foldSameLength), whatever its case and accents ("NESCAFE" finds Nescafé). */
function brandMatches(title: string, folded: string, brand: string): { index: number; text: string }[] {
  // Apostrophes optional: "LAYS" is Lay's.
  let pattern = BRAND_PATTERNS.get(brand);
  if (!pattern) {
    const letters = escape(foldSameLength(brand)).replace(/['’]/g, "['’]?");
    pattern = new RegExp(`(?<![\\p{L}\\d])${letters}(?![\\p{L}\\d])`, 'giu');
    if (BRAND_PATTERNS.size >= 10_000) BRAND_PATTERNS.clear();
    BRAND_PATTERNS.set(brand, pattern);
  }
  return [...folded.matchAll(pattern)].map((m) => ({ index: m.index!, text: title.slice(m.index!, m.index! + m[0].length) }));
}
