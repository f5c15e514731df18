import type { DataSource, EntityManager } from 'typeorm';
import { inTenantTransaction } from '../../../../lib/db/data-source.js';
import { andOfOrGroups, compareLexemes, formatFloat8, operandsOf, orNumerator, orOnly, orTerm, parseTsquery, rankAndRanges, parseTsvector, sortAndUniqItems, tsMatch, tsRank, type Positions } from './search-words.js';

/**
 * The storefront search's filters, facets, sorts and pages, answered from memory (decision 0049).
 *
 * Per tenant, one column per fact a search filters, counts or sorts by, indexed by the product's
 * ordinal: its id, `seq`, published and archived flags, brand, leaf category and category path,
 * title key, each attribute's value (text and number), and its search document (decision 0053);
 * per store, each product's price and whether it is in stock. A search asks the database only to
 * expand its words into a tsquery (nothing at all for a browse or a filter), matches and ranks them
 * against the documents exactly as `@@` and `ts_rank` do (search-words.ts), then one pass
 * over the candidates evaluates the filters and counts every facet with the other filters applied
 * (a facet ignores its own filter), and the page is the first `page` by the sort's key after the
 * cursor: the search function's answer (`RawSearch`), computed without its grouping sets.
 *
 * Kept current from the rows the search read model already writes: each search row and offer
 * carries the transaction that last wrote it (`change_xid`, migration 1740068000000). When the
 * tenant's search generation moves, the rows written since the oldest transaction still running
 * at the last read are read again (a row read twice is applied twice, none is missed). Built and
 * kept through the tenant's own transaction (its RLS scope): the SECURITY DEFINER functions read
 * the tenant `app.tenant_id` names, as the search function does.
 *
 * Bounded: at most `maxProducts` products over all tenants (SEARCH_INDEX_MAX_PRODUCTS, default
 * 250,000; 0 turns the index off) and `MAX_STORES` stores per tenant. A tenant whose catalog does
 * not fit, or whose index is not built yet, is searched by the search function (the SQL path).
 */
export const DEFAULT_SEARCH_INDEX_MAX_PRODUCTS = 250_000;
/** Stores per tenant whose prices and stock are kept (a search in another store takes the SQL path). */
export const MAX_STORES = 8;
/** A tenant too large for the bound is tried again after this long (its catalog may have shrunk, or others left). */
const RETRY_TOO_LARGE_MS = 10 * 60_000;

/** SEARCH_INDEX_MAX_PRODUCTS: a whole number of products (0: no index). */
export function readSearchIndexMaxProducts(env: Record<string, string | undefined> = process.env): number {
  const raw = env.SEARCH_INDEX_MAX_PRODUCTS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_SEARCH_INDEX_MAX_PRODUCTS;
  if (!/^\d{1,9}$/.test(raw.trim())) throw new Error(`SEARCH_INDEX_MAX_PRODUCTS must be a whole number of products (0 turns the search index off), not "${raw}"`);
  return Number(raw.trim());
}

/** What the storefront search function answers (see the storefront-search migration). */
export interface RawSearch {
  total: number;
  /** [id, seq, sort key]: the seq as the search function's JSON has it (a number), so cursors are the same bytes. */
  page: [string, number | string, string][];
  brands: [string, number][];
  categories: [string, number][];
  prices: [number, number][];
  stock: [boolean, number][];
  /** [attribute name, value, count], most frequent first per attribute. */
  attributes?: [string, string, number][];
}

export interface IndexQuery {
  /** The query's words as the search function receives them (null: every product). */
  query: string | null;
  drafts: boolean;
  store: string | null;
  brands: readonly string[] | null;
  categoryIds: readonly string[] | null;
  priceMin: string | null;
  priceMax: string | null;
  inStock: boolean | null;
  sort: 'RELEVANCE' | 'PRICE_ASC' | 'PRICE_DESC' | 'NEWEST' | 'TITLE';
  afterKey: string | null;
  afterSeq: string | null;
  /** Rows of the page to return (the caller's page size + 1). */
  page: number;
  /** The attribute filters, as the search function receives them. */
  attributes: { name: string; values?: string[]; min?: number; max?: number }[] | null;
  /** The tenant's filterable attributes (their facets are counted). */
  facetAttributes: ReadonlySet<string>;
}

/** Upper bounds of the price buckets (the search function's width_bucket uses the same). */
const PRICE_BOUNDS = [10, 25, 50, 100, 250, 500];

interface SearchRow {
  product_id: string;
  seq: string;
  published: boolean;
  archived: boolean;
  brand: string | null;
  category_id: string | null;
  category_path: string[] | string;
  title_key: string;
  /** The search document (tsvector as text; decision 0053). */
  document?: string | null;
}

interface StoreOffers {
  price: number[];
  inStock: number[];
  watermark: string;
  /**
   * Offers read before their product's search row (a store built, or a sync's offers read, while
   * rows written since the index's last read were not applied yet): kept until the row arrives. The
   * watermark has moved past them, so they are not read again. At most one per product of the store.
   */
  pending: Map<string, Offer>;
}

