import type { EntityManager } from 'typeorm';
import type { Reaction } from '../events/on.js';
import type { EventMap, EventType } from '../events/event-map.js';

/** What a transition's deciders are told: the transition and the order (or, for `place`, the request). */
export interface TransitionSubject {
  tenantId: string;
  /** `place`, `pay`, `fulfil`, `cancel`. */
  event: string;
  orderId: string | null;
  storeId: string;
  status: string | null;
  lines: { sku: string; quantity: number }[];
}

/** A decider's answer. */
export interface Decision {
  allow: boolean;
  reason?: string;
}

/** A synchronous decision at an order transition, in process (trusted code: no deadline of its own). */
export type TransitionDecider = (subject: TransitionSubject) => Decision | Promise<Decision>;

/**
 * What a plug-in may do in the service that loads it: react to events (in the service's consumer
 * transaction, deduplicated like every reaction), emit the service's own events in that
 * transaction, and decide order transitions (orders only).
 */
export interface PluginApi {
  /** The subgraph the plug-in runs in (`inventory`, `orders`, …). */
  readonly subgraph: string;
  /** The plug-in's options from configuration (`COMMERCE_PLUGINS`). */
  readonly options: Record<string, unknown>;
  /** Adds a reaction to the service's consumer (`on(type, handler)` from lib/events/on.ts). */
  react(reaction: Reaction): void;
  /** Appends one of this service's own event types to its outbox, in the reaction's transaction. */
  emit<K extends EventType>(manager: EntityManager, tenantId: string, type: K, payload: EventMap[K]): Promise<string>;
  /** Decides transitions named `event` (orders): every decider must allow. */
  decide(event: string, decider: TransitionDecider): void;
}

/** A trusted in-process plug-in: a module whose default export (or `plugin`) is this. */
export interface CommercePlugin {
  name: string;
  /** The subgraphs it runs in; elsewhere it is not set up. */
  subgraphs: readonly string[];
  setup(api: PluginApi): void;
}
