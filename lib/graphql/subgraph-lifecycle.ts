import type { DataSource } from 'typeorm';
import { consumeEvents, type EventApplier } from '../events/consumer.js';
import type { EventBus } from '../events/event-bus.js';
import { createOutboxRelay } from '../events/outbox-relay.js';

/**
 * The background work every subgraph has: its outbox relay and, where it reacts to other
 * subgraphs, its event consumers. Created idle; `start` and `stop` follow the server.
 */
export function subgraphLifecycle(options: {
  dataSource: DataSource;
  bus: EventBus;
  source: string;
  appliers?: Record<string, EventApplier>;
}) {
  const relay = createOutboxRelay(options);
  let stopConsuming: (() => Promise<void>) | undefined;
  return {
    /** Publishes what was just committed (a no-op until started). */
    flush: relay.flush,
    async start() {
      if (options.appliers) {
        stopConsuming = await consumeEvents({
          ...options,
          group: options.source,
          appliers: options.appliers,
          afterApply: () => void relay.flush(),
        });
      }
      relay.start();
    },
    async stop() {
      await stopConsuming?.();
      stopConsuming = undefined;
      await relay.stop();
    },
  };
}
