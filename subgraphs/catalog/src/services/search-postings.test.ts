import type { DataSource, EntityManager } from 'typeorm';
import { SearchIndex, TenantIndex } from './search-index';

/** A row of storefront_search_rows with the given document (the other columns are not read here). */
function row(n: number, document: string) {
  return {
    product_id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    seq: String(n),
    published: true,
    archived: false,
    brand: null,
    category_id: null,
    category_path: [] as string[],
    title_key: `product ${n}`,
    document,
  };
}

type Match = { candidates: Int32Array; ranks: Float64Array | null } | null;
/** The index's own word match (private: the database's expansion given as text, so no database is asked). */
function match(index: TenantIndex, tsquery: string): Match {
  const search = new SearchIndex({} as DataSource, 1000) as unknown as {
    matchWords(m: EntityManager | null, index: TenantIndex, query: string, ranked: boolean, expanded: { tsquery: string }): Promise<Match>;
  };
  return search.matchWords(null, index, 'q', true, { tsquery }) as unknown as Match;
}

async function answer(index: TenantIndex, tsquery: string): Promise<[string, number][]> {
  const result = await match(index, tsquery);
  return [...result!.candidates].map((o) => [index.ids[o]!, result!.ranks![o]!] as [string, number]).sort(([a], [b]) => a.localeCompare(b));
}

describe('search index postings under rewritten documents', () => {
  const documents = ["'red':1A 'shoe':2A 'velvet':3B", "'blue':1A 'shoe':2A 'suede':3C 'velvet':7D", "'shoe':1 'velvet':4,9A"];

  it("keeps a lexeme's postings within four times its live ones however often a document is rewritten, with the same matches and ranks as an index built from the final documents", async () => {
    const churned = new TenantIndex();
    const last = new Map<number, string>();
    const write = (n: number, document: string) => {
      churned.apply(row(n, document));
      last.set(n, document);
    };
    for (let n = 1; n <= 20; n++) write(n, documents[n % documents.length]!);
    churned.sortLexemes();
    // 5,000 rewrites of the same three products, cycling through the documents.
    for (let k = 0; k < 5_000; k++) write(1 + (k % 3), documents[(k + Math.floor(k / 3)) % documents.length]!);
    const fresh = new TenantIndex();
    for (let n = 1; n <= 20; n++) fresh.apply(row(n, last.get(n)!));
    fresh.sortLexemes();
    for (let n = 1; n <= 3; n++) expect(churned.docs[churned.ordinal.get(row(n, '').product_id)!]).toEqual(fresh.docs[fresh.ordinal.get(row(n, '').product_id)!]);

    // Live postings: one per lexeme of each product's document.
    const live = fresh.postingsHeld();
    expect(churned.postingsHeld()).toBeLessThanOrEqual(4 * live + 4 * churned.lexemes.length);
    for (const query of ["'shoe'", "'velvet':* | 'red'", "'suede' | 'blue'", "'red' & 'shoe'", "'shoe' <-> 'velvet'"]) {
      expect(await answer(churned, query)).toEqual(await answer(fresh, query));
    }
    expect((await answer(churned, "'shoe'")).length).toBe(20);
  });
});
