import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import type { EventEnvelope } from './envelope.js';
import type { EventBus, SubscribeOptions } from './event-bus.js';

export interface RedisBusOptions {
  url: string;
  /** Stream key (default `commerce:events`); tests use their own. */
  stream?: string;
  /** Streams are capped to about this many entries (default 100000). */
  maxLength?: number;
  log?: (message: string) => void;
}

type RedisClient = ReturnType<typeof createClient>;
type StreamBatch = { name: string; messages: { id: string; message: Record<string, string> }[] };

/**
 * One Redis stream carries every event; each consumer group reads it with XREADGROUP and
 * acknowledges after its handler succeeded, so an event survives a consumer that was down.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const stream = options.stream ?? 'commerce:events';
  const log = options.log ?? console.error;
  const publisher: RedisClient = createClient({ url: options.url });
  publisher.on('error', (error) => log(`redis: ${String(error)}`));
  await publisher.connect();
  const stops = new Set<() => Promise<void>>();

  return {
    async ping() {
      await publisher.ping();
    },
    async publish(event) {
      await publisher.xAdd(stream, '*', { event: JSON.stringify(event) }, {
        TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: options.maxLength ?? 100_000 },
      });
    },
    async subscribe(group, handler, subscribeOptions: SubscribeOptions = {}) {
      try {
        // A durable group created late (a new service) catches up on the stream's history.
        await publisher.xGroupCreate(stream, group, subscribeOptions.ephemeral ? '$' : '0', { MKSTREAM: true });
      } catch (error) {
        if (!String(error).includes('BUSYGROUP')) throw error;
      }
      const reader: RedisClient = publisher.duplicate();
      reader.on('error', (error) => log(`redis: ${String(error)}`));
      await reader.connect();
      const consumer = `c-${randomUUID()}`;
      let running = true;
      const loop = (async () => {
        // First what this consumer left pending, then new entries.
        let cursor = '0';
        while (running) {
          try {
            const batches = (await reader.xReadGroup(group, consumer, { key: stream, id: cursor }, {
              COUNT: 100,
              BLOCK: 500,
            })) as StreamBatch[] | null;
            const messages = batches?.[0]?.messages ?? [];
            if (cursor === '0' && messages.length === 0) cursor = '>';
            for (const { id, message } of messages) {
              const raw = message.event;
              if (raw !== undefined) await handler(JSON.parse(raw) as EventEnvelope);
              await reader.xAck(stream, group, id);
            }
          } catch (error) {
            if (!running) break;
            log(`redis consumer ${group}: ${String(error)}`);
            cursor = '0';
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        }
      })();
      const stop = async () => {
        running = false;
        await loop;
        await reader.quit().catch(() => undefined);
        if (subscribeOptions.ephemeral) await publisher.xGroupDestroy(stream, group).catch(() => undefined);
        stops.delete(stop);
      };
      stops.add(stop);
      return stop;
    },
    async close() {
      await Promise.all([...stops].map((stop) => stop()));
      await publisher.quit().catch(() => undefined);
    },
  };
}
