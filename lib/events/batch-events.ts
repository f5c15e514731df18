/**
 * Batch events (decision 0042): bulk work publishes one event per applied batch with the list of
 * its per-row changes, each shaped as the per-row type's payload. Consumers that keep a read model
 * apply a batch set-based; those that react per row (the gateway's subscriptions, plug-ins) read
 * its changes as per-row events through `changesOf` or `onEachChange`.
 */
import type { EventEnvelope } from './envelope.js';
import type { EventMap, EventType, TypedEvent } from './event-map.js';
import { on, type Reaction, type TypedApplier } from './on.js';

/** Each batch type and the per-row type of its changes. */
export const BATCH_EVENTS = {
  'pricing.prices.changed': 'pricing.price.changed',
  'inventory.stock-levels.changed': 'inventory.stock-level.changed',
} as const satisfies { [B in EventType]?: { [R in EventType]: EventMap[B] extends { changes: EventMap[R][] } ? R : never }[EventType] };

export type BatchType = keyof typeof BATCH_EVENTS;
/** The per-row type of a batch type. */
export type RowTypeOf<B extends BatchType> = (typeof BATCH_EVENTS)[B];

export const isBatchType = (type: string): type is BatchType => Object.hasOwn(BATCH_EVENTS, type);

/** The batch type whose changes are of `rowType`, if any. */
export const batchTypeOf = (rowType: string): BatchType | undefined =>
  (Object.keys(BATCH_EVENTS) as BatchType[]).find((batch) => BATCH_EVENTS[batch] === rowType);

/**
 * A batch event's changes as per-row events, in the batch's order: same id, tenant, time and
 * source as the batch (the id is the batch's, so a redelivered batch is recognised as a whole);
 * any other event as itself.
 */
export function changesOf(event: EventEnvelope): EventEnvelope[] {
  if (!isBatchType(event.type)) return [event];
  const rowType = BATCH_EVENTS[event.type];
  const changes = (event.payload as { changes?: unknown[] } | null)?.changes ?? [];
  return changes.map((payload) => ({ ...event, type: rowType, payload }));
}

/**
 * Reactions to a per-row type and to its batch type, the batch's changes applied one by one in
 * the consumer's one transaction: for reactions that act per row (a threshold crossed, a sale).
 * Read models that can should react to the batch set-based instead.
 */
export function onEachChange<R extends RowTypeOf<BatchType>>(rowType: R, apply: TypedApplier<R>): Reaction[] {
  const batch = batchTypeOf(rowType)!;
  return [
    on(rowType, apply),
    on(batch, async (m, event) => {
      for (const change of changesOf(event)) await apply(m, change as TypedEvent<R>);
    }),
  ];
}
