import type { RedisClient } from '../redis.js';


/**
 * Liveness of the stream's readers, for Redis 7.0 too (whose XINFO CONSUMERS `idle` counts from the
 * last delivery, so a live reader of a quiet group looks as idle as a dead one): every reader holds a
 * lease key, `<stream>:lease:<group>:<consumer>`, that its process renews while it runs and that
 * expires when the process dies (kill -9, a lost host).
 */
export const leaseKey = (stream: string, group: string, consumer: string) => `${stream}:lease:${group}:${consumer}`;

export interface Reaped {
  /** Ephemeral groups (a gateway's) destroyed: no reader of theirs holds a lease. */
  groups: string[];
  /** `group/consumer` of durable groups deleted: no lease, nothing pending. */
  consumers: string[];
}

/**
 * Removes what dead processes left on the stream:
 * - an ephemeral group (not in the set `durableKey`) none of whose consumers holds a lease: a gateway
 *   killed without stopping; its pending entries and growing lag go with it (nobody will read them);
 * - a consumer of a durable group without a lease, with nothing pending and nothing delivered to it
 *   for `leaseMs`: a stopped instance, a
 *   seed or a bench. One that still holds entries stays until a live consumer claimed them
 *   (XAUTOCLAIM), so nothing it was given is dropped.
 * Durable groups themselves are never removed (a service that is down must find its events); an
 * ephemeral group not read yet (no consumer) is left for the next round. Idempotent: every bus
 * process runs it.
 */
export async function reapDeadConsumers(client: RedisClient, stream: string, durableKey: string, leaseMs: number): Promise<Reaped> {
  const reaped: Reaped = { groups: [], consumers: [] };
  if (!(await client.exists(stream))) return reaped;
  const durable = new Set(await client.sMembers(durableKey));
  for (const group of await client.xInfoGroups(stream)) {
    const name = String(group.name);
    const consumers = await client.xInfoConsumers(stream, name);
    if (consumers.length === 0) continue;
    const live = await Promise.all(consumers.map(async (c) => (await client.exists(leaseKey(stream, name, String(c.name)))) > 0));
    if (!durable.has(name)) {
      if (live.some(Boolean)) continue;
      // Checked again just before: a gateway that started reading meanwhile keeps its group.
      const current = await client.xInfoConsumers(stream, name).catch(() => []);
      const leased = await Promise.all(current.map(async (c) => (await client.exists(leaseKey(stream, name, String(c.name)))) > 0));
      if (leased.some(Boolean)) continue;
      await client.xGroupDestroy(stream, name);
      reaped.groups.push(name);
      continue;
    }
    for (const [i, consumer] of consumers.entries()) {
      // Nothing delivered to it for a lease either: a live reader of an older version (no lease) that was
      // just given entries is not the one removed.
      if (live[i] || Number(consumer.pending) > 0 || Number(consumer.idle) < leaseMs) continue;
      // DELCONSUMER answers how many entries it held: 0 here, unless one was delivered meanwhile.
      const held = await client.xGroupDelConsumer(stream, name, String(consumer.name));
      reaped.consumers.push(`${name}/${String(consumer.name)}${Number(held) > 0 ? ` (held ${String(held)})` : ''}`);
    }
  }
  return reaped;
}
