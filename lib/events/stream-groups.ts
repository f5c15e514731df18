import type { RedisClient } from '../redis.js';
import { within } from '../async/within.js';
import { reportGauge } from '../observability/metrics.js';


export interface GroupState {
  group: string;
  durable: boolean;
  /** Entries in the stream not yet delivered to the group (XINFO GROUPS `lag`; counted up to 10,000 when Redis cannot tell, after a trim). */
  lag: number;
  /** Entries delivered to a consumer of the group and not acknowledged. */
  pending: number;
  /** Age in seconds of the oldest entry the group has not acknowledged (pending or not delivered yet); 0 when none. */
  oldestAgeSeconds: number;
}

/** The millisecond part of a stream id: when Redis added the entry. */
const millisOf = (id: string) => Number(id.split('-')[0]);

/**
 * Where every consumer group of `stream` stands: how far behind it is, what it holds unacknowledged,
 * and how old its oldest unconsumed entry is. A group at lag 0, pending 0 has consumed everything.
 */
export async function readGroups(client: RedisClient, stream: string, durableKey: string, now = Date.now()): Promise<GroupState[]> {
  if (!(await client.exists(stream))) return [];
  const durable = new Set(await client.sMembers(durableKey));
  const states: GroupState[] = [];
  for (const info of await client.xInfoGroups(stream)) {
    const group = String(info.name);
    const pending = Number(info.pending);
    const lastDelivered = String(info['last-delivered-id']);
    // Redis 7 keeps `lag`; it is null after some trims: count what follows the last delivered entry
    // then, up to 10,000 (past the alert's threshold; reading more each scrape would cost Redis more than it tells).
    const reported = (info as Record<string, unknown>).lag;
    const firstUndelivered = (await client.xRange(stream, `(${lastDelivered}`, '+', { COUNT: 1 }))[0]?.id;
    const lag =
      typeof reported === 'number' && Number.isFinite(reported)
        ? reported
        : firstUndelivered
          ? (await client.xRange(stream, `(${lastDelivered}`, '+', { COUNT: 10_000 })).length
          : 0;
    const firstPending = pending > 0 ? String((await client.xPending(stream, group)).firstId ?? '') : '';
    const oldest = firstPending || firstUndelivered;
    states.push({ group, durable: durable.has(group), lag, pending, oldestAgeSeconds: oldest ? Math.max(0, (now - millisOf(oldest)) / 1000) : 0 });
  }
  return states;
}

/**
 * Reports each group's lag, pending count and oldest unconsumed age, and the stream's length, as
 * Prometheus gauges (read at scrape time; one read serves the gauges of one scrape). Returns the
 * function that stops reporting.
 */
export function reportStreamGroups(client: RedisClient, stream: string, durableKey: string): () => void {
  let reading: { at: number; states: Promise<{ length: number; groups: GroupState[] }> } | undefined;
  let running = false;
  const read = () => {
    if (!reading || Date.now() - reading.at > 1_000) {
      // A frozen Redis must not hang /metrics: a scrape waits 1 s at most (the series are left
      // out), and no second read starts while one is still waiting for Redis.
      if (running) return Promise.reject(new Error('the previous read of the stream groups has not finished'));
      running = true;
      const states = (async () => ({ length: await client.xLen(stream), groups: await readGroups(client, stream, durableKey) }))().finally(() => (running = false));
      reading = { at: Date.now(), states: within(states, 1_000) };
    }
    return reading.states;
  };
  const labels = ['stream', 'group', 'durable'];
  const perGroup = (pick: (state: GroupState) => number) => async (set: (labels: Record<string, string>, value: number) => void) => {
    for (const state of (await read()).groups) set({ stream, group: state.group, durable: String(state.durable) }, pick(state));
  };
  const removers = [
    reportGauge('event_stream_length', 'Entries in the Redis event stream (trimmed near its cap, never below what a durable group has not acknowledged).', ['stream'], async (set) =>
      set({ stream }, (await read()).length),
    ),
    reportGauge('event_group_lag', 'Entries of the event stream not yet delivered to a consumer group, by group.', labels, perGroup((s) => s.lag)),
    reportGauge('event_group_pending', 'Entries delivered to a consumer group and not yet acknowledged, by group.', labels, perGroup((s) => s.pending)),
    reportGauge(
      'event_group_oldest_unconsumed_age_seconds',
      'Age of the oldest entry a consumer group has not acknowledged (pending or not delivered yet; 0 when none), by group.',
      labels,
      perGroup((s) => s.oldestAgeSeconds),
    ),
  ];
  return () => removers.forEach((remove) => remove());
}
