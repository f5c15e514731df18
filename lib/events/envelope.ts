/** The envelope every event travels in, whatever the bus. */
export interface EventEnvelope<P = unknown> {
  eventId: string;
  /** `<subgraph>.<entity>.<past-tense>`, e.g. `inventory.stock-level.changed`. */
  type: string;
  occurredAt: string;
  tenantId: string;
  source: string;
  version: number;
  payload: P;
}

/** A handler for one consumer group; must be idempotent per `eventId` (the consumer dedupes). */
export type EventHandler = (event: EventEnvelope) => Promise<void>;
