import type { EntityManager } from 'typeorm';
import type { EventApplier } from './consumer.js';
import type { EventType, TypedEvent } from './event-map.js';

/** Applies one event type, its payload typed by the event map. */
export type TypedApplier<K extends EventType> = (manager: EntityManager, event: TypedEvent<K>) => Promise<void>;

/** One reaction of a consumer: an event type and what to do with it. */
export interface Reaction {
  readonly type: EventType;
  readonly apply: EventApplier;
}

/** `on('tenant.store.created', (m, event) => ...)`: `event.payload` has the type's payload type. */
export function on<K extends EventType>(type: K, apply: TypedApplier<K>): Reaction {
  // The bus delivers this handler only events of `type`, which the publisher wrote through the map.
  return { type, apply: apply as EventApplier };
}

/** A consumer's appliers from its reactions (for `consumeEvents`); a type may appear once. */
export function reactions(...list: Reaction[]): Record<string, EventApplier> {
  const appliers: Record<string, EventApplier> = {};
  for (const { type, apply } of list) {
    if (appliers[type]) throw new Error(`two reactions to ${type}`);
    appliers[type] = apply;
  }
  return appliers;
}

/**
 * Like `reactions`, but a type several read models react to (catalog's search offers and sales
 * both follow `inventory.stock-level.changed`) gets one applier running theirs in turn, in the
 * consumer's one transaction.
 */
export function combinedReactions(...list: Reaction[]): Record<string, EventApplier> {
  const byType = new Map<string, EventApplier[]>();
  for (const { type, apply } of list) byType.set(type, [...(byType.get(type) ?? []), apply]);
  return Object.fromEntries(
    [...byType].map(([type, appliers]) => [
      type,
      appliers.length === 1
        ? appliers[0]!
        : async (manager: EntityManager, event: Parameters<EventApplier>[1]) => {
            for (const apply of appliers) await apply(manager, event);
          },
    ]),
  );
}
