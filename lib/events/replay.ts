/**
 * Rebuilding read models (decision 0034). A read model is a table (or a few) a service keeps
 * only from what others published, or derives from its own tables: nothing in it is the source
 * of truth, so it can be wiped and built again. `npm run replay` runs this for every model the
 * services declare (`scripts/read-models.ts`).
 */
import type { DataSource, EntityManager } from 'typeorm';
import { isSharedSession } from '../db/data-source.js';
import type { EventEnvelope } from './envelope.js';
import { eventInfo, type Publisher } from './event-map.js';
import { reactions, type Reaction } from './on.js';
import { envelopeOf, type OutboxRow } from './outbox-relay.js';
import { readEvent } from './upcasters.js';

export interface ReadModel {
  /** `<service>.<model>`, e.g. `orders.variant-info`. */
  name: string;
  /** The service whose database holds it. */
  service: string;
  /** Its tables in that service's schema: wiped, then rebuilt, in one transaction. */
  tables: readonly string[];
  description: string;
  /**
   * Built from events: the live consumer's own reactions, applied again to every event of their
   * types in each publisher's outbox (in the outbox's order), each read through the upcasters.
   */
  reactions?: readonly Reaction[];
  /** Or derived from the service's own tables: fills the wiped tables, returns what it read. */
  rebuild?: (manager: EntityManager) => Promise<number>;
}

export interface ReplayReport {
  model: string;
  /** Events applied (or, for a model derived from its service's own tables, the rows it read). */
  read: number;
  /** Rows in the model's tables before the rebuild, and after. */
  before: number;
  after: number;
  ms: number;
}

interface PositionedRow extends OutboxRow {
  position: string;
}

const PAGE = 1000;

/** One publisher's outbox rows of some types, in publication order, a page at a time. */
async function* outboxRows(publisher: DataSource, types: readonly string[]): AsyncGenerator<PositionedRow[]> {
  const table = `"${publisher.driver.schema}"."outbox"`;
  let after = '0';
  for (;;) {
    // Every tenant's rows (the outbox's row-level security is forced on its owner too).
    const rows: PositionedRow[] = await publisher.transaction(async (m) => {
      await m.query(`SELECT set_config('app.system', 'on', true)`);
      return m.query(
        `SELECT event_id, type, tenant_id, payload, version, occurred_at, position::text AS position FROM ${table}
          WHERE type = ANY($1::text[]) AND position > $2::bigint ORDER BY position LIMIT ${PAGE}`,
        [types, after],
      );
    });
    if (rows.length === 0) return;
    yield rows;
    after = rows.at(-1)!.position;
    if (rows.length < PAGE) return;
  }
}

/**
 * Wipes the model's tables and builds them again, in one transaction of its service's database,
 * as the tables' owner with every tenant visible (`app.system`), without the requests' statement
 * timeout. Idempotent: a second run gives the same rows.
 *
 * On PostgreSQL it may run beside the live system: the tables are locked against writers (SHARE
 * ROW EXCLUSIVE: readers go on reading the old rows until the commit; the live consumer's next
 * write waits) before the outboxes are read, so an event is either in what the replay reads or
 * applied by the consumer after it, over the rebuilt rows. Embedded PGlite is one session for
 * every connection: the outboxes are read first, then the transaction runs; the system must be
 * stopped (the data folder belongs to one process anyway).
 */
export async function replayReadModel(
  model: ReadModel,
  databaseOf: (service: string) => DataSource,
  options: { read?: (event: EventEnvelope) => EventEnvelope } = {},
): Promise<ReplayReport> {
  const started = Date.now();
  const read = options.read ?? readEvent;
  const target = databaseOf(model.service);
  const schema = target.driver.schema!;
  const appliers = model.reactions ? reactions(...model.reactions) : {};
  const byPublisher = new Map<Publisher, string[]>();
  for (const type of Object.keys(appliers)) {
    const publisher = eventInfo(type)!.publisher;
    byPublisher.set(publisher, [...(byPublisher.get(publisher) ?? []), type]);
  }
  const pages = async function* (): AsyncGenerator<EventEnvelope[]> {
    for (const [publisher, types] of byPublisher) {
      for await (const rows of outboxRows(databaseOf(publisher), types)) yield rows.map((row) => read(envelopeOf(row, publisher)));
    }
  };
  // One session (embedded): nothing may be read through another connection while the transaction is open.
  const preread: EventEnvelope[][] | undefined = isSharedSession(target) ? [] : undefined;
  if (preread) for await (const page of pages()) preread.push(page);

  const count = async (m: EntityManager) => {
    let rows = 0;
    for (const table of model.tables) rows += Number((await m.query(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`))[0].n);
    return rows;
  };
  return target.transaction(async (m) => {
    await m.query(`SELECT set_config('app.system', 'on', true), set_config('app.tenant_id', '', true), set_config('statement_timeout', '0', true)`);
    const tables = model.tables.map((table) => `"${schema}"."${table}"`).join(', ');
    await m.query(`LOCK TABLE ${tables} IN SHARE ROW EXCLUSIVE MODE`);
    const before = await count(m);
    for (const table of model.tables) await m.query(`DELETE FROM "${schema}"."${table}"`);
    let applied = 0;
    if (model.rebuild) applied = await model.rebuild(m);
    for await (const page of preread ?? pages()) {
      for (const event of page) {
        await appliers[event.type]!(m, event);
        applied += 1;
      }
    }
    return { model: model.name, read: applied, before, after: await count(m), ms: Date.now() - started };
  });
}

/** The models a `replay` argument names: one model, every model of a service, or `all`. */
export function selectReadModels(models: readonly ReadModel[], target: string): ReadModel[] {
  if (target === 'all') return [...models];
  const chosen = models.filter((model) => model.name === target || model.service === target);
  if (chosen.length === 0) throw new Error(`no read model "${target}"; known: all, ${[...new Set(models.map((m) => m.service))].join(', ')}, ${models.map((m) => m.name).join(', ')}`);
  return chosen;
}
