import type { EventEnvelope, EventHandler } from './envelope.js';
import type { EventBus } from './event-bus.js';

const RETRY_DELAYS_MS = [50, 200, 1000, 5000];

/**
 * The in-process bus: `publish` resolves when every group's handler has run, which gives
 * read-your-writes across subgraphs when they share a process. A failing handler is retried
 * with backoff in the background; the relay has already marked the event published.
 */
export function createInMemoryBus(log: (message: string) => void = console.error): EventBus {
  const groups = new Map<string, Set<EventHandler>>();
  const pending = new Set<NodeJS.Timeout>();
  let closed = false;

  const deliver = async (handler: EventHandler, event: EventEnvelope, attempt: number): Promise<void> => {
    try {
      await handler(event);
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || closed) {
        log(`event ${event.type} ${event.eventId} dropped after ${attempt + 1} attempts: ${String(error)}`);
        return;
      }
      const timer = setTimeout(() => {
        pending.delete(timer);
        void deliver(handler, event, attempt + 1);
      }, delay);
      pending.add(timer);
    }
  };

  return {
    deliversInline: true,
    async ping() {
      if (closed) throw new Error('the in-process bus is closed');
    },
    async publish(event) {
      const deliveries: Promise<void>[] = [];
      for (const handlers of groups.values()) {
        for (const handler of handlers) deliveries.push(deliver(handler, event, 0));
      }
      await Promise.all(deliveries);
    },
    async subscribe(group, handler) {
      const handlers = groups.get(group) ?? new Set<EventHandler>();
      handlers.add(handler);
      groups.set(group, handlers);
      return async () => {
        handlers.delete(handler);
      };
    },
    async close() {
      closed = true;
      for (const timer of pending) clearTimeout(timer);
      groups.clear();
    },
  };
}
