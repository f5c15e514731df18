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
   * Publishes `events` in this order, sent together (Redis: one pipelined write, not a round trip
   * each). Resolves when all are published; on a rejection some may be, and the caller publishes
   * them all again (consumers dedupe by `eventId`). Absent: `publish` one at a time.
   */
  publishBatch?(events: EventEnvelope[]): Promise<void>;
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
  /**
   * A bus that reads several entries at once (Redis: up to 100 a read) hands them here together,
   * in stream order, and acknowledges them together once it resolves; `handler` then serves only a
   * bus that delivers one at a time (the in-process bus). A rejection retries the whole batch, as a
   * handler's does its event, so it must be safe to run again (consumers dedupe by `eventId`).
   */
  batchHandler?: (events: EventEnvelope[]) => Promise<void>;
}