interface Offer {
  product_id: string;
  price: number | null;
  in_stock: boolean;
}

interface Attribute {
  text: (string | undefined)[];
  number: (number | undefined)[];
}

export class TenantIndex {
  generation = 0n;
  watermark = '0';
  readonly ordinal = new Map<string, number>();
  readonly bySeq = new Map<number, number>();
  readonly ids: string[] = [];
  readonly seq: number[] = [];
  readonly visible: number[] = []; // 0: archived, 1: published, 2: draft (not archived)
  readonly brand: number[] = [];
  readonly brands: string[] = [];
  readonly brandIds = new Map<string, number>();
  readonly category: (string | null)[] = [];
  readonly path: string[][] = [];
  readonly paths = new Map<string, string[]>();
  readonly titleKey: string[] = [];
  readonly attributes = new Map<string, Attribute>();
  readonly strings = new Map<string, string>();
  readonly stores = new Map<string, StoreOffers>();
  readonly storesBuilding = new Set<string>();
  syncing: Promise<void> | null = null;

  // The search documents (decision 0053): a dictionary of lexemes, postings per lexeme (the products
  // whose document had it when written: a superset, checked against the document), each product's document.
  readonly lexemeIds = new Map<string, number>();
  readonly lexemes: string[] = [];
  /** Lexeme ids in tsCompareString order (a prefix is a range); sorted once after a build, then kept sorted. */
  readonly sortedLexemes: number[] = [];
  private sorting = true;
  readonly postingCount: number[] = [];
  /** A lexeme's first posting: its product, the product's document stamp then, orNumerator of its entry. */
  readonly postingFirst: number[] = [];
  readonly postingFirstStamp: number[] = [];
  readonly postingFirstNumerator: number[] = [];
  /** The others, when more than one: [product, stamp] pairs, and each one's orNumerator. */
  readonly postings: (Int32Array | undefined)[] = [];
  readonly postingNumerators: (Float32Array | undefined)[] = [];
  /**
   * Per product, the stamp its current document was written with: a posting whose stamp is not its
   * product's is of an earlier document (rewriting a document posts each of its lexemes anew).
   */
  readonly docStamp: number[] = [];
  private stamps = 0;
  /** Per product: [n, lexeme ids…, n + 1 offsets…, WordEntryPos values…]. */
  readonly docs: (Int32Array | undefined)[] = [];
  /** Products whose document has a lexeme without positions (their matches are left to the database). */
  readonly withoutPositions = new Set<number>();

  get size(): number {
    return this.ids.length;
  }

  intern(value: string): string {
    const kept = this.strings.get(value);
    if (kept !== undefined) return kept;
    this.strings.set(value, value);
    return value;
  }

  apply(row: SearchRow): number {
    let i = this.ordinal.get(row.product_id);
    if (i === undefined) {
      i = this.ids.length;
      this.ordinal.set(row.product_id, i);
      this.ids.push(row.product_id);
    }
    const seq = Number(row.seq);
    this.seq[i] = seq;
    this.bySeq.set(seq, i);
    this.visible[i] = row.archived ? 0 : row.published ? 1 : 2;
    if (row.brand === null) this.brand[i] = -1;
    else {
      let b = this.brandIds.get(row.brand);
      if (b === undefined) {
        b = this.brands.length;
        this.brands.push(row.brand);
        this.brandIds.set(row.brand, b);
      }
      this.brand[i] = b;
    }
    this.category[i] = row.category_id === null ? null : this.intern(row.category_id);
    const path = typeof row.category_path === 'string' ? parseUuidArray(row.category_path) : row.category_path;
    const key = path.join(',');
    let kept = this.paths.get(key);
    if (!kept) {
      kept = path.map((id) => this.intern(id));
      this.paths.set(key, kept);
    }
    this.path[i] = kept;
    this.titleKey[i] = row.title_key;
    if (row.document !== undefined) this.setDocument(i, row.document ?? '');
    return i;
  }

  lexeme(text: string): number {
    let id = this.lexemeIds.get(text);
    if (id !== undefined) return id;
    id = this.lexemes.length;
    this.lexemes.push(text);
    this.lexemeIds.set(text, id);
    this.postingCount.push(0);
    this.postingFirst.push(-1);
    this.postingFirstStamp.push(0);
    this.postingFirstNumerator.push(0);
    this.postings.push(undefined);
    this.postingNumerators.push(undefined);
    if (this.sorting) this.sortedLexemes.push(id);
    else this.sortedLexemes.splice(this.lowerBound(text), 0, id);
    return id;
  }

