import type { EventEnvelope, EventHandler } from './envelope.js';

/**
 * Publishes events and delivers each to every consumer group once (at least once; consumers
 * dedupe by `eventId`). In-process by default, Redis streams in production.
 */
export interface EventBus {
  /** Set when other processes publish to it too (Redis): outbox relays of one service then take turns. */
  readonly crossProcess?: boolean;
  publish(event: EventEnvelope): Promise<void>;
  /**
   * Delivers every event to `handler` once per group. A durable group (a service) also gets, on
   * Redis, what was published before it existed or while it was down; an ephemeral one (a
   * gateway instance pushing to its sockets) only what is published from now on, and is removed
   * when it stops.
   */
  subscribe(group: string, handler: EventHandler, options?: SubscribeOptions): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /**
   * Calls `republish(since, until)` when the bus may have lost events `source` published (Redis
   * restarted without its data, or a Redis that never saw them): the outbox publishes again what it
   * published in that span (`until` absent: up to now). Absent on a bus that cannot lose events.
   * Returns the unregistration.
   */
  onLoss?(source: string, republish: (since: Date, until?: Date) => Promise<void>): () => void;
  /** Rejects when the bus cannot be reached or cannot deliver (readiness checks). */
  ping(): Promise<void>;
  /** `publish` resolves once every handler ran (the in-process bus): a write that waits for it reads its own effects everywhere. */
  readonly deliversInline?: boolean;
}

export interface SubscribeOptions {
  /** Default false: a durable group. */
  ephemeral?: boolean;
}
