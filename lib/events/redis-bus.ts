import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { redisClient, type RedisClient } from '../redis.js';
import { within } from '../async/within.js';
import type { EventEnvelope } from './envelope.js';
import type { EventBus, SubscribeOptions } from './event-bus.js';
import { trimStream } from './stream-trimmer.js';
import { reportStreamGroups } from './stream-groups.js';
import { leaseKey, reapDeadConsumers } from './consumer-reaper.js';

export interface RedisBusOptions {
  url: string;
  /** Stream key (default `commerce:events`); tests use their own. */
  stream?: string;
  /** Streams are capped to about this many entries (default 100000), never below what a durable group still needs. */
  maxLength?: number;
  /** How often the stream is trimmed (default 5000 ms). */
  trimMs?: number;
  /**
   * This process's name in every durable group (default: the host name). Stable across restarts
   * of one instance, so a restarted instance first finishes what it left pending.
   */
  consumer?: string;
  /** Entries another consumer has held unacknowledged this long are taken over (default 30000 ms). */
  claimIdleMs?: number;
  /** How far back the outboxes re-publish after Redis lost its data (default 3600000 ms: an hour). */
  republishWindowMs?: number;
  /**
   * Each reader's lease (default 30000 ms), renewed every third of it while the process runs: a
   * process killed without stopping leaves groups and consumers that are removed once it expired.
   */
  leaseMs?: number;
  /** How often this process removes what dead readers left (default 15000 ms). */
  reapMs?: number;
  /** How often the bus looks for a Redis that lost its data (default 1000 ms). */
  checkMs?: number;
  log?: (message: string) => void;
}


/**
 * Stopping waits on Redis at most this long for each step, then lets go (a frozen Redis never
 * answers; a closed client throws): true when the step succeeded in time.
 */
const settled = (step: Promise<unknown> | (() => Promise<unknown>), ms = 2_000): Promise<boolean> =>
  within(Promise.resolve().then(typeof step === 'function' ? step : () => step), ms).then(
    () => true,
    () => false,
  );
type StreamMessage = { id: string; message: Record<string, string> };
type StreamBatch = { name: string; messages: StreamMessage[] };