  /** The first place in sortedLexemes whose lexeme is not before `text`. */
  lowerBound(text: string): number {
    let lo = 0;
    let hi = this.sortedLexemes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareLexemes(this.lexemes[this.sortedLexemes[mid]!]!, text) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** After a build's rows: the dictionary sorted once. */
  sortLexemes(): void {
    this.sortedLexemes.sort((a, b) => compareLexemes(this.lexemes[a]!, this.lexemes[b]!));
    this.sorting = false;
  }

  setDocument(i: number, text: string): void {
    const { lexemes, positions } = parseTsvector(text);
    const n = lexemes.length;
    let total = 0;
    for (const p of positions) total += p.length;
    const doc = new Int32Array(2 + 2 * n + total);
    doc[0] = n;
    let at = 2 + 2 * n;
    let missing = false;
    for (let j = 0; j < n; j++) {
      doc[1 + j] = this.lexeme(lexemes[j]!);
      doc[1 + n + j] = at;
      const p = positions[j]!;
      if (p.length === 0) missing = true;
      for (let k = 0; k < p.length; k++) doc[at++] = p[k]!;
    }
    doc[1 + 2 * n] = at;
    const old = this.docs[i];
    // The same document again (a row rewritten for another column): its postings stand.
    if (old && old.length === doc.length && old.every((v, k) => v === doc[k])) return;
    this.docs[i] = doc;
    // Kept as an Int32Array keeps it (wrapping after 2^31 writes, as the postings' copies do).
    const stamp = (this.stamps = (this.stamps + 1) | 0);
    this.docStamp[i] = stamp;
    for (let j = 0; j < n; j++) this.addPosting(doc[1 + j]!, i, stamp, orNumerator(doc, doc[1 + n + j]!, doc[2 + n + j]!));
    if (missing) this.withoutPositions.add(i);
    else this.withoutPositions.delete(i);
  }

  private addPosting(id: number, i: number, stamp: number, numerator: number): void {
    let c = this.postingCount[id]!;
    if (c === 0) {
      this.postingFirst[id] = i;
      this.postingFirstStamp[id] = stamp;
      this.postingFirstNumerator[id] = numerator;
    } else {
      let list = this.postings[id];
      let nums = this.postingNumerators[id]!;
      if (!list) {
        list = new Int32Array(8);
        nums = new Float32Array(4);
        list[0] = this.postingFirst[id]!;
        list[1] = this.postingFirstStamp[id]!;
        nums[0] = this.postingFirstNumerator[id]!;
        this.postings[id] = list;
        this.postingNumerators[id] = nums;
      } else if (c === nums.length) {
        // Full: first drop the postings of earlier documents (stamped before their product's current
        // one), in order, so a lexeme's list stays within four times its live postings however often
        // documents are rewritten; grow only when more than half of it is live.
        c = compactPostings(list, nums, c, this.docStamp);
        if (2 * c > nums.length) {
          const grown = new Int32Array(nums.length * 4);
          grown.set(list);
          list = grown;
          this.postings[id] = list;
          const grownNums = new Float32Array(nums.length * 2);
          grownNums.set(nums);
          nums = grownNums;
          this.postingNumerators[id] = nums;
        }
      }
      list[2 * c] = i;
      list[2 * c + 1] = stamp;
      nums[c] = numerator;
      // A reader of a one-posting lexeme reads the first posting's fields: keep them list[0]'s.
      this.postingFirst[id] = list[0]!;
      this.postingFirstStamp[id] = list[1]!;
      this.postingFirstNumerator[id] = nums[0]!;
    }
    this.postingCount[id] = c + 1;
  }

  /** Postings held, live or not (for the bound's test and stats). */
  postingsHeld(): number {
    let held = 0;
    for (const c of this.postingCount) held += c;
    return held;
  }

  clearAttributes(i: number): void {
    for (const a of this.attributes.values()) {
      a.text[i] = undefined;
      a.number[i] = undefined;
    }
  }

  setAttribute(i: number, name: string, text: string, number: number | null): void {
    let a = this.attributes.get(name);
    if (!a) {
      a = { text: [], number: [] };
      this.attributes.set(name, a);
    }
    a.text[i] = this.intern(text);
    a.number[i] = number ?? undefined;
  }
}

/** The index of every tenant this process searches, within its bound. */
export class SearchIndex {
  private readonly tenants = new Map<string, TenantIndex>();
  private readonly building = new Map<string, Promise<void>>();
  private readonly tooLarge = new Map<string, number>();
  readonly stats = { builds: 0, syncs: 0, rowsApplied: 0, fallbacks: 0, wordFallbacks: 0 };

  constructor(
    private readonly dataSource: DataSource,
    readonly maxProducts: number,
  ) {}

  get enabled(): boolean {
    return this.maxProducts > 0;
  }

  /** Products kept over all tenants. */
  get products(): number {
    let n = 0;
    for (const t of this.tenants.values()) n += t.size;
    return n;
  }

  /**
   * Whether a search with words would have them expanded (`storefront_search_tsquery`) and matched
   * here: the caller may then expand them in a round trip it makes anyway and pass the text to search.
   */
  matchesWords(tenantId: string): boolean {
    const index = this.tenants.get(tenantId);
    return this.enabled && index !== undefined && index.withoutPositions.size === 0;
  }

  /** Resolves once the tenant's index (and the store's offers, if given) is built or refused (tests and benches wait on it). */
  async ready(tenantId: string, store: string | null = null): Promise<boolean> {
    for (let i = 0; i < 3; i++) {
      this.usable(tenantId, store);
      await this.building.get(tenantId);
      if (store) await this.building.get(`${tenantId}/${store}`);
      if (this.usable(tenantId, store)) return true;
    }
    return false;
  }

