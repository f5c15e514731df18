import type { DataSource, EntityManager } from 'typeorm';
import { inTenantTransaction, qualified } from '../db/data-source.js';
import { statisticsKeeper } from '../db/table-statistics.js';
import type { EventEnvelope } from './envelope.js';
import type { EventBus } from './event-bus.js';
import { metrics } from '../observability/metrics.js';

export type EventApplier = (manager: EntityManager, event: EventEnvelope) => Promise<void>;

/**
 * Subscribes a service to the event types it reacts to. Each event is applied in one
 * transaction together with its `processed_event` row, so a redelivered event changes nothing.
 */
export async function consumeEvents(options: {
  dataSource: DataSource;
  bus: EventBus;
  group: string;
  appliers: Record<string, EventApplier>;
  /** Called (not awaited) after an event was applied: the service's outbox may have grown. */
  afterApply?: () => void;
}): Promise<() => Promise<void>> {
  const { dataSource, appliers } = options;
  const processed = qualified(dataSource, 'processed_event');
  // A feed's batches and bursts of events grow tables fast: keep the planner's statistics current.
  const statistics = statisticsKeeper(dataSource);
  return options.bus.subscribe(options.group, async (event) => {
    const apply = appliers[event.type];
    if (!apply) return;
    const applied = await inTenantTransaction(dataSource, event.tenantId, async (manager) => {
      const inserted: unknown[] = await manager.query(
        `INSERT INTO ${processed} (event_id, tenant_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`,
        [event.eventId, event.tenantId],
      );
      if (inserted.length === 0) return false;
      await apply(manager, event);
      return true;
    });
    // Not awaited: the relay may itself be waiting on this delivery (in-process bus).
    if (applied) {
      metrics.eventsConsumed.inc({ service: options.group, type: event.type });
      statistics.noteWrite();
      options.afterApply?.();
    }
  });
}
