/**
 * Word matching and ranking for the in-memory search index (decision 0053): PostgreSQL's
 * `tsvector @@ tsquery` and `ts_rank(tsvector, tsquery)` (default weights, normalization 0),
 * reproduced so that the index and the search function give the same matches, the same ranks to
 * the last bit of their float4, and so the same order and cursors.
 *
 * - A document is the search row's `document::text`, kept per product as one Int32Array:
 *   `[n, lexeme ids (n, in the tsvector's order), n + 1 offsets into the array, positions…]`, each
 *   position a `WordEntryPos` (14 bits of position, 2 of weight: 3 = A … 0 = D).
 * - A query is `storefront_search_query(query)::text`: operands (`'word'`, `'word':*`), `&`, `|`,
 *   `<->` / `<N>` and parentheses. Anything else (`!`, a weight restriction) is not parsed and the
 *   search asks the database for its matches, as before.
 * - The match is TS_execute's (src/backend/utils/adt/tsvector_op.c): `&` and `|` by presence,
 *   `<N>` by positions (TS_phrase_execute, TS_phrase_output), a prefix operand's positions merged.
 * - The rank is tsrank.c's calc_rank: calc_rank_and for a query whose top operator is `&` or
 *   `<N>`, calc_rank_or otherwise, over the query's operands sorted and made unique as
 *   SortAndUniqItems does (PostgreSQL's own qsort, so that of two operands with the same text, a
 *   prefix and a plain one, the same one is kept), each float4 step rounded with Math.fround.
 */

const f = Math.fround;

// ---------------------------------------------------------------------------------------------
// Strings in the order of tsCompareString (bytes of UTF-8, then length): code points, then length.