  /** The tenant's index if it can answer a search in `store` now; otherwise starts building what is missing and answers null. */
  private usable(tenantId: string, store: string | null): TenantIndex | null {
    if (!this.enabled) return null;
    const index = this.tenants.get(tenantId);
    if (!index) {
      const refused = this.tooLarge.get(tenantId);
      if (refused !== undefined && Date.now() - refused < RETRY_TOO_LARGE_MS) return null;
      if (!this.building.has(tenantId)) this.start(tenantId, () => this.build(tenantId));
      return null;
    }
    if (store === null || index.stores.has(store)) return index;
    const key = `${tenantId}/${store}`;
    if (index.stores.size + index.storesBuilding.size < MAX_STORES && !this.building.has(key)) {
      index.storesBuilding.add(store);
      this.start(key, () => this.buildStore(tenantId, index, store).finally(() => index.storesBuilding.delete(store)));
    }
    return null;
  }

  private start(key: string, work: () => Promise<void>): void {
    const running = work()
      .catch(() => undefined) // A failed build leaves the SQL path in place; the next search tries again.
      .finally(() => this.building.delete(key));
    this.building.set(key, running);
  }

  /**
   * The search's answer from the index, current as of `generation` (the tenant's search
   * generation this search's transaction read), or null when the SQL path must answer.
   */
  async search(m: EntityManager, tenantId: string, generation: string, q: IndexQuery, expanded?: { tsquery: string | null }): Promise<RawSearch | null> {
    const index = this.usable(tenantId, q.store);
    if (!index) {
      this.stats.fallbacks++;
      return null;
    }
    await this.catchUp(m, tenantId, index, BigInt(generation));
    if (this.tenants.get(tenantId) !== index) {
      this.stats.fallbacks++;
      return null;
    }
    let candidates: Int32Array | null = null;
    let ranks: ArrayLike<number> | null = null;
    let rankTexts: string[] | null = null;
    const words = q.query === null ? null : await this.matchWords(m, index, q.query, q.sort === 'RELEVANCE', expanded);
    if (words) {
      candidates = words.candidates;
      ranks = words.ranks;
    } else if (q.query !== null) {
      this.stats.wordFallbacks++;
      const [{ seqs, ranks: rankList }]: [{ seqs: string; ranks: string }] = await m.query(
        `SELECT seqs, ranks FROM "${m.connection.driver.schema}".storefront_search_matches($1, $2)`,
        [q.query, q.sort === 'RELEVANCE'],
      );
      const seqList = seqs === '' ? [] : seqs.split(',');
      const rankParts = q.sort === 'RELEVANCE' && rankList !== '' ? rankList.split(',') : null;
      candidates = new Int32Array(seqList.length);
      const sqlRanks = rankParts ? new Array<number>(index.size) : null;
      if (rankParts) {
        ranks = sqlRanks;
        rankTexts = new Array<string>(index.size);
      }
      let n = 0;
      for (let j = 0; j < seqList.length; j++) {
        const i = index.bySeq.get(Number(seqList[j]));
        // A product committed after the index's last read: as if the search had run just before it.
        if (i === undefined) continue;
        candidates[n++] = i;
        if (rankParts) {
          sqlRanks![i] = Number(rankParts[j]);
          rankTexts![i] = rankParts[j]!;
        }
      }
      candidates = candidates.subarray(0, n);
    }
    return answer(index, q, candidates, ranks, rankTexts);
  }

