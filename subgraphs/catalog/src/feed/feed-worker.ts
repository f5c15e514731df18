import { pipeline, Readable } from 'node:stream';
import { categoryIdsByName, enrichmentRulesOf, enrichProduct, recordEnrichments, withSwitchedOff } from '../enrichment/enrichment.service.js';
import { queueModelAsks } from '../enrichment/model-asks.js';
import { ruleSubject, ruleSwitchesIn, ruleSwitchesOf, type RuleSwitches } from '../enrichment/rule-switches.js';
import type { FlagCache } from '../../../../lib/flags/cache.js';
import type { RuleOutcome } from '../enrichment/rules.js';
import { parse } from 'csv-parse';
import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, inTenantTransaction, setTransactionStatementTimeout, updatedRows } from '../../../../lib/db/data-source.js';
import { FEED_BATCH_IMPORTED, VARIANTS_UPSERTED, type FeedBatchImported, type VariantsUpserted } from '../../../../lib/events/catalog-feed.js';
import { outboxOf } from '../../../../lib/events/outbox.js';
import { analyzeAfterBulkWrite, statisticsKeeper } from '../../../../lib/db/table-statistics.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { attributeChange } from '../versions/product-versions.service.js';
import { readHeader, readRow, type FeedRow, type Header } from './feed-rows.js';
import { hasExtras, planExtrasIn, writeExtras } from './feed-extras.js';
import { FEED_SETTLED_STATUS } from './feed-effects.js';

const emit = outboxOf('catalog');

export interface FeedWorkerOptions {
  /** Rows per transaction (default 500). */
  batchSize?: number;
  /** How often queued imports are looked for (default 1 s); a new upload wakes the worker at once. */
  pollMs?: number;
  log?: (message: string) => void;
  /** The process's flag cache: the rules' flags (`enrichment.<rule>`) are read from it once per batch, before the batch's transaction. Without it, from the subgraph's copy in the transaction. */
  flags?: FlagCache;
  /** Called after a batch queued products for the external model (the model worker's nudge); without it, nothing is queued. */
  modelAsked?: () => void;
}

/** The statement timeout of a feed batch's transaction (instead of DB_STATEMENT_TIMEOUT_MS, unless that is 0: off). */
export const FEED_BATCH_TIMEOUT_MS = 60_000;

/** A RUNNING import whose worker has been silent this long is taken over (its process died). */
const STALE_SECONDS = 30;

interface Claimed {
  id: string;
  tenant_id: string;
  lines_done: number;
  processed: number;
  imported: number;
  failed: number;
}

type Problem = { line: number; reason: string; raw: string };

/**
 * Imports queued feeds, one at a time, in batches: each batch of rows is one transaction that
 * upserts its products and variants, records its bad rows in the review queue, announces the
 * variants and the price and stock columns as two events, and moves the import's progress — so
 * a crash loses nothing and the import resumes after the last committed batch.
 */
