import type { DataSource, EntityManager } from 'typeorm';
import { inTenantTransaction, qualified } from '../db/data-source.js';
import { statisticsKeeper } from '../db/table-statistics.js';
import type { EventEnvelope } from './envelope.js';
import type { EventBus } from './event-bus.js';
import { metrics } from '../observability/metrics.js';
import { readEvent, refusingReader } from './upcasters.js';

export type EventApplier = (manager: EntityManager, event: EventEnvelope) => Promise<void>;

/**
 * Subscribes a service to the event types it reacts to. Each event is applied in the transaction
 * that writes its `processed_event` row, so a redelivered event changes nothing. On a bus that
 * reads in batches (Redis), consecutive events of one tenant share that transaction.
 *
 * Appliers see every payload at the version this code knows (`lib/events/upcasters.ts`): an
 * older one is upcast first; a newer one is refused (logged once, no `processed_event` row, the
 * delivery fails so the bus keeps it) until a release that knows it is deployed.
 */
export async function consumeEvents(options: {
  dataSource: DataSource;
  bus: EventBus;
  group: string;
  appliers: Record<string, EventApplier>;
  /** Called (not awaited) after an event was applied: the service's outbox may have grown. */
  afterApply?: () => void;
  /** How envelopes are read (default `readEvent`: this code base's versions and upcasters). */
  read?: (event: EventEnvelope) => EventEnvelope;
  log?: (message: string) => void;
}): Promise<() => Promise<void>> {
  const { dataSource, appliers } = options;
  const read = refusingReader(options.read ?? readEvent, options.log ?? ((message) => console.error(message)));
  const processed = qualified(dataSource, 'processed_event');
  // A feed's batches and bursts of events grow tables fast: keep the planner's statistics current.
  const statistics = statisticsKeeper(dataSource);
  /** Applies `events` (one tenant's) in one transaction, each with its `processed_event` row; returns those applied. */
  const applyInOne = (tenantId: string, events: EventEnvelope[]): Promise<EventEnvelope[]> =>
    inTenantTransaction(dataSource, tenantId, async (manager) => {
      const applied: EventEnvelope[] = [];
      for (const received of events) {
        const event = read(received);
        const inserted: unknown[] = await manager.query(
          `INSERT INTO ${processed} (event_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
          [event.eventId, event.tenantId],
        );
        if (inserted.length === 0) continue;
        await appliers[event.type]!(manager, event);
        applied.push(event);
      }
      return applied;
    });
  const noteApplied = (applied: EventEnvelope[]) => {
    // Not awaited: the relay may itself be waiting on this delivery (in-process bus).
    for (const event of applied) {
      metrics.eventsConsumed.inc({ service: options.group, type: event.type });
      statistics.noteWrite();
    }
    if (applied.length > 0) options.afterApply?.();
  };
  const applyOne = async (event: EventEnvelope) => {
    if (!appliers[event.type]) return;
    noteApplied(await applyInOne(event.tenantId, [event]));
  };
  return options.bus.subscribe(options.group, applyOne, {
    // A bus that reads in batches (Redis): each run of one tenant's events is one transaction, so a
    // bulk import's per-row events cost a commit per run, not per event. Should one of them fail,
    // the run's transaction is rolled back and its events are applied one by one, as without
    // batches: those before the failing one are kept, and it fails (and is retried) alone.
    batchHandler: async (events) => {
      const relevant = events.filter((event) => appliers[event.type]);
      for (let start = 0; start < relevant.length; ) {
        let end = start + 1;
        while (end < relevant.length && relevant[end]!.tenantId === relevant[start]!.tenantId) end++;
        const run = relevant.slice(start, end);
        start = end;
        let applied: EventEnvelope[] | undefined;
        try {
          applied = run.length > 1 ? await applyInOne(run[0]!.tenantId, run) : undefined;
        } catch {
          applied = undefined;
        }
        if (applied) noteApplied(applied);
        else for (const event of run) await applyOne(event);
      }
    },
  });
}