  /**
   * The products the query's words match, and their `ts_rank` when ranked, from the documents in
   * memory (decision 0053): the database only expands the words into a tsquery. Null when the
   * database must match them (a tsquery shape not evaluated here, a document without positions).
   */
  private async matchWords(
    m: EntityManager,
    index: TenantIndex,
    query: string,
    ranked: boolean,
    expanded?: { tsquery: string | null },
  ): Promise<{ candidates: Int32Array; ranks: Float64Array | null } | null> {
    if (index.withoutPositions.size > 0) return null;
    const [{ q: text }]: [{ q: string | null }] = expanded
      ? [{ q: expanded.tsquery }]
      : await m.query(`SELECT "${m.connection.driver.schema}".storefront_search_tsquery($1) AS q`, [query]);
    if (text === null) return { candidates: new Int32Array(0), ranks: null };
    const parsed = parseTsquery(text);
    if (!parsed) return null;
    const { root, operands } = parsed;
    // Which operands each lexeme of the dictionary satisfies.
    const head = new Int32Array(index.lexemes.length).fill(-1);
    const groups: number[][] = [];
    const seen = new Uint8Array(index.size);
    const found: number[] = [];
    const lexemesOf: number[][] = [];
    const docStamp = index.docStamp;
    operands.forEach((operand, k) => {
      const ids: number[] = [];
      lexemesOf.push(ids);
      if (operand.prefix) {
        for (let at = index.lowerBound(operand.text); at < index.sortedLexemes.length; at++) {
          const id = index.sortedLexemes[at]!;
          if (!index.lexemes[id]!.startsWith(operand.text)) break;
          ids.push(id);
        }
      } else {
        const id = index.lexemeIds.get(operand.text);
        if (id !== undefined) ids.push(id);
      }
      for (const id of ids) {
        if (head[id] === -1) {
          head[id] = groups.length;
          groups.push([]);
        }
        groups[head[id]!]!.push(k);
        // Postings of the products' current documents only (a rewritten one is posted anew).
        const c = index.postingCount[id]!;
        if (c === 1) {
          const o = index.postingFirst[id]!;
          if (!seen[o] && index.postingFirstStamp[id] === docStamp[o]) {
            seen[o] = 1;
            found.push(o);
          }
        } else if (c > 1) {
          const list = index.postings[id]!;
          for (let p = 0; p < 2 * c; p += 2) {
            const o = list[p]!;
            if (!seen[o] && list[p + 1] === docStamp[o]) {
              seen[o] = 1;
              found.push(o);
            }
          }
        }
      }
    });
    const items = ranked ? sortAndUniqItems(operands) : [];
    const candidates = new Int32Array(found.length);
    const ranks = ranked ? new Float64Array(index.size) : null;
    let n = 0;
    if (orOnly(root)) {
      // Operands joined by | (a word and its stems, typos, prefixes): a document matches when any
      // of its lexemes is one an operand matches (the current postings found are exactly those).
      // Its rank is calc_rank_or's sum over the kept items (in their order) of their entries (in
      // the document's order, which is the dictionary's: a prefix item's lexemes are taken in it),
      // each entry's term kept with its posting: the sums run down the postings, not the documents.
      for (const o of found) {
        if (index.visible[o] === 0) continue; // archived: never a result
        if (!index.docs[o]) continue;
        candidates[n++] = o;
      }
      if (ranks) {
        for (const k of items) {
          for (const id of lexemesOf[k]!) {
            const c = index.postingCount[id]!;
            if (c === 1) {
              const o = index.postingFirst[id]!;
              if (index.postingFirstStamp[id] === docStamp[o]) ranks[o] = Math.fround(ranks[o]! + index.postingFirstNumerator[id]! / 1.64493406685);
            } else if (c > 1) {
              const list = index.postings[id]!;
              const nums = index.postingNumerators[id]!;
              for (let p = 0; p < c; p++) {
                const o = list[2 * p]!;
                if (list[2 * p + 1] === docStamp[o]) ranks[o] = Math.fround(ranks[o]! + nums[p]! / 1.64493406685);
              }
            }
          }
        }
        for (let x = 0; x < n; x++) {
          const o = candidates[x]!;
          ranks[o] = Math.fround(ranks[o]! / items.length);
        }
      }
      return { candidates: candidates.subarray(0, n), ranks };
    }
    const wordGroups = andOfOrGroups(root);
    if (wordGroups && wordGroups.length <= 30 && items.length <= 30) {
      // Words joined by & (each a group of | operands): a document matches when every group has a
      // matched lexeme; its rank is calc_rank_and over the kept items' entries.
      const groupMask = new Int32Array(index.lexemes.length);
      wordGroups.forEach((group, g) => {
        for (const k of operandsOf(group)) for (const id of lexemesOf[k]!) groupMask[id]! |= 1 << g;
      });
      const all = (1 << wordGroups.length) - 1;
      const itemMask = new Int32Array(ranked ? index.lexemes.length : 0);
      items.forEach((k, it) => {
        for (const id of lexemesOf[k]!) itemMask[id]! |= 1 << it;
      });
      const ranges: number[][] = items.map(() => []);
      let hits = new Int32Array(256);
      for (const o of found) {
        if (index.visible[o] === 0) continue;
        const doc = index.docs[o];
        if (!doc) continue;
        const size = doc[0]!;
        if (size > hits.length) hits = new Int32Array(size);
        let h = 0;
        let seen = 0;
        for (let j = 0; j < size; j++) {
          const g = groupMask[doc[1 + j]!]!;
          if (g !== 0) {
            seen |= g;
            hits[h++] = j;
          }
        }
        if (seen !== all) continue;
        candidates[n++] = o;
        if (!ranks) continue;
        if (items.length < 2) {
          let res = 0;
          for (let x = 0; x < h; x++) {
            const j = hits[x]!;
            if (itemMask[doc[1 + j]!]! & 1) res = Math.fround(res + orTerm(doc, doc[1 + size + j]!, doc[2 + size + j]!));
          }
          ranks[o] = Math.fround(res / items.length);
          continue;
        }
        for (let it = 0; it < items.length; it++) {
          const list = ranges[it]!;
          list.length = 0;
          const bit = 1 << it;
          for (let x = 0; x < h; x++) {
            const j = hits[x]!;
            if (itemMask[doc[1 + j]!]! & bit) list.push(doc[1 + size + j]!, doc[2 + size + j]!);
          }
        }
        const res = rankAndRanges(doc, ranges);
        ranks[o] = res < 0 ? Math.fround(1e-20) : res;
      }
      return { candidates: candidates.subarray(0, n), ranks };
    }
    const lists: Positions[][] = operands.map(() => []);
    const entries = (k: number) => lists[k]!;
    for (const o of found) {
      if (index.visible[o] === 0) continue; // archived: never a result
      const doc = index.docs[o];
      if (!doc) continue;
      for (const list of lists) list.length = 0;
      const size = doc[0]!;
      for (let j = 0; j < size; j++) {
        const g = head[doc[1 + j]!]!;
        if (g < 0) continue;
        const positions = doc.subarray(doc[1 + size + j]!, doc[2 + size + j]!);
        for (const k of groups[g]!) lists[k]!.push(positions);
      }
      if (!tsMatch(root, entries)) continue;
      candidates[n++] = o;
      if (ranks) ranks[o] = tsRank(root, items, entries);
    }
    return { candidates: candidates.subarray(0, n), ranks };
  }

