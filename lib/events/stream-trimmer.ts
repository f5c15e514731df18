import type { RedisClient } from '../redis.js';


const parse = (id: string): [bigint, bigint] => {
  const [ms = '0', seq = '0'] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
};
const before = (a: string, b: string) => {
  const [am, as] = parse(a);
  const [bm, bs] = parse(b);
  return am < bm || (am === bm && as < bs);
};
const after = (id: string) => {
  const [ms, seq] = parse(id);
  return `${ms}-${seq + 1n}`;
};

/**
 * Caps a stream at about `maxLength` entries without ever removing one a durable group (named in
 * the set `durableKey`) has not acknowledged: each such group's oldest pending entry, or the first
 * it has not been delivered yet, bounds the trim (XTRIM MINID). Ephemeral groups do not hold it.
 * At most 10000 entries go per call; the bus calls it every few seconds.
 */
export async function trimStream(client: RedisClient, stream: string, durableKey: string, maxLength: number): Promise<void> {
  const length = await client.xLen(stream);
  if (length <= maxLength) return;
  const oldest = await client.xRange(stream, '-', '+', { COUNT: Math.min(length - maxLength, 10_000) });
  const last = oldest[oldest.length - 1];
  if (!last) return;
  let threshold = after(last.id);
  const durable = new Set(await client.sMembers(durableKey));
  for (const group of await client.xInfoGroups(stream)) {
    const name = String(group.name);
    if (!durable.has(name)) continue;
    const firstPending = Number(group.pending) > 0 ? (await client.xPending(stream, name)).firstId : null;
    const needed = firstPending ? String(firstPending) : after(String(group['last-delivered-id']));
    if (before(needed, threshold)) threshold = needed;
  }
  // Approximate: whole nodes only, so never an entry at or after the threshold.
  await client.xTrim(stream, 'MINID', threshold, { strategyModifier: '~' });
}
