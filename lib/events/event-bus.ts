import type { EventEnvelope, EventHandler } from './envelope.js';

/**
 * Publishes events and delivers each to every consumer group once (at least once; consumers
 * dedupe by `eventId`). In-process by default, Redis streams in production.
 */
export interface EventBus {
  publish(event: EventEnvelope): Promise<void>;
  /** Delivers every event published from now on (and, on Redis, any the group missed) to `handler`. */
  subscribe(group: string, handler: EventHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