export function compareLexemes(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (code points above U+FFFF) sort after every other code unit in code point order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// tsvector text → lexemes and positions.

export interface ParsedDocument {
  lexemes: string[];
  /** Per lexeme, its positions as WordEntryPos values (an empty array: the lexeme has none). */
  positions: number[][];
}

const WEIGHT_BITS: Record<string, number> = { A: 3, B: 2, C: 1, D: 0, a: 3, b: 2, c: 1, d: 0 };

/**
 * A lexeme as tsvector and tsquery output quote it, from just after its opening quote: `''` is a
 * quote, a backslash escapes the next character. Its text and where it ends; null if unterminated.
 */
function readQuoted(text: string, from: number): { word: string; next: number } | null {
  let word = '';
  let i = from;
  for (;;) {
    if (i >= text.length) return null;
    const c = text[i]!;
    if (c === '\\') {
      word += text[i + 1] ?? '';
      i += 2;
    } else if (c === "'") {
      if (text[i + 1] !== "'") return { word, next: i + 1 };
      word += "'";
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
}

/** Parses tsvector output (`'a':1A,3 'b''s':2`). Throws on anything else. */
export function parseTsvector(text: string): ParsedDocument {
  const lexemes: string[] = [];
  const positions: number[][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && text[i] === ' ') i++;
    if (i >= n) break;
    if (text[i] !== "'") throw new Error(`not a tsvector: ${text.slice(0, 80)}`);
    const quoted = readQuoted(text, i + 1);
    if (!quoted) throw new Error('unterminated lexeme in tsvector');
    const word = quoted.word;
    i = quoted.next;
    const pos: number[] = [];
    if (text[i] === ':') {
      i++;
      for (;;) {
        let p = 0;
        const start = i;
        while (i < n && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) p = p * 10 + (text.charCodeAt(i++) - 48);
        if (i === start) throw new Error('position expected in tsvector');
        let w = 0;
        if (i < n && WEIGHT_BITS[text[i]!] !== undefined) w = WEIGHT_BITS[text[i++]!]!;
        pos.push((w << 14) | (p & 0x3fff));
        if (text[i] === ',') i++;
        else break;
      }
    }
    lexemes.push(word);
    positions.push(pos);
  }
  return { lexemes, positions };
}

// ---------------------------------------------------------------------------------------------
// tsquery text → tree.

export type QueryNode =
  | { kind: 'val'; operand: number }
  | { kind: 'and' | 'or'; left: QueryNode; right: QueryNode }
  | { kind: 'phrase'; distance: number; left: QueryNode; right: QueryNode };

export interface Operand {
  text: string;
  prefix: boolean;
}

export interface ParsedQuery {
  root: QueryNode;
  /** In the query text's order (left to right). */
  operands: Operand[];
}

/**
 * Parses tsquery output as storefront_search_query builds it; null for a shape this module does not
 * evaluate (NOT, weight restrictions, an empty query).
 */
export function parseTsquery(text: string): ParsedQuery | null {
  const operands: Operand[] = [];
  let i = 0;
  const n = text.length;
  const skip = () => {
    while (i < n && text[i] === ' ') i++;
  };
  let unsupported = false;
  // Priorities as tsquery's: | 1, & 2, <N> 3; all left-associative.
  const primary = (): QueryNode | null => {
    skip();
    if (text[i] === '(') {
      i++;
      const inner = expression(1);
      skip();
      if (!inner || text[i] !== ')') return null;
      i++;
      return inner;
    }
    if (text[i] !== "'") {
      unsupported = true;
      return null;
    }
    const quoted = readQuoted(text, i + 1);
    if (!quoted) return null;
    const word = quoted.word;
    i = quoted.next;
    let prefix = false;
    if (text[i] === ':') {
      i++;
      while (i < n && text[i] !== ' ' && text[i] !== ')') {
        if (text[i] === '*') prefix = true;
        else unsupported = true; // a weight restriction
        i++;
      }
    }
    operands.push({ text: word, prefix });
    return { kind: 'val', operand: operands.length - 1 };
  };
  const operator = (): { priority: number; kind: 'and' | 'or' | 'phrase'; distance: number; length: number } | null => {
    skip();
    const c = text[i];
    if (c === '&') return { priority: 2, kind: 'and', distance: 0, length: 1 };
    if (c === '|') return { priority: 1, kind: 'or', distance: 0, length: 1 };
    if (c === '<') {
      const m = /^<(-|\d+)>/.exec(text.slice(i, i + 8));
      if (!m) return null;
      return { priority: 3, kind: 'phrase', distance: m[1] === '-' ? 1 : Number(m[1]), length: m[0].length };
    }
    return null;
  };
  const expression = (min: number): QueryNode | null => {
    let left = primary();
    if (!left) return null;
    for (;;) {
      const save = i;
      const op = operator();
      if (!op || op.priority < min) {
        i = save;
        return left;
      }
      i += op.length;
      const right = expression(op.priority + 1);
      if (!right) return null;
      left = op.kind === 'phrase' ? { kind: 'phrase', distance: op.distance, left, right } : { kind: op.kind, left, right };
    }
  };
  const root = expression(1);
  skip();
  if (!root || unsupported || i !== n) return null;
  return { root, operands };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL's qsort (src/include/lib/sort_template.h), for SortAndUniqItems: which of two equal
// operands comes first decides which one is kept.

function pgQsort(a: number[], cmp: (x: number, y: number) => number): void {
  const swap = (i: number, j: number) => {
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  };
  const swapn = (i: number, j: number, n: number) => {
    for (let k = 0; k < n; k++) swap(i + k, j + k);
  };
  const c = (i: number, j: number) => cmp(a[i]!, a[j]!);
  const med3 = (x: number, y: number, z: number) =>
    c(x, y) < 0 ? (c(y, z) < 0 ? y : c(x, z) < 0 ? z : x) : c(y, z) > 0 ? y : c(x, z) < 0 ? x : z;
  const sort = (base: number, n: number): void => {
    for (;;) {
      if (n < 7) {
        for (let pm = base + 1; pm < base + n; pm++) for (let pl = pm; pl > base && c(pl - 1, pl) > 0; pl--) swap(pl, pl - 1);
        return;
      }
      let presorted = true;
      for (let pm = base + 1; pm < base + n; pm++) {
        if (c(pm - 1, pm) > 0) {
          presorted = false;
          break;
        }
      }
      if (presorted) return;
      let pm = base + Math.floor(n / 2);
      if (n > 7) {
        let pl = base;
        let pn = base + n - 1;
        if (n > 40) {
          const d = Math.floor(n / 8);
          pl = med3(pl, pl + d, pl + 2 * d);
          pm = med3(pm - d, pm, pm + d);
          pn = med3(pn - 2 * d, pn - d, pn);
        }
        pm = med3(pl, pm, pn);
      }
      swap(base, pm);
      let pa = base + 1;
      let pb = pa;
      let pc = base + n - 1;
      let pd = pc;
      for (;;) {
        let r: number;
        while (pb <= pc && (r = c(pb, base)) <= 0) {
          if (r === 0) {
            swap(pa, pb);
            pa++;
          }
          pb++;
        }
        while (pb <= pc && (r = c(pc, base)) >= 0) {
          if (r === 0) {
            swap(pc, pd);
            pd--;
          }
          pc--;
        }
        if (pb > pc) break;
        swap(pb, pc);
        pb++;
        pc--;
      }
      const pn = base + n;
      let d1 = Math.min(pa - base, pb - pa);
      swapn(base, pb - d1, d1);
      d1 = Math.min(pd - pc, pn - pd - 1);
      swapn(pb, pn - d1, d1);
      d1 = pb - pa;
      const d2 = pd - pc;
      if (d1 <= d2) {
        if (d1 > 1) sort(base, d1);
        if (d2 > 1) {
          base = pn - d2;
          n = d2;
          continue;
        }
      } else {
        if (d2 > 1) sort(pn - d2, d2);
        if (d1 > 1) {
          n = d1;
          continue;
        }
      }
      return;
    }
  };
  sort(0, a.length);
}

/**
 * The operands SortAndUniqItems keeps, in its order: the query's items collected in their stored
 * order (the root, then the right operand before the left: the text's operands reversed), sorted by
 * PostgreSQL's qsort on the text alone, the first of each run of equal texts kept.
 */
export function sortAndUniqItems(operands: readonly Operand[]): number[] {
  const items = operands.map((_, k) => operands.length - 1 - k);
  if (items.length < 2) return items;
  const cmp = (x: number, y: number) => compareLexemes(operands[x]!.text, operands[y]!.text);
  pgQsort(items, cmp);
  const out = [items[0]!];
  for (let k = 1; k < items.length; k++) if (cmp(items[k]!, out[out.length - 1]!) !== 0) out.push(items[k]!);
  return out;
}

// ---------------------------------------------------------------------------------------------
// ts_rank's arithmetic.

/** Default weights {D, C, B, A} as float4. */
const WEIGHTS = [f(0.1), f(0.2), f(0.4), f(1.0)];
const WORD_DISTANCE: number[] = [];
for (let d = 0; d <= 100; d++) WORD_DISTANCE.push(f(1.0 / (1.005 + 0.05 * Math.exp(f(d) / 1.5 - 2))));
const FAR = f(1e-30);

/** word_distance(d): a float4. */
export function wordDistance(d: number): number {
  return d > 100 ? FAR : WORD_DISTANCE[d]!;
}

/** Positions of one matched entry of an operand (WordEntryPos values). */
export type Positions = ArrayLike<number>;

/**
 * One entry's part of calc_rank_or (a double, added to the float4 sum by the caller): its positions
 * `buf[start..end)`, weighted, the heaviest counted in full.
 */
export function orTerm(buf: ArrayLike<number>, start: number, end: number): number {
  return orNumerator(buf, start, end) / 1.64493406685;
}

/**
 * orTerm's float4 numerator (`wjm + resj - wjm / (jm + 1)²`, before C divides it, as a double, by
 * 1.64493406685): what the index keeps per posting so a query of `|` alone ranks without its documents.
 */
export function orNumerator(buf: ArrayLike<number>, start: number, end: number): number {
  let resj = 0;
  let wjm = -1;
  let jm = 0;
  for (let j = 0; j < end - start; j++) {
    const w = WEIGHTS[buf[start + j]! >> 14]!;
    resj = f(resj + f(w / ((j + 1) * (j + 1))));
    if (w > wjm) {
      wjm = w;
      jm = j;
    }
  }
  return f(f(wjm + resj) - f(wjm / ((jm + 1) * (jm + 1))));
}

/** calc_rank_or over the kept items; `entries(item)` lists each one's matched entries' positions in the document's order. */
function rankOr(items: readonly number[], entries: (operand: number) => readonly Positions[]): number {
  let res = 0;
  for (const item of items) {
    for (const post of entries(item)) res = f(res + orTerm(post, 0, post.length));
  }
  if (items.length > 0) res = f(res / items.length);
  return res;
}

function rankAnd(items: readonly number[], entries: (operand: number) => readonly Positions[]): number {
  if (items.length < 2) return rankOr(items, entries);
  const pos: (Positions | null)[] = new Array(items.length).fill(null);
  let res = -1;
  for (let i = 0; i < items.length; i++) {
    for (const post of entries(items[i]!)) {
      // Each entry of a prefix operand is paired with the earlier items; the last one stays in pos[i].
      pos[i] = post;
      const dimt = post.length;
      for (let k = 0; k < i; k++) {
        const ct = pos[k];
        if (!ct) continue;
        const lenct = ct.length;
        for (let l = 0; l < dimt; l++) {
          for (let p = 0; p < lenct; p++) {
            const dist = Math.abs((post[l]! & 0x3fff) - (ct[p]! & 0x3fff));
            if (dist !== 0) {
              const curw = f(Math.sqrt(f(f(WEIGHTS[post[l]! >> 14]! * WEIGHTS[ct[p]! >> 14]!) * wordDistance(dist))));
              res = res < 0 ? curw : f(1.0 - (1.0 - res) * (1.0 - curw));
            }
          }
        }
      }
    }
  }
  return res;
}

/**
 * calc_rank_and (at least two items) over entries given as ranges of one buffer: `ranges[item]` is
 * that item's entries in the document's order, as start, end pairs into `buf`; the same steps as
 * rankAnd without a view per entry. The caller turns a negative result into 1e-20 (tsRank does).
 */
export function rankAndRanges(buf: ArrayLike<number>, ranges: readonly (readonly number[])[]): number {
  let res = -1;
  const lastStart: number[] = new Array(ranges.length).fill(-1);
  const lastEnd: number[] = new Array(ranges.length).fill(-1);
  for (let i = 0; i < ranges.length; i++) {
    const list = ranges[i]!;
    for (let e = 0; e < list.length; e += 2) {
      const s0 = list[e]!;
      const e0 = list[e + 1]!;
      lastStart[i] = s0;
      lastEnd[i] = e0;
      for (let k = 0; k < i; k++) {
        const s1 = lastStart[k]!;
        if (s1 < 0) continue;
        const e1 = lastEnd[k]!;
        for (let l = s0; l < e0; l++) {
          const a = buf[l]!;
          for (let p = s1; p < e1; p++) {
            const b = buf[p]!;
            const dist = Math.abs((a & 0x3fff) - (b & 0x3fff));
            if (dist !== 0) {
              const curw = f(Math.sqrt(f(f(WEIGHTS[a >> 14]! * WEIGHTS[b >> 14]!) * wordDistance(dist))));
              res = res < 0 ? curw : f(1.0 - (1.0 - res) * (1.0 - curw));
            }
          }
        }
      }
    }
  }
  return res;
}

/** The |-only groups of a query whose top is `&` of them (`(a | b) & (c | d) & …`), or null. */
export function andOfOrGroups(node: QueryNode): QueryNode[] | null {
  if (node.kind !== 'and') return null;
  const groups: QueryNode[] = [];
  const walk = (n: QueryNode): boolean => {
    if (n.kind === 'and') return walk(n.left) && walk(n.right);
    if (!orOnly(n)) return false;
    groups.push(n);
    return true;
  };
  return walk(node) ? groups : null;
}

/** The operands of a subtree. */
export function operandsOf(node: QueryNode, out: number[] = []): number[] {
  if (node.kind === 'val') out.push(node.operand);
  else {
    operandsOf(node.left, out);
    operandsOf(node.right, out);
  }
  return out;
}

/** calc_rank with normalization 0: a float4 (as a double). */
export function tsRank(root: QueryNode, items: readonly number[], entries: (operand: number) => readonly Positions[]): number {
  const res = root.kind === 'and' || root.kind === 'phrase' ? rankAnd(items, entries) : rankOr(items, entries);
  return res < 0 ? f(1e-20) : res;
}

// ---------------------------------------------------------------------------------------------
// TS_execute.

interface PhraseData {
  pos: number[];
  width: number;
}

const TS_NO = 0;
const TS_YES = 1;

/** Merged, sorted, unique positions (WEP_GETPOS) of an operand's entries. */
function operandPositions(list: readonly Positions[]): number[] {
  if (list.length === 1) {
    const p = list[0]!;
    const out = new Array<number>(p.length);
    for (let k = 0; k < p.length; k++) out[k] = p[k]! & 0x3fff;
    return out;
  }
  const all: number[] = [];
  for (const p of list) for (let k = 0; k < p.length; k++) all.push(p[k]! & 0x3fff);
  all.sort((x, y) => x - y);
  const out: number[] = [];
  for (const x of all) if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  return out;
}

const BOTH = 1;
const L_ONLY = 2;
const R_ONLY = 4;

function phraseOutput(data: PhraseData | null, L: PhraseData, R: PhraseData, emit: number, loffset: number, roffset: number): number {
  let li = 0;
  let ri = 0;
  while (li < L.pos.length || ri < R.pos.length) {
    let lpos: number;
    let rpos: number;
    if (li < L.pos.length) lpos = (L.pos[li]! & 0x3fff) + loffset;
    else {
      if (!(emit & R_ONLY)) break;
      lpos = Number.MAX_SAFE_INTEGER;
    }
    if (ri < R.pos.length) rpos = (R.pos[ri]! & 0x3fff) + roffset;
    else {
      if (!(emit & L_ONLY)) break;
      rpos = Number.MAX_SAFE_INTEGER;
    }
    let output = 0;
    if (lpos < rpos) {
      if (emit & L_ONLY) output = lpos;
      li++;
    } else if (lpos === rpos) {
      if (emit & BOTH) output = rpos;
      li++;
      ri++;
    } else {
      if (emit & R_ONLY) output = rpos;
      ri++;
    }
    if (output > 0) {
      if (!data) return TS_YES;
      data.pos.push(output & 0xffff); // a WordEntryPos: 16 bits, read back as its 14 bits of position
    }
  }
  return data && data.pos.length > 0 ? TS_YES : TS_NO;
}

function phraseExecute(node: QueryNode, data: PhraseData | null, entries: (operand: number) => readonly Positions[]): number {
  if (node.kind === 'val') {
    const list = entries(node.operand);
    if (list.length === 0) return TS_NO;
    data!.pos = operandPositions(list);
    return data!.pos.length > 0 ? TS_YES : TS_NO;
  }
  const L: PhraseData = { pos: [], width: 0 };
  const R: PhraseData = { pos: [], width: 0 };
  if (node.kind === 'phrase' || node.kind === 'and') {
    if (phraseExecute(node.left, L, entries) === TS_NO) return TS_NO;
    if (phraseExecute(node.right, R, entries) === TS_NO) return TS_NO;
    let loffset: number;
    let roffset: number;
    if (node.kind === 'phrase') {
      loffset = node.distance + R.width;
      roffset = 0;
      if (data) data.width = node.distance + L.width + R.width;
    } else {
      const maxwidth = Math.max(L.width, R.width);
      loffset = maxwidth - L.width;
      roffset = maxwidth - R.width;
      if (data) data.width = maxwidth;
    }
    return phraseOutput(data, L, R, BOTH, loffset, roffset);
  }
  const lm = phraseExecute(node.left, L, entries);
  const rm = phraseExecute(node.right, R, entries);
  if (lm === TS_NO && rm === TS_NO) return TS_NO;
  const maxwidth = Math.max(L.width, R.width);
  if (data) data.width = maxwidth;
  return phraseOutput(data, L, R, BOTH | L_ONLY | R_ONLY, maxwidth - L.width, maxwidth - R.width);
}

/** Whether the query is operands joined by `|` only (ranked by calc_rank_or, matched by any operand). */
export function orOnly(node: QueryNode): boolean {
  return node.kind === 'val' || (node.kind === 'or' && orOnly(node.left) && orOnly(node.right));
}

/** `document @@ query` for a document with positions on every lexeme. */
export function tsMatch(node: QueryNode, entries: (operand: number) => readonly Positions[]): boolean {
  switch (node.kind) {
    case 'val':
      return entries(node.operand).length > 0;
    case 'and':
      return tsMatch(node.left, entries) && tsMatch(node.right, entries);
    case 'or':
      return tsMatch(node.left, entries) || tsMatch(node.right, entries);
    case 'phrase':
      return phraseExecute(node, null, entries) === TS_YES;
  }
}

// ---------------------------------------------------------------------------------------------
// float8out (extra_float_digits 1): the shortest exact digits, as fixed notation for decimal
// exponents -4 to 14 and otherwise as d.ddde±XX.

export function formatFloat8(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mantissa, exponentText] = x.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 15) return String(x);
  const e = Math.abs(exponent);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}

/**
 * `document @@ query` and, when it matches, `ts_rank(document, query)` for one parsed document (the
 * index keeps documents in its own layout; this is the same evaluation over a ParsedDocument).
 * Null when it does not match.
 */
export function matchAndRank(query: ParsedQuery, doc: ParsedDocument): number | null {
  const lists: Positions[][] = query.operands.map((operand) => {
    const out: Positions[] = [];
    doc.lexemes.forEach((lexeme, j) => {
      if (operand.prefix ? lexeme.startsWith(operand.text) : lexeme === operand.text) out.push(doc.positions[j]!);
    });
    return out;
  });
  const entries = (k: number) => lists[k]!;
  if (!tsMatch(query.root, entries)) return null;
  return tsRank(query.root, sortAndUniqItems(query.operands), entries);
}