export function createFeedWorker(dataSource: DataSource, afterCommit: () => Promise<void>, options: FeedWorkerOptions = {}) {
  const batchSize = options.batchSize ?? 500;
  const log = options.log ?? console.error;
  const s = dataSource.driver.schema;
  // PGlite runs no autovacuum: without this, searches plan for the catalog as it was before the feed.
  const statistics = statisticsKeeper(dataSource, log);
  let stopped = () => false;
  /** Products the batch being committed queued for the model. */
  let asked = 0;

  const claim = () =>
    inSystemTransaction(dataSource, async (m) => {
      const rows: Claimed[] = updatedRows(await m.query(
        `UPDATE "${s}"."feed_import" SET status = 'RUNNING', heartbeat_at = now()
          WHERE id = (SELECT id FROM "${s}"."feed_import"
                       WHERE status = 'QUEUED' OR (status = 'RUNNING' AND heartbeat_at < now() - interval '${STALE_SECONDS} seconds')
                       ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, tenant_id, lines_done, processed, imported, failed`,
      ));
      return rows[0];
    });

  /** The stored file, chunk by chunk. */
  async function* chunks(job: Claimed): AsyncGenerator<Buffer> {
    for (let seq = 0; ; seq++) {
      const [row]: { data: Buffer }[] = await inTenantTransaction(dataSource, job.tenant_id, (m) =>
        m.query(`SELECT data FROM "${s}"."feed_chunk" WHERE import_id = $1 AND seq = $2`, [job.id, seq]),
      );
      if (!row) return;
      yield row.data;
    }
  }

  async function run(job: Claimed): Promise<void> {
    const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, raw: true, skip_records_with_error: true });
    // pipeline, not pipe: a failure reading the stored file reaches the loop below.
    pipeline(Readable.from(chunks(job)), parser, () => undefined);
    // A record the parser cannot read (a stray quote) goes to the review queue; parsing goes on.
    parser.on('skip', (error: Error & { lines?: number }) => {
      const line = error.lines ?? 0;
      if (line > job.lines_done) pending.problems.push({ line, reason: `not valid CSV: ${error.message}`, raw: '' });
    });
    let header: Header | undefined;
    const seen = new Map<string, number>();
    let batch: { row: FeedRow; raw: string }[] = [];
    const pending = { problems: [] as Problem[] };
    let lastLine = job.lines_done;
    try {
      for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
        const line = info.lines;
        if (!header) {
          const read = readHeader(record);
          if (typeof read === 'string') return await fail(job, `line ${line}: ${read}`, { line, reason: read, raw: raw.replace(/\r?\n$/, '') });
          header = read;
          continue;
        }
        // Kept for review as text, which cannot hold a NUL: shown as U+FFFD (the row itself is refused for it).
        const text = raw.replace(/\r?\n$/, '').replaceAll('\u0000', '\uFFFD');
        const row = readRow(header, record, line);
        // Duplicates are told apart across the whole file, also on resume.
        let reason = typeof row === 'string' ? row : null;
        if (typeof row !== 'string') {
          const first = seen.get(row.sku);
          if (first !== undefined && first !== line) reason = `duplicate sku ${row.sku} (first on line ${first})`;
          else seen.set(row.sku, line);
        }
        if (line <= job.lines_done) continue;
        if (reason) pending.problems.push({ line, reason, raw: text });
        else batch.push({ row: row as FeedRow, raw: text });
        lastLine = line;
        if (batch.length + pending.problems.length >= batchSize) {
          const problems = pending.problems;
          pending.problems = [];
          await commit(job, batch, problems, lastLine);
          batch = [];
          if (stopped()) return;
        }
      }
      if (!header) return await fail(job, 'the feed has no header row', { line: 1, reason: 'the feed has no header row', raw: '' });
      await commit(job, batch, pending.problems, lastLine);
      // COMPLETED means searchable at its new size: statistics of what the feed grew first. Prices
      // and stock may still be on their way to pricing and inventory: PROPAGATING until they are.
      const [done]: { imported: number }[] = await inTenantTransaction(dataSource, job.tenant_id, (m) =>
        m.query(`SELECT imported FROM "${s}"."feed_import" WHERE id = $1`, [job.id]),
      );
      await analyzeAfterBulkWrite(dataSource, ['product', 'variant', 'product_search_entry'], done?.imported ?? 0);
      await inTenantTransaction(dataSource, job.tenant_id, (m) =>
        m.query(`UPDATE "${s}"."feed_import" SET status = ${FEED_SETTLED_STATUS}, total = processed, finished_at = now() WHERE id = $1`, [job.id]),
      );
    } catch (error) {
      const message = (error as { code?: string }).code?.startsWith('CSV_') ? `not valid CSV: ${(error as Error).message}` : null;
      if (!message) log(`feed import ${job.id} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      const reason = message ?? 'unexpected error (see the catalog log); rows before it were imported';
      await fail(job, reason, { line: (error as { lines?: number }).lines ?? lastLine + 1, reason, raw: '' });
    }
  }

  /** Ends the import as FAILED; the reason also heads `errors`, where a user reads why rows were not imported. */
  async function fail(job: Claimed, error: string, problem: Problem): Promise<void> {
    await inTenantTransaction(dataSource, job.tenant_id, async (m) => {
      await m.query(`UPDATE "${s}"."feed_import" SET status = 'FAILED', error = $2, finished_at = now() WHERE id = $1`, [job.id, error]);
      await m.query(
        `INSERT INTO "${s}"."feed_row_error" (import_id, line, tenant_id, reason, raw) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [job.id, Math.max(1, problem.line), job.tenant_id, problem.reason, problem.raw],
      );
    });
  }

  async function commit(
    job: Claimed,
    batch: { row: FeedRow; raw: string }[],
    problems: Problem[],
    lastLine: number,
  ): Promise<void> {
    if (batch.length === 0 && problems.length === 0) return;
    const switches = options.flags && batch.length > 0 ? ruleSwitchesOf(await options.flags.flags(job.tenant_id)) : undefined;
    await inTenantTransaction(dataSource, job.tenant_id, async (m) => {
      // A batch is background work bounded by its size, not a request: on a loaded machine its
      // statements (500 rows each) can pass a request's timeout (5 s), which failed a 100,000-row
      // import at 58,500 rows under load 14. It keeps a bound, only a longer one (unless off).
      await setTransactionStatementTimeout(m, FEED_BATCH_TIMEOUT_MS);
      const good = await importRows(m, job, batch, problems, switches);
      if (problems.length) {
        await m.query(
          `INSERT INTO "${s}"."feed_row_error" (import_id, line, tenant_id, reason, raw)
           SELECT $1, line, $2, reason, raw FROM unnest($3::int[], $4::text[], $5::text[]) AS e(line, reason, raw)
           ON CONFLICT DO NOTHING`,
          [job.id, job.tenant_id, problems.map((p) => p.line), problems.map((p) => p.reason), problems.map((p) => p.raw)],
        );
      }
      await m.query(
        `UPDATE "${s}"."feed_import" SET processed = processed + $2, imported = imported + $3, failed = failed + $4, lines_done = $5, heartbeat_at = now()
          WHERE id = $1`,
        [job.id, good + problems.length, good, problems.length, lastLine],
      );
    });
    statistics.noteWrite();
    await afterCommit();
    if (asked > 0) options.modelAsked?.();
    asked = 0;
  }

  /** Upserts the batch's products and variants; rows that cannot be imported join `problems`. Returns the imported count. */
  async function importRows(m: EntityManager, job: Claimed, batch: { row: FeedRow; raw: string }[], problems: Problem[], flagged?: RuleSwitches): Promise<number> {
    if (batch.length === 0) return 0;
    const tenantId = job.tenant_id;
    const stores: { code: string; store_id: string }[] = await m.query(`SELECT code, store_id FROM "${s}"."known_store" WHERE tenant_id = $1`, [tenantId]);
    const storeByCode = new Map(stores.map((r) => [r.code, r.store_id]));
    // A sku that belongs to a product of another handle (or made by hand) is not moved.
    const owners: { sku: string; external_ref: string | null }[] = await m.query(
      `SELECT v.sku, p.external_ref FROM "${s}"."variant" v JOIN "${s}"."product" p ON p.tenant_id = v.tenant_id AND p.id = v.product_id
        WHERE v.tenant_id = $1 AND v.sku = ANY($2)`,
      [tenantId, batch.map((b) => b.row.sku)],
    );
    const ownerOf = new Map(owners.map((o) => [o.sku, o.external_ref]));
    const rows: FeedRow[] = [];
    for (const { row, raw } of batch) {
      const owner = ownerOf.get(row.sku);
      if (row.storeCode && !storeByCode.has(row.storeCode)) problems.push({ line: row.line, reason: `unknown store ${row.storeCode}`, raw });
      else if (ownerOf.has(row.sku) && owner !== `feed:${row.handle}`) {
        problems.push({ line: row.line, reason: `sku ${row.sku} belongs to another product${owner ? ` (${owner})` : ''}`, raw });
      } else rows.push(row);
    }
    // Options, pictures and attributes (feed-extras.ts): a row that cannot be applied whole is refused here.
    const extras = rows.some(hasExtras) ? await planExtrasIn(m, tenantId, rows) : null;
    if (extras?.refused.size) {
      const raws = new Map(batch.map((b) => [b.row.line, b.raw]));
      for (const [line, reason] of extras.refused) problems.push({ line, reason, raw: raws.get(line) ?? '' });
      rows.splice(0, rows.length, ...rows.filter((r) => !extras.refused.has(r.line)));
    }
    problems.sort((a, b) => a.line - b.line);
    if (rows.length === 0) return 0;

    // The last row of a handle in the batch says the product's title, brand and description.
    const products = new Map<string, FeedRow>();
    for (const row of rows) products.set(row.handle, row);
    const list = [...products.values()];
    // Enrichment: the tenant's rules and categories read once per batch, the rules run in memory.
    // Each row without the rules its flags switch off for it (its sku, its store).
    const rules = await enrichmentRulesOf(m, tenantId);
    const switches = rules ? (flagged ?? (await ruleSwitchesIn(m, tenantId))) : undefined;
    const categories = rules ? await categoryIdsByName(m, tenantId) : new Map<string, string>();
    const enriched = list.map((r) => {
      const own = switches && withSwitchedOff(rules, switches(ruleSubject(r.sku, r.storeCode ? storeByCode.get(r.storeCode) : null)));
      return own ? enrichProduct(own, { title: r.title, brand: r.brand, hasCategory: false }, (name) => categories.get(name)) : null;
    });
    await attributeChange(m, 'feed', `feed-import:${job.id}`);
    // The batch's search rows are refreshed once, after its last write (migration 1740047000000),
    // not by each of the three statements below that would each refresh them.
    await m.query(`SELECT set_config('app.search_deferred', 'on', true)`);
    // A new product is written with the summary of its variants (decision 0035's `product.variants`,
    // as the variant triggers would compute it: the batch's rows of its handle are all its variants),
    // so its first version holds them and the variant upsert's refresh finds nothing to change: no
    // second UPDATE of the products and no amendment of their version. A product that exists keeps
    // its summary here; the variant triggers refresh it from all its variants, as for any writer.
    const saved: { id: string; external_ref: string; title: string; had_category: boolean }[] = await m.query(
      `WITH summary AS (
         SELECT ref, string_agg(format('%s "%s"', sku, title) || coalesce(' [' || barcode || ']', ''), ', ' ORDER BY position, sku) AS variants
           FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::int[]) AS v(ref, sku, title, barcode, position) GROUP BY ref)
       INSERT INTO "${s}"."product" AS p (id, tenant_id, external_ref, title, brand, description, published, category_id, variants, updated_at)
       SELECT gen_random_uuid(), $1, t.ref, title, brand, description, COALESCE(published, true), category_id, COALESCE(summary.variants, ''), now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::uuid[]) AS t(ref, title, brand, description, published, category_id)
         LEFT JOIN summary ON summary.ref = t.ref
       ON CONFLICT (tenant_id, external_ref) WHERE external_ref IS NOT NULL DO UPDATE
         SET title = EXCLUDED.title, brand = COALESCE(EXCLUDED.brand, p.brand), description = COALESCE(EXCLUDED.description, p.description),
             published = COALESCE(($6::boolean[])[array_position($2::text[], EXCLUDED.external_ref)], p.published),
             category_id = COALESCE(p.category_id, EXCLUDED.category_id), updated_at = now()
       RETURNING id, external_ref, title, (category_id IS DISTINCT FROM ($7::uuid[])[array_position($2::text[], external_ref)]) AS had_category`,
      [
        tenantId,
        list.map((r) => `feed:${r.handle}`),
        list.map((r, i) => enriched[i]?.title ?? r.title),
        list.map((r, i) => (enriched[i] ? enriched[i].brand : r.brand)),
        list.map((r) => r.description),
        list.map((r) => r.published),
        enriched.map((e) => e?.categoryId ?? null),
        rows.map((r) => `feed:${r.handle}`),
        rows.map((r) => r.sku),
        rows.map((r) => r.variantTitle),
        rows.map((r) => r.barcode),
        rows.map((r) => r.line),
      ],
    );
    const productOf = new Map(saved.map((p) => [p.external_ref, p]));
    if (rules) {
      await recordEnrichments(
        m,
        tenantId,
        list.flatMap((r, i) => {
          const product = productOf.get(`feed:${r.handle}`)!;
          if (!enriched[i]) return [];
          const stored = enriched[i].stored;
          // A product already filed keeps its category: no suggestion for it.
          const drop = (o: RuleOutcome) => product.had_category && o.field === 'category';
          return [{ productId: product.id, stored: { ...stored, applied: stored.applied.filter((o) => !drop(o)), review: stored.review.filter((o) => !drop(o)) } }];
        }),
      );
      // The external model proposes too, for review, once the batch commits (one statement for the batch).
      if (options.modelAsked) asked += await queueModelAsks(m, tenantId, saved.map((p) => p.id));
    }
    await m.query(
      `INSERT INTO "${s}"."variant" AS v (tenant_id, sku, product_id, title, barcode, position)
       SELECT $1, sku, product_id, title, barcode, position FROM unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::int[]) AS t(sku, product_id, title, barcode, position)
       ON CONFLICT (tenant_id, sku) DO UPDATE SET title = EXCLUDED.title, barcode = COALESCE(EXCLUDED.barcode, v.barcode)`,
      [
        tenantId,
        rows.map((r) => r.sku),
        rows.map((r) => productOf.get(`feed:${r.handle}`)!.id),
        rows.map((r) => r.variantTitle),
        rows.map((r) => r.barcode),
        rows.map((r) => r.line),
      ],
    );
    if (extras) await writeExtras(m, tenantId, extras, (handle) => productOf.get(`feed:${handle}`)!.id);
    await m.query(`SELECT "${s}".refresh_product_search($1::uuid[]), set_config('app.search_deferred', '', true)`, [saved.map((p) => p.id)]);
    const variants: VariantsUpserted = {
      variants: rows.map((r) => {
        const product = productOf.get(`feed:${r.handle}`)!;
        return { sku: r.sku, productId: product.id, title: r.variantTitle, productTitle: product.title, barcode: r.barcode };
      }),
    };
    await emit(m, tenantId, VARIANTS_UPSERTED, variants);
    const columns: FeedBatchImported = {
      importId: job.id,
      prices: rows
        .filter((r) => r.price)
        .map((r) => ({ sku: r.sku, storeId: r.storeCode ? storeByCode.get(r.storeCode)! : null, amount: r.price!.amount, currencyCode: r.price!.currencyCode })),
      stock: rows.filter((r) => r.stock !== null).map((r) => ({ sku: r.sku, storeId: storeByCode.get(r.storeCode!)!, level: r.stock! })),
    };
    if (columns.prices.length || columns.stock.length) {
      await emit(m, tenantId, FEED_BATCH_IMPORTED, columns);
      // What pricing and inventory are to apply: the import is COMPLETED once they say they did.
      await m.query(`UPDATE "${s}"."feed_import" SET prices_expected = prices_expected + $2, stock_expected = stock_expected + $3 WHERE id = $1`, [
        job.id,
        columns.prices.length,
        columns.stock.length,
      ]);
    }
    return rows.length;
  }

  async function drain(isStopped: () => boolean): Promise<void> {
    stopped = isStopped;
    while (!stopped()) {
      const job = await claim();
      if (!job) return;
      await run(job);
    }
  }

  return pollingWorker(drain, { pollMs: options.pollMs ?? 1_000, log, name: 'feed worker' });
}
