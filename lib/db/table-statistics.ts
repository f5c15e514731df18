import type { DataSource } from 'typeorm';

/** autovacuum's default rule: a table is re-analyzed once 50 rows plus 10 % of it changed since its last ANALYZE. */
const THRESHOLD_ROWS = 50;
const SCALE_FACTOR = 0.1;
/**
 * A check runs this long after the last write (2 s: PostgreSQL publishes a session's counts to
 * pg_stat_user_tables within about a second of it going idle), and during a long stream of
 * writes at least every MAX_WAIT_MS (10 s).
 */
const SETTLE_MS = 2_000;
const MAX_WAIT_MS = 10_000;

/**
 * ANALYZEs the tables of the service's schema whose planner statistics are stale by autovacuum's
 * rule (`pg_stat_user_tables.n_mod_since_analyze`); returns their names. Runs as the schema's
 * owner, outside service transactions (so no statement timeout). PGlite runs no autovacuum at
 * all, and on PostgreSQL autovacuum comes up to a minute after a bulk load: until then the
 * planner plans for the table as it was (empty, or a tenth of its size).
 */
export async function analyzeStaleTables(dataSource: DataSource): Promise<string[]> {
  const schema = String(dataSource.driver.schema);
  return asOwner(dataSource, async (query) => {
    const stale: { relname: string }[] = await query(
      `SELECT relname FROM pg_stat_user_tables WHERE schemaname = $1 AND n_mod_since_analyze > $2::float8 + $3::float8 * greatest(n_live_tup, 0) ORDER BY relname`,
      [schema, THRESHOLD_ROWS, SCALE_FACTOR],
    );
    for (const { relname } of stale) await query(`ANALYZE "${schema}"."${relname.replace(/"/g, '""')}"`);
    return stale.map((r) => r.relname);
  });
}

/**
 * Runs `work` as the connecting user (the tables' owner: only it may ANALYZE them) in a
 * transaction of its own: on PGlite's one shared session a statement outside a transaction
 * could interleave with another connection's (decision 0001).
 */
async function asOwner<T>(dataSource: DataSource, work: (query: <R>(text: string, values?: unknown[]) => Promise<R>) => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('START TRANSACTION');
    try {
      const result = await work((text, values) => runner.query(text, values));
      await runner.query('COMMIT');
      return result;
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await runner.release();
  }
}

/**
 * ANALYZEs those of `tables` that `changedRows` rows make stale by the same rule, judged from
 * the size the planner last learned (`pg_class.reltuples`, -1 before any ANALYZE): for a bulk
 * writer that knows what it wrote, without waiting for the statistics collector.
 */
export async function analyzeAfterBulkWrite(dataSource: DataSource, tables: string[], changedRows: number): Promise<string[]> {
  const schema = String(dataSource.driver.schema);
  return asOwner(dataSource, async (query) => {
    const sizes: { relname: string; reltuples: number }[] = await query(
      `SELECT c.relname, c.reltuples::float8 AS reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2) ORDER BY c.relname`,
      [schema, tables],
    );
    const stale = sizes.filter((t) => changedRows > THRESHOLD_ROWS + SCALE_FACTOR * Math.max(t.reltuples, 0) || t.reltuples < 0).map((t) => t.relname);
    for (const table of stale) await query(`ANALYZE "${schema}"."${table}"`);
    return stale;
  });
}

export interface StatisticsKeeper {
  /** Something was written: check the tables soon (coalesced, not awaited). */
  noteWrite(): void;
  /** Checks now (after any check under way) and resolves when stale tables are analyzed. */
  settle(): Promise<void>;
}

const keepers = new WeakMap<DataSource, StatisticsKeeper>();

/**
 * The one keeper of a service's statistics: the bulk writers (feed worker, event consumers) note
 * their writes; one check runs once they pause (or every 10 s while they go on), one at a time.
 */
export function statisticsKeeper(dataSource: DataSource, log: (message: string) => void = console.error): StatisticsKeeper {
  const existing = keepers.get(dataSource);
  if (existing) return existing;
  let timer: NodeJS.Timeout | undefined;
  let firstWriteAt = 0;
  let running: Promise<void> = Promise.resolve();
  const check = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    firstWriteAt = 0;
    running = running.then(async () => {
      if (!dataSource.isInitialized) return;
      try {
        await analyzeStaleTables(dataSource);
      } catch (error) {
        // A table dropped meanwhile (tests), or a database going away: the next check retries.
        if (dataSource.isInitialized && (error as { code?: string }).code !== '42P01') log(`statistics: ANALYZE failed: ${(error as Error).message}`);
      }
    });
    return running;
  };
  const keeper: StatisticsKeeper = {
    noteWrite() {
      const now = Date.now();
      firstWriteAt ||= now;
      if (timer) clearTimeout(timer);
      timer = setTimeout(check, Math.max(0, Math.min(SETTLE_MS, firstWriteAt + MAX_WAIT_MS - now)));
      timer.unref();
    },
    settle: () => check(),
  };
  keepers.set(dataSource, keeper);
  return keeper;
}