/**
 * One Redis stream carries every event; each consumer group reads it with XREADGROUP and
 * acknowledges after its handler succeeded, so an event survives a consumer that was down. What a
 * dead consumer left pending is claimed by a live one (XAUTOCLAIM); a group Redis forgot is created
 * again; a Redis that lost its data (a service's marker key gone) makes that service's outbox re-publish
 * (`onLoss`).
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const stream = options.stream ?? 'commerce:events';
  const log = options.log ?? console.error;
  const consumer = options.consumer ?? hostname();
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const republishWindowMs = options.republishWindowMs ?? 3_600_000;
  // Commands fail at once while Redis is away (no offline queue): the relay keeps its rows and
  // retries, readiness answers at once, and no write waits on the bus.
  const publisher: RedisClient = redisClient(options.url);
  publisher.on('error', (error) => log(`redis: ${String(error)}`));
  await publisher.connect();
  const stops = new Set<() => Promise<void>>();
  /** Groups whose last read failed, with why: the bus is not usable for them. */
  const failing = new Map<string, string>();
  /** Per publishing service: the marker it last saw, and what re-publishes its outbox. */
  const sources = new Map<string, { seen?: string; since: Date; listener: (since: Date, until?: Date) => Promise<void> }>();
  const recovering = new Set<Promise<void>>();

  /**
   * A marker key per publishing service names the data Redis holds. Absent (a new or emptied
   * Redis) or another than the one this process saw: entries of that service may be gone, and its
   * outbox re-publishes what they might have been. Consumers dedupe by event id.
   */
  const checkSource = async (source: string): Promise<void> => {
    const state = sources.get(source);
    if (!state) return;
    const mine = randomUUID();
    const key = `${stream}:incarnation:${source}`;
    const created = (await publisher.set(key, mine, { condition: 'NX' })) === 'OK';
    const current = created ? mine : ((await publisher.get(key)) ?? undefined);
    const first = state.seen === undefined;
    const lost = created || (!first && current !== state.seen);
    state.seen = current;
    if (!lost) return;
    log(`redis: ${stream} holds no events of ${source} from before now: re-publishing its outbox's last ${republishWindowMs / 1000} s`);
    // Found missing at start, the loss is of what went out before this process registered; what it
    // published since went to this Redis.
    const recovery: Promise<void> = state
      .listener(new Date(Date.now() - republishWindowMs), first ? state.since : undefined)
      .catch((error: unknown) => log(`redis: re-publishing ${source} failed: ${String(error)}`))
      .finally(() => recovering.delete(recovery));
    recovering.add(recovery);
  };
  const checkAll = () => Promise.all([...sources.keys()].map(checkSource));
  const checker = setInterval(() => void checkAll().catch(() => undefined), options.checkMs ?? 1_000);
  checker.unref();
  // Durable groups are listed beside the stream, so trimming keeps what they have not acknowledged.
  const durableKey = `${stream}:durable-groups`;
  let trimming = false;
  const trimmer = setInterval(() => {
    if (trimming) return;
    trimming = true;
    void trimStream(publisher, stream, durableKey, options.maxLength ?? 100_000)
      .catch(() => undefined)
      .finally(() => (trimming = false));
  }, options.trimMs ?? 5_000);
  trimmer.unref();
  // Lag, pending and the oldest unconsumed age of every group, at each scrape of /metrics.
  const unreport = reportStreamGroups(publisher, stream, durableKey);

  // Leases of this process's readers (group → consumer), renewed together; what dead processes left is reaped.
  const leaseMs = options.leaseMs ?? 30_000;
  const leases = new Set<string>();
  const renew = () => Promise.all([...leases].map((key) => publisher.set(key, '1', { PX: leaseMs })));
  const renewer = setInterval(() => void renew().catch(() => undefined), Math.max(50, Math.floor(leaseMs / 3)));
  renewer.unref();
  let reaping = false;
  const reaper = setInterval(() => {
    if (reaping) return;
    reaping = true;
    void reapDeadConsumers(publisher, stream, durableKey, leaseMs)
      .then(({ groups, consumers }) => {
        if (groups.length > 0) log(`redis: removed ${groups.length} consumer group(s) of dead gateways: ${groups.join(', ')}`);
        if (consumers.length > 0) log(`redis: removed ${consumers.length} dead consumer(s): ${consumers.join(', ')}`);
      })
      .catch(() => undefined)
      .finally(() => (reaping = false));
  }, options.reapMs ?? 15_000);
  reaper.unref();

  const createGroup = async (group: string, ephemeral: boolean) => {
    try {
      // A durable group starts at the beginning: a new service catches up on the stream's history,
      // and a group recreated after Redis lost its data reads what the outboxes re-publish.
      await publisher.xGroupCreate(stream, group, ephemeral ? '$' : '0', { MKSTREAM: true });
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
    if (!ephemeral) await publisher.sAdd(durableKey, group);
  };

  return {
    crossProcess: true,
    async ping() {
      await publisher.ping();
      await checkAll();
      if (recovering.size > 0) throw new Error('re-publishing the outboxes after Redis lost its data');
      const [group, why] = [...failing][0] ?? [];
      if (group) throw new Error(`consumer group ${group}: ${why}`);
    },
    async publish(event) {
      await publisher.xAdd(stream, '*', { event: JSON.stringify(event) });
    },
    async publishBatch(events) {
      // Commands issued in one tick go out as one pipeline on the one connection, in this order.
      await Promise.all(events.map((event) => publisher.xAdd(stream, '*', { event: JSON.stringify(event) })));
    },
    onLoss(source, listener) {
      sources.set(source, { listener, since: new Date() });
      // At once: a service starting on a Redis that never saw its events re-publishes too.
      void checkSource(source).catch(() => undefined);
      return () => void sources.delete(source);
    },
    async subscribe(group, handler, subscribeOptions: SubscribeOptions = {}) {
      const ephemeral = subscribeOptions.ephemeral ?? false;
      // The lease first: a reaper never finds this group without it.
      const lease = leaseKey(stream, group, consumer);
      leases.add(lease);
      await publisher.set(lease, '1', { PX: leaseMs });
      await createGroup(group, ephemeral);
      const reader: RedisClient = publisher.duplicate();
      reader.on('error', () => undefined);
      await reader.connect();
      let running = true;
      const handle = async (messages: (StreamMessage | null)[]) => {
        const batchHandler = subscribeOptions.batchHandler;
        if (batchHandler) {
          // One call and one acknowledgement per read: a bulk import's thousands of events cost a
          // transaction and a round trip per hundred, not per event.
          const entries = messages.filter((entry): entry is StreamMessage => entry !== null);
          if (entries.length === 0) return;
          const events = entries.flatMap((entry) => (entry.message.event === undefined ? [] : [JSON.parse(entry.message.event) as EventEnvelope]));
          if (events.length > 0) await batchHandler(events);
          await reader.xAck(stream, group, entries.map((entry) => entry.id));
          return;
        }
        for (const entry of messages) {
          if (!entry) continue;
          const raw = entry.message.event;
          if (raw !== undefined) await handler(JSON.parse(raw) as EventEnvelope);
          await reader.xAck(stream, group, entry.id);
        }
      };
      const loop = (async () => {
        // First what this consumer left pending (a restart of the same instance), then new entries.
        let cursor = '0';
        let claimedAt = 0;
        while (running) {
          try {
            // A durable group's entries held too long by another consumer (a dead instance) are taken over.
            if (!ephemeral && Date.now() - claimedAt >= claimIdleMs / 2) {
              claimedAt = Date.now();
              const claimed = await reader.xAutoClaim(stream, group, consumer, claimIdleMs, '0-0', { COUNT: 100 });
              if (claimed.messages.length > 0) {
                await handle(claimed.messages as (StreamMessage | null)[]);
                claimedAt = 0;
              }
            }
            const batches = (await reader.xReadGroup(group, consumer, { key: stream, id: cursor }, { COUNT: 100, BLOCK: 500 })) as StreamBatch[] | null;
            const messages = batches?.[0]?.messages ?? [];
            if (cursor === '0' && messages.length === 0) cursor = '>';
            await handle(messages);
            if (failing.delete(group)) log(`redis consumer ${group}: reading again`);
          } catch (error) {
            if (!running) break;
            const why = String(error);
            if (!failing.has(group)) log(`redis consumer ${group}: ${why}`);
            failing.set(group, why);
            cursor = '0';
            // Redis restarted without its data: the group is gone; make it again and carry on.
            if (why.includes('NOGROUP')) {
              const recreated = await createGroup(group, ephemeral).then(() => true, () => false);
              if (recreated) continue;
            }
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      })();
      const stop = async () => {
        running = false;
        // The loop ends after its current read (BLOCK 500 ms). A frozen Redis never answers that
        // read, and stopping would wait for ever: past a bound the reader's socket is dropped,
        // which fails the read and ends the loop.
        if (!(await settled(loop))) {
          await settled(() => reader.disconnect());
          await loop;
        }
        failing.delete(group);
        if (!(await settled(() => reader.quit()))) await settled(() => reader.disconnect());
        // What Redis cannot be told now, the reaper removes once this reader's lease has expired.
        if (ephemeral) await settled(() => publisher.xGroupDestroy(stream, group));
        leases.delete(lease);
        await settled(() => publisher.del(lease));
        stops.delete(stop);
      };
      stops.add(stop);
      return stop;
    },
    async close() {
      clearInterval(checker);
      clearInterval(trimmer);
      unreport();
      clearInterval(renewer);
      clearInterval(reaper);
      await Promise.all([...stops].map((stop) => stop()));
      await Promise.all(recovering);
      if (!(await settled(() => publisher.quit()))) await settled(() => publisher.disconnect());
    },
  };
}
