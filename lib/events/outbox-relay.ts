import type { DataSource, EntityManager } from 'typeorm';
import { inSystemTransaction, isSharedSession, qualified } from '../db/data-source.js';
import type { EventBus } from './event-bus.js';
import type { EventEnvelope } from './envelope.js';
import { metrics, reportGauge } from '../observability/metrics.js';

export interface OutboxRelay {
  /** Publishes everything unpublished now; resolves when done (errors are retried by the poll). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface OutboxRelayOptions {
  dataSource: DataSource;
  bus: EventBus;
  /** The publishing service, written into every envelope. */
  source: string;
  /** How often to look for rows written by other processes (default 1000 ms). */
  pollMs?: number;
  /**
   * Longest a write waits for its events to be published (default 200 ms; unbounded on a bus that
   * delivers inline, where waiting gives read-your-writes). A bus that does not answer (Redis
   * down) never stalls a write: its events stay in the outbox and go out when the bus answers.
   */
  publishWaitMs?: number;
  log?: (message: string) => void;
}

/**
 * A relay that exists before it runs: services call `flush()` after each commit, which is a
 * no-op until `start()` (so a builder opens nothing by itself).
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay & { start(): void } {
  let relay: OutboxRelay | undefined;
  return {
    start() {
      relay ??= startOutboxRelay(options);
    },
    flush: () => relay?.flush() ?? Promise.resolve(),
    async stop() {
      await relay?.stop();
      relay = undefined;
    },
  };
}

/** An outbox row as the relay and the replay read it. */
export interface OutboxRow {
  event_id: string;
  type: string;
  tenant_id: string;
  payload: unknown;
  version: number;
  occurred_at: Date;
}

