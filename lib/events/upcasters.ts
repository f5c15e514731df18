/**
 * Reading an event whatever schema version it was written at (decision 0034). A publisher writes
 * each type at its current version (`EVENT_VERSIONS`); outbox rows, Redis streams and a consumer
 * deployed before its publisher keep older ones around. Every consumer that reads payloads reads
 * them through `readEvent`: an older payload is upcast step by step (version n → n + 1) to the
 * version this code knows; a newer one is refused, since no code here can know what it means.
 *
 * To change a payload incompatibly: bump its version in `EVENT_VERSIONS`, change its interface
 * in `contracts/`, and add the step from the previous version here. A type whose version has no
 * complete chain of steps fails at import (and `test/unit/upcasters.test.ts`).
 */
import type { EventEnvelope } from './envelope.js';
import { eventInfo, EVENT_TYPES } from './event-map.js';

/**
 * Turns a payload of version n into one of version n + 1 (pure: no I/O, same result every time).
 * It reads the old shape as plain JSON: the old interface is gone from `contracts/`.
 */
export type Upcaster = (payload: Record<string, unknown>) => Record<string, unknown>;

/** Per event type, the step from each older version: `{ 'x.y.z': { 1: v1ToV2, 2: v2ToV3 } }`. */
export type UpcasterTable = Readonly<Record<string, Readonly<Record<number, Upcaster>>>>;

/** The steps of this code base. Every type is still at version 1: nothing to upcast yet. */
export const UPCASTERS: UpcasterTable = {};

/** The version this code reads of a type (undefined: a type outside the map). */
export type VersionOf = (type: string) => number | undefined;

const currentVersion: VersionOf = (type) => eventInfo(type)?.version;

/** An event written at a version later than the one this consumer knows: it is not applied, and not acknowledged. */
export class EventTooNewError extends Error {
  readonly code = 'EVENT_TOO_NEW';
  constructor(readonly event: Pick<EventEnvelope, 'eventId' | 'type' | 'version' | 'source'>, readonly known: number) {
    super(
      `event ${event.type} ${event.eventId} from ${event.source} is version ${event.version}, this consumer reads it up to version ${known}: ` +
        'left unapplied and unacknowledged until a release that knows it is deployed here (upgrade consumers before publishers)',
    );
  }
}

/** Every type at a version above 1 has a step from each older version (else it fails at import, not at the first old event). */
export function missingUpcasters(versionOf: VersionOf = currentVersion, table: UpcasterTable = UPCASTERS, types: readonly string[] = EVENT_TYPES): string[] {
  const missing: string[] = [];
  for (const type of types) {
    const version = versionOf(type) ?? 1;
    for (let from = 1; from < version; from++) if (!table[type]?.[from]) missing.push(`${type} ${from} → ${from + 1}`);
  }
  for (const type of Object.keys(table)) if (!versionOf(type)) missing.push(`${type}: steps for a type outside the event map`);
  return missing;
}

/**
 * A reader of envelopes: the same envelope at the version this code knows. Types outside the map
 * pass unchanged (their consumers do not read them); an envelope without a version is version 1
 * (the first envelopes carried it, but a hand-published one may not).
 */
export function eventReader(options: { versionOf?: VersionOf; upcasters?: UpcasterTable } = {}): (event: EventEnvelope) => EventEnvelope {
  const versionOf = options.versionOf ?? currentVersion;
  const table = options.upcasters ?? UPCASTERS;
  return (event) => {
    const known = versionOf(event.type);
    if (known === undefined) return event;
    let version = Number.isInteger(event.version) && event.version > 0 ? event.version : 1;
    if (version === known && version === event.version) return event;
    if (version > known) throw new EventTooNewError(event, known);
    let payload: unknown = event.payload;
    for (; version < known; version++) {
      const step = table[event.type]?.[version];
      if (!step) throw new Error(`event ${event.type} ${event.eventId}: no upcaster from version ${version} to ${version + 1}`);
      payload = step(payload as Record<string, unknown>);
    }
    return { ...event, version, payload };
  };
}

/** Reads an envelope through this code base's upcasters (see `eventReader`). */
export const readEvent = eventReader();

const incomplete = missingUpcasters();
if (incomplete.length > 0) throw new Error(`lib/events/upcasters.ts: missing upcasters: ${incomplete.join('; ')}`);

/**
 * Logs a refused event once (a bus retries it until a consumer that knows it is deployed): the
 * same event id is not logged again by this process.
 */
export function refusalLogger(log: (message: string) => void): (error: EventTooNewError) => void {
  const seen = new Set<string>();
  return (error) => {
    if (seen.has(error.event.eventId)) return;
    if (seen.size >= 1000) seen.clear();
    seen.add(error.event.eventId);
    log(error.message);
  };
}

/**
 * `read` for a consumer that fails the delivery of a refused event (the bus keeps it): the same
 * reader, logging each refusal once before rethrowing it.
 */
export function refusingReader(read: (event: EventEnvelope) => EventEnvelope, log: (message: string) => void): (event: EventEnvelope) => EventEnvelope {
  const refused = refusalLogger(log);
  return (event) => {
    try {
      return read(event);
    } catch (error) {
      if (error instanceof EventTooNewError) refused(error);
      throw error;
    }
  };
}