  /** Brings the tenant's index to at least `generation` (one reader at a time per tenant; the others wait for it). */
  private async catchUp(m: EntityManager, tenantId: string, index: TenantIndex, generation: bigint): Promise<void> {
    while (index.generation < generation && this.tenants.get(tenantId) === index) {
      if (index.syncing) {
        await index.syncing;
        continue;
      }
      index.syncing = this.sync(m, tenantId, index).finally(() => {
        index.syncing = null;
      });
      await index.syncing;
    }
  }

  private async sync(m: EntityManager, tenantId: string, index: TenantIndex): Promise<void> {
    const s = m.connection.driver.schema!;
    const { watermark, generation } = await readMark(m, tenantId);
    try {
      const rows: SearchRow[] = await m.query(`SELECT * FROM "${s}".storefront_search_rows($1::xid8)`, [index.watermark]);
      const changed = rows.map((row) => index.apply(row));
      if (changed.length) await this.readAttributes(m, index, rows.map((r) => r.product_id), changed);
      for (const [store, offers] of index.stores) {
        // Older than anything read below: applied first, so a newer offer read now wins.
        if (offers.pending.size) applyOffers(index, offers, [...offers.pending.values()]);
        const list: Offer[] = await m.query(
          `SELECT * FROM "${s}".storefront_search_offers($1, $2::xid8)`,
          [store, offers.watermark],
        );
        applyOffers(index, offers, list);
        offers.watermark = watermark;
      }
      index.watermark = watermark;
      if (generation > index.generation) index.generation = generation;
      this.stats.syncs++;
      this.stats.rowsApplied += rows.length;
      if (this.products > this.maxProducts) this.drop(tenantId);
    } catch (error) {
      // Half applied: the index is no longer known to be current; the next search builds it again.
      this.tenants.delete(tenantId);
      throw error;
    }
  }

  private drop(tenantId: string): void {
    this.tenants.delete(tenantId);
    this.tooLarge.set(tenantId, Date.now());
  }

  private async build(tenantId: string): Promise<void> {
    await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      const s = m.connection.driver.schema!;
      const { watermark, generation } = await readMark(m, tenantId);
      const [{ n }]: [{ n: string }] = await m.query(`SELECT count(*) AS n FROM "${s}".storefront_search_rows(NULL)`);
      if (this.products + Number(n) > this.maxProducts) {
        this.tooLarge.set(tenantId, Date.now());
        return;
      }
      const index = new TenantIndex();
      const rows: SearchRow[] = await m.query(`SELECT * FROM "${s}".storefront_search_rows(NULL)`);
      for (const row of rows) index.apply(row);
      index.sortLexemes();
      await this.readAttributes(m, index, null, null);
      index.watermark = watermark;
      index.generation = generation;
      this.tooLarge.delete(tenantId);
      this.tenants.set(tenantId, index);
      this.stats.builds++;
    });
  }

  private async buildStore(tenantId: string, index: TenantIndex, store: string): Promise<void> {
    await inTenantTransaction(this.dataSource, tenantId, async (m) => {
      await m.query(`SET LOCAL statement_timeout = 0`);
      const { watermark, generation } = await readMark(m, tenantId);
      const list: Offer[] = await m.query(
        `SELECT * FROM "${m.connection.driver.schema}".storefront_search_offers($1, NULL)`,
        [store],
      );
      const offers: StoreOffers = { price: [], inStock: [], watermark, pending: new Map() };
      applyOffers(index, offers, list);
      // Installed between two syncs; offers newer than the tenant's rows wait in `pending` for their
      // rows, older ones are caught up by the next sync (the tenant's generation is lowered to the one read here).
      if (index.syncing) await index.syncing.catch(() => undefined);
      index.stores.set(store, offers);
      if (generation < index.generation) index.generation = generation;
    });
  }

  /** The attribute values of the products at `ordinals` (all products when null). */
  private async readAttributes(m: EntityManager, index: TenantIndex, ids: string[] | null, ordinals: number[] | null): Promise<void> {
    const s = m.connection.driver.schema!;
    if (ordinals) for (const i of ordinals) index.clearAttributes(i);
    const rows: { product_id: string; name: string; value_text: string; value_number: number | null }[] = await m.query(
      `SELECT product_id, name, value_text, value_number::float8 AS value_number FROM "${s}".product_attribute
        WHERE tenant_id = current_setting('app.tenant_id')::uuid ${ids ? 'AND product_id = ANY($1::uuid[])' : ''}`,
      ids ? [ids] : [],
    );
    for (const row of rows) {
      const i = index.ordinal.get(row.product_id);
      if (i !== undefined) index.setAttribute(i, row.name, row.value_text, row.value_number);
    }
  }
}