/**
 * Moves committed outbox rows to the bus, in order, then marks them published. Publishing
 * happens outside any database transaction; a crash between publish and mark re-publishes,
 * which consumers absorb by `eventId`. A poll (default 1 s) picks up rows other processes wrote.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { dataSource, bus, source } = options;
  const log = options.log ?? console.error;
  const table = qualified(dataSource, 'outbox');
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const waitMs = options.publishWaitMs ?? (bus.deliversInline ? Infinity : 200);
  /** When the publish in progress started: one that hangs tells later writes not to wait at all. */
  let publishingSince: number | undefined;

  const select = (m: EntityManager): Promise<OutboxRow[]> =>
    m.query(
      `SELECT event_id, type, tenant_id, payload, version, occurred_at FROM ${table}
        WHERE published_at IS NULL ORDER BY position LIMIT 200`,
    );
  const envelope = (row: OutboxRow): EventEnvelope => envelopeOf(row, source);
  const publish = async (rows: OutboxRow[]) => {
    if (bus.publishBatch && rows.length > 0) {
      // One write for the batch (Redis: pipelined): a relay that awaited each event in turn held
      // its transaction (and its service's turn) open for seconds on a busy event loop.
      publishingSince = Date.now();
      try {
        await bus.publishBatch(rows.map(envelope));
      } finally {
        publishingSince = undefined;
      }
      for (const row of rows) metrics.eventsPublished.inc({ service: source, type: row.type });
      return;
    }
    for (const row of rows) {
      const event = envelope(row);
      publishingSince = Date.now();
      try {
        await bus.publish(event);
      } finally {
        publishingSince = undefined;
      }
      metrics.eventsPublished.inc({ service: source, type: row.type });
    }
  };
  const markPublished = (m: EntityManager, rows: OutboxRow[]) =>
    m.query(`UPDATE ${table} SET published_at = now() WHERE event_id = ANY($1::uuid[])`, [rows.map((r) => r.event_id)]);

  const drainOnce = async (): Promise<number> => {
    if (bus.crossProcess && !isSharedSession(dataSource)) {
      // Instances of one service take turns (a transaction-scoped advisory lock on the outbox): no
      // row goes out twice and rows go out in order. One that finds the lock taken leaves its rows
      // to the holder's next batch or to the next poll. Not on embedded PGlite: its one session
      // would be held by the open transaction while a publish waits on Redis (an outage would stall
      // every query), and its data folder belongs to one process, so there is no other instance.
      return inSystemTransaction(dataSource, async (m) => {
        const [{ mine }] = (await m.query(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS mine`, [table])) as [{ mine: boolean }];
        if (!mine) return 0;
        const rows = await select(m);
        await publish(rows);
        if (rows.length > 0) await markPublished(m, rows);
        return rows.length;
      });
    }
    // In-process: handlers run inside `publish` with transactions of their own (on embedded PGlite,
    // one session), so no transaction stays open across it.
    const rows = await inSystemTransaction(dataSource, select);
    await publish(rows);
    if (rows.length > 0) await inSystemTransaction(dataSource, (m) => markPublished(m, rows));
    return rows.length;
  };

  const flush = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          while ((await drainOnce()) === 200);
        } while (again && !stopped);
      } catch (error) {
        if (!stopped) log(`outbox relay ${source}: ${String(error)}`);
      } finally {
        running = null;
      }
    })();
    return running;
  };

  /** What a write waits for: its events published, or `waitMs`, or nothing while a publish already hangs. */
  const flushAfterCommit = (): Promise<void> => {
    const done = flush();
    if (!Number.isFinite(waitMs)) return done;
    if (publishingSince !== undefined && Date.now() - publishingSince > waitMs) return Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]).finally(() => clearTimeout(timer));
  };

  const timer = setInterval(() => void flush(), options.pollMs ?? 1000);
  timer.unref();
  // The outbox is the source of truth: when the bus may have lost what was published (Redis
  // restarted empty), publish it again. A drain under way finishes first, so no row it sent to the
  // old Redis is marked published after this.
  const unlisten = bus.onLoss?.(source, async (since, until) => {
    await running;
    await inSystemTransaction(dataSource, (m) =>
      m.query(`UPDATE ${table} SET published_at = NULL WHERE published_at >= $1 AND ($2::timestamptz IS NULL OR published_at < $2)`, [since, until ?? null]),
    );
    await flush();
  });
  void flush();
  // What waits to be published, and for how long: a stuck relay shows here first. Both gauges of
  // one scrape share one query.
  let reading: { at: number; rows: Promise<{ n: number; age: number }[]> } | undefined;
  const backlog = () => {
    if (!reading || Date.now() - reading.at > 1_000) {
      reading = {
        at: Date.now(),
        rows: inSystemTransaction(dataSource, (m) =>
          m.query(`SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM now() - min(occurred_at)), 0)::float8 AS age FROM ${table} WHERE published_at IS NULL`),
        ),
      };
    }
    return reading.rows;
  };
  const unreport = [
    reportGauge('outbox_backlog_events', 'Outbox rows not yet published, by service.', ['service'], async (set) => set({ service: source }, (await backlog())[0]!.n)),
    reportGauge('outbox_oldest_unpublished_age_seconds', 'Age of the oldest unpublished outbox row (0 when none), by service.', ['service'], async (set) =>
      set({ service: source }, (await backlog())[0]!.age),
    ),
  ];

  return {
    flush: flushAfterCommit,
    async stop() {
      for (const remove of unreport) remove();
      unlisten?.();
      clearInterval(timer);
      await running;
      // What was committed before the stop still goes out (graceful shutdown).
      await flush();
      stopped = true;
    },
  };
}

/** The envelope an outbox row is published (and replayed) as. */
export const envelopeOf = (row: OutboxRow, source: string): EventEnvelope => ({
  eventId: row.event_id,
  type: row.type,
  occurredAt: new Date(row.occurred_at).toISOString(),
  tenantId: row.tenant_id,
  source,
  version: row.version,
  payload: row.payload,
});
