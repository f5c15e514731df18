import { openCatalogDatabase } from '../../subgraphs/catalog/src/data/database.js';
import { andOfOrGroups, formatFloat8, matchAndRank, parseTsquery, parseTsvector, rankAndRanges, sortAndUniqItems, wordDistance } from '../../subgraphs/catalog/src/services/search-words.js';
import { useServiceSchema } from '../support/service-schema.js';

/**
 * The search index's word matching and ranking (decision 0053) against the database's own
 * `@@` and `ts_rank` (PostgreSQL or the embedded one): for generated documents and queries (plain
 * and prefix operands, some with the same text, `&`, `|`, `<->` and `<N>`), the same matches and
 * the very same float4 rank, written as the database writes it (`::float8::text`).
 */
describe('search words: match and ts_rank as the database computes them', () => {
  const catalog = useServiceSchema('catalog_sw', openCatalogDatabase);

  // A fixed generator: the same pairs on every run.
  let seed = 20261207;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const vocabulary = ['a', 'am', 'amber', 'ambers', 'velvet', 'velv', 'velvets', 'vel', 'product', 'prod', 'produc', 'café', 'cafe', "it's", 'x', 'xy', 'quokka', 'généré'];

  function document(): string {
    const words = vocabulary.filter(() => random() < 0.45);
    if (!words.length) words.push(pick(vocabulary));
    return words
      .map((w) => {
        const positions = new Set<number>();
        const n = 1 + Math.floor(random() * 4);
        for (let k = 0; k < n; k++) positions.add(1 + Math.floor(random() * (random() < 0.2 ? 300 : 40)));
        return `'${w.replace(/'/g, "''")}':${[...positions].map((p) => p + pick(['', 'A', 'B', 'C'])).join(',')}`;
      })
      .join(' ');
  }
  function query(depth: number): string {
    if (depth === 0 || random() < 0.3) return `'${pick(vocabulary).replace(/'/g, "''")}'${random() < 0.4 ? ':*' : ''}`;
    const op = pick(['&', '|', '<->', '<2>', '&', '|']);
    return `( ${query(depth - 1)} ${op} ${query(depth - 1)} )`;
  }

  async function compare(pairs: [string, string][]): Promise<{ matched: number; compared: number; andChecked: number }> {
    const rows: { d: string; q: string; m: boolean; r: string }[] = await catalog.dataSource().query(
      `SELECT d::tsvector::text AS d, q::tsquery::text AS q, d::tsvector @@ q::tsquery AS m, ts_rank(d::tsvector, q::tsquery)::float8::text AS r
         FROM unnest($1::text[], $2::text[]) AS t(d, q)`,
      [pairs.map(([d]) => d), pairs.map(([, q]) => q)],
    );
    let matched = 0;
    const wrong: unknown[] = [];
    let andChecked = 0;
    for (const row of rows) {
      const parsed = parseTsquery(row.q);
      if (!parsed) {
        wrong.push({ unparsed: row.q });
        continue;
      }
      const doc = parseTsvector(row.d);
      const rank = matchAndRank(parsed, doc);
      // The index's shorter path for words joined by & (ranges of one buffer instead of views).
      if (rank !== null && andOfOrGroups(parsed.root)) {
        const items = sortAndUniqItems(parsed.operands);
        if (items.length >= 2) {
          const buf: number[] = [];
          const ranges = items.map((k) => {
            const list: number[] = [];
            const operand = parsed.operands[k]!;
            doc.lexemes.forEach((lexeme, j) => {
              if (operand.prefix ? lexeme.startsWith(operand.text) : lexeme === operand.text) {
                list.push(buf.length, buf.length + doc.positions[j]!.length);
                buf.push(...doc.positions[j]!);
              }
            });
            return list;
          });
          const r = rankAndRanges(buf, ranges);
          const text = formatFloat8(r < 0 ? Math.fround(1e-20) : r);
          if (text !== row.r) wrong.push({ d: row.d, q: row.q, rank: row.r, ranges: text });
          andChecked++;
        }
      }
      if ((rank !== null) !== row.m || (rank !== null && formatFloat8(rank) !== row.r)) wrong.push({ d: row.d, q: row.q, match: row.m, rank: row.r, ours: rank === null ? null : formatFloat8(rank) });
      if (rank !== null) matched++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    return { matched, compared: rows.length, andChecked };
  }

  it('weighs two words d positions apart as ts_rank does, for every d', async () => {
    const pairs: [string, string][] = [];
    for (let d = 1; d <= 130; d++) for (const [wa, wb] of [['A', 'A'], ['B', 'D'], ['C', 'A']]) pairs.push([`'a':1${wa} 'b':${1 + d}${wb}`, `'a' & 'b'`]);
    const { matched, andChecked } = await compare(pairs);
    expect(matched).toBe(pairs.length);
    expect(andChecked).toBe(pairs.length);
    expect(wordDistance(101)).toBe(Math.fround(1e-30));
  });

  it('matches and ranks generated documents and queries exactly', async () => {
    const pairs: [string, string][] = [];
    for (let k = 0; k < 4000; k++) pairs.push([document(), query(1 + Math.floor(random() * 3))]);
    // The query builder's shapes: a word as a prefix or its stem (the same text), typos, a phrase.
    for (let k = 0; k < 1000; k++) {
      const w = pick(vocabulary).replace(/'/g, "''");
      const v = pick(vocabulary).replace(/'/g, "''");
      pairs.push([document(), `( '${w}':* | '${w}' | '${v}' ) & ( '${v}':* | '${pick(vocabulary).replace(/'/g, "''")}' <-> '${w}' | '${w}':* )`]);
      pairs.push([document(), `'${w}':* | '${w}'`]);
      pairs.push([document(), `( '${w}':* | '${w}' | '${pick(vocabulary).replace(/'/g, "''")}' ) & ( '${v}':* | '${v}' ) & '${pick(vocabulary).replace(/'/g, "''")}':*`]);
      pairs.push([document(), `'${w}' | '${w}':*`]);
    }
    const { matched, compared, andChecked } = await compare(pairs);
    expect(compared).toBe(pairs.length);
    expect(andChecked).toBeGreaterThan(200);
    // Enough of them match to mean something.
    expect(matched).toBeGreaterThan(pairs.length / 4);
  }, 120_000);

  it('writes a float as float8out does', () => {
    expect([1e-20, 0.0001, 0.00001, 1e15, 123456789012345, 0.1, Math.fround(0.1), 0].map(formatFloat8)).toEqual([
      '1e-20', '0.0001', '1e-05', '1e+15', '123456789012345', '0.1', '0.10000000149011612', '0',
    ]);
  });
});