/** The generation and the oldest transaction still running, read in one snapshot (so nothing written after it is missed). */
async function readMark(m: EntityManager, tenantId: string): Promise<{ watermark: string; generation: bigint }> {
  const [row]: [{ watermark: string; generation: string | null }] = await m.query(
    `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS watermark,
            (SELECT generation::text FROM "${m.connection.driver.schema}".search_generation WHERE tenant_id = $1) AS generation`,
    [tenantId],
  );
  return { watermark: row.watermark, generation: BigInt(row.generation ?? '0') };
}

function applyOffers(index: TenantIndex, offers: StoreOffers, list: Offer[]): void {
  for (const o of list) {
    const i = index.ordinal.get(o.product_id);
    if (i === undefined) {
      offers.pending.set(o.product_id, o); // Its search row is not read yet: applied when it is.
      continue;
    }
    offers.pending.delete(o.product_id);
    offers.price[i] = o.price === null ? NaN : Number(o.price);
    offers.inStock[i] = o.in_stock ? 1 : 0;
  }
}

function parseUuidArray(text: string): string[] {
  const inner = text.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',');
}

/** Byte order of UTF-8 (the "C" collation the search function sorts titles and names by). */
export function compareC(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const formatFloat = (n: number) => (n === Infinity ? 'Infinity' : n === -Infinity ? '-Infinity' : String(n));

/** The search function's answer, from the index (see the attributes-options-media migration for the statement it stands for). */
function answer(index: TenantIndex, q: IndexQuery, candidates: Int32Array | null, ranks: ArrayLike<number> | null, rankTexts: string[] | null): RawSearch {
  const count = candidates ? candidates.length : index.size;
  const brandFilter = q.brands ? new Set(q.brands.map((b) => index.brandIds.get(b)).filter((b) => b !== undefined)) : null;
  const categoryFilter = q.categoryIds ? new Set(q.categoryIds) : null;
  const offers = q.store ? index.stores.get(q.store)! : null;
  const min = q.priceMin === null ? null : Number(q.priceMin);
  const max = q.priceMax === null ? null : Number(q.priceMax);
  const attributeFilters = (q.attributes ?? []).map((f) => ({
    name: f.name,
    column: index.attributes.get(f.name),
    values: f.values ? new Set(f.values) : null,
    min: f.min ?? null,
    max: f.max ?? null,
  }));
  const facetAttributes = [...q.facetAttributes].filter((name) => index.attributes.has(name)).map((name) => ({ name, column: index.attributes.get(name)! }));
  const brandCounts = new Int32Array(index.brands.length);
  const categoryCounts = new Map<string, number>();
  const priceCounts = new Int32Array(PRICE_BOUNDS.length + 1);
  const stockCounts = [0, 0];
  const attributeCounts = new Map<string, Map<string, number>>(facetAttributes.map((a) => [a.name, new Map()]));
  let total = 0;

  const sort = q.sort;
  const descending = sort === 'RELEVANCE' || sort === 'PRICE_DESC' || sort === 'NEWEST';
  const afterSeq = q.afterSeq === null ? null : Number(q.afterSeq);
  const afterNumber = q.afterKey === null || sort === 'TITLE' ? null : Number(q.afterKey);
  const keyOf = (i: number): number => {
    switch (sort) {
      case 'RELEVANCE':
        return ranks![i] ?? 0;
      case 'PRICE_ASC': {
        const p = offers?.price[i];
        return p === undefined || Number.isNaN(p) ? Infinity : p;
      }
      case 'PRICE_DESC': {
        const p = offers?.price[i];
        return p === undefined || Number.isNaN(p) ? -Infinity : p;
      }
      default:
        return index.seq[i]!;
    }
  };
  // k then seq: negative when i comes before j in the page's order.
  const order = (i: number, j: number): number => {
    let c: number;
    if (sort === 'TITLE') c = compareC(index.titleKey[i]!, index.titleKey[j]!);
    else {
      const a = keyOf(i);
      const b = keyOf(j);
      c = a === b ? 0 : a < b ? -1 : 1;
      if (descending) c = -c;
    }
    return c !== 0 ? c : index.seq[i]! - index.seq[j]!;
  };
  const afterCursor = (i: number): boolean => {
    if (q.afterKey === null) return true;
    let c: number;
    if (sort === 'TITLE') c = compareC(index.titleKey[i]!, q.afterKey);
    else {
      const k = keyOf(i);
      c = k === afterNumber ? 0 : k < afterNumber! ? -1 : 1;
      if (descending) c = -c;
    }
    return c > 0 || (c === 0 && index.seq[i]! > afterSeq!);
  };
  // The page: the first `q.page` rows in order, kept sorted (a page is at most 101 rows).
  const page: number[] = [];
  const offerPage = (i: number) => {
    if (!afterCursor(i)) return;
    if (page.length === q.page && order(i, page[page.length - 1]!) >= 0) return;
    let lo = 0;
    let hi = page.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order(page[mid]!, i) < 0) lo = mid + 1;
      else hi = mid;
    }
    page.splice(lo, 0, i);
    if (page.length > q.page) page.pop();
  };

  for (let c = 0; c < count; c++) {
    const i = candidates ? candidates[c]! : c;
    const visible = index.visible[i]!;
    if (visible === 0 || (visible === 2 && !q.drafts)) continue;
    const brand = index.brand[i]!;
    const fb = brandFilter === null || (brand >= 0 && brandFilter.has(brand));
    let fc = categoryFilter === null;
    if (!fc) for (const id of index.path[i]!) if (categoryFilter!.has(id)) { fc = true; break; }
    const price = offers ? offers.price[i] : undefined;
    const hasPrice = price !== undefined && !Number.isNaN(price);
    const fp = (min === null || (hasPrice && price >= min)) && (max === null || (hasPrice && price <= max));
    const inStock = offers ? offers.inStock[i] === 1 : false;
    const fs = q.inStock === null || inStock === q.inStock;
    // The attribute filters this product fails: none (fa), exactly one (its facet still counts it), or more.
    let fails = 0;
    let failed = '';
    for (const f of attributeFilters) {
      const text = f.column?.text[i];
      let ok = text !== undefined;
      if (ok && f.values && !f.values.has(text!)) ok = false;
      if (ok && (f.min !== null || f.max !== null)) {
        const n = f.column!.number[i];
        if (n === undefined || (f.min !== null && !(n >= f.min)) || (f.max !== null && !(n <= f.max))) ok = false;
      }
      if (!ok) {
        fails++;
        failed = f.name;
      }
    }
    const fa = fails === 0;
    if (fc && fp && fs && fa && brand >= 0) brandCounts[brand]!++;
    if (fb && fp && fs && fa) {
      const category = index.category[i];
      if (category !== null && category !== undefined) categoryCounts.set(category, (categoryCounts.get(category) ?? 0) + 1);
    }
    if (fb && fc && fs && fa && hasPrice) {
      let bucket = 0;
      while (bucket < PRICE_BOUNDS.length && price >= PRICE_BOUNDS[bucket]!) bucket++;
      priceCounts[bucket]!++;
    }
    if (fb && fc && fp && fa) stockCounts[inStock ? 1 : 0]!++;
    if (fb && fc && fp && fs && fails <= 1) {
      for (const a of facetAttributes) {
        if (fails === 1 && failed !== a.name) continue;
        const value = a.column.text[i];
        if (value === undefined) continue;
        const counts = attributeCounts.get(a.name)!;
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    if (fb && fc && fp && fs && fa) {
      total++;
      offerPage(i);
    }
  }

  const brands: [string, number][] = [];
  for (let b = 0; b < brandCounts.length; b++) if (brandCounts[b]! > 0) brands.push([index.brands[b]!, brandCounts[b]!]);
  brands.sort(([a, x], [b, y]) => y - x || compareC(a, b));
  const attributes: [string, string, number][] = [];
  for (const name of [...attributeCounts.keys()].sort(compareC)) {
    const values = [...attributeCounts.get(name)!].sort(([a, x], [b, y]) => y - x || compareC(a, b)).slice(0, 50);
    for (const [value, n] of values) attributes.push([name, value, n]);
  }
  return {
    total,
    page: page.map((i) => [
      index.ids[i]!,
      index.seq[i]!,
      sort === 'TITLE' ? index.titleKey[i]! : sort === 'RELEVANCE' ? (rankTexts ? (rankTexts[i] ?? '0') : formatFloat8(ranks?.[i] ?? 0)) : formatFloat(keyOf(i)),
    ]),
    brands: brands.slice(0, 50),
    categories: [...categoryCounts],
    prices: [...priceCounts].flatMap((n, bucket) => (n > 0 ? [[bucket, n] as [number, number]] : [])),
    stock: [
      ...(stockCounts[1]! > 0 ? [[true, stockCounts[1]!] as [boolean, number]] : []),
      ...(stockCounts[0]! > 0 ? [[false, stockCounts[0]!] as [boolean, number]] : []),
    ],
    attributes,
  };
}

/** Keeps, in order, the postings of their product's current document; returns how many. */
export function compactPostings(list: Int32Array, numerators: Float32Array, count: number, docStamp: readonly number[]): number {
  let live = 0;
  for (let k = 0; k < count; k++) {
    const product = list[2 * k]!;
    const stamp = list[2 * k + 1]!;
    if (docStamp[product] !== stamp) continue;
    list[2 * live] = product;
    list[2 * live + 1] = stamp;
    numerators[live] = numerators[k]!;
    live++;
  }
  return live;
}
