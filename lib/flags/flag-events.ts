import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../events/envelope.js';
import type { EventBus } from '../events/event-bus.js';
import { isEventOf } from '../events/event-map.js';
import type { FlagCache } from './cache.js';

interface Watch {
  caches: Set<FlagCache>;
  /** The bus subscription, shared by every cache of this process on this bus. */
  subscription: Promise<() => Promise<void>>;
}

const watches = new WeakMap<EventBus, Watch>();

/** Hands each `tenant.feature-flag.changed` to `caches` (a reader of a subscription that sees every event, as the gateway's hub). */
export function flagChangesTo(...caches: FlagCache[]): (event: EventEnvelope) => void {
  return (event) => {
    if (!isEventOf(event, 'tenant.feature-flag.changed')) return;
    const { key, revision, flag } = event.payload;
    for (const cache of caches) cache.changed({ tenantId: event.tenantId, key, revision, flag });
  };
}

/**
 * Keeps `cache` current from `tenant.feature-flag.changed`: every process must see every change,
 * so the events come through an ephemeral consumer group of this process (as a gateway's live
 * updates do), not the service's durable group, where one replica would get each event. The
 * services of one process on one bus (`npm start`) share the group. Returns the unwatch.
 */
export async function watchFlagChanges(bus: EventBus, cache: FlagCache): Promise<() => Promise<void>> {
  let watch = watches.get(bus);
  if (!watch) {
    const caches = new Set<FlagCache>();
    watch = {
      caches,
      subscription: bus.subscribe(
        `flags-${randomUUID()}`,
        async (event) => flagChangesTo(...caches)(event),
        { ephemeral: true },
      ),
    };
    watches.set(bus, watch);
  }
  const current = watch;
  current.caches.add(cache);
  try {
    await current.subscription;
  } catch (error) {
    current.caches.delete(cache);
    if (watches.get(bus) === current) watches.delete(bus);
    throw error;
  }
  return async () => {
    if (!current.caches.delete(cache) || current.caches.size > 0) return;
    if (watches.get(bus) === current) watches.delete(bus);
    await (await current.subscription)();
  };
}
