/** What back-pressure needs of a socket: how much it has buffered, and a way to send. */
export interface BufferedSocket {
  /** Bytes queued for the peer and not yet written to the network. */
  readonly bufferedAmount: number;
  send(message: string): void;
}

export interface DeliveryOptions {
  /** Bytes buffered above which updates wait and fold per key (default 1 MiB). */
  highWaterBytes?: number;
  /** Updates waiting above which the socket is a slow consumer (default 1000). */
  maxPendingUpdates?: number;
  /** Called once when too many updates wait; the caller closes the socket. */
  onSlowConsumer: () => void;
  /** How often waiting updates are retried while the buffer is full (default 20 ms). */
  retryMs?: number;
}

export interface Delivery {
  /** Sends now, or holds the newest update per (subscription id, key) while the peer is behind. */
  deliver(id: string, key: string, message: string): void;
  /** Updates waiting for the buffer to drain. */
  readonly waiting: number;
  /** Drops what waits and stops retrying (the socket closed). */
  dispose(): void;
}

/**
 * Per-socket back-pressure: while the socket's buffer is above the high-water mark, an update
 * waits, and a newer one for the same key of the same subscription replaces it (its
 * `previousVersion` kept, so the client can tell the fold from a loss). Too many waiting updates
 * make the socket a slow consumer.
 */
export function createDelivery(socket: BufferedSocket, options: DeliveryOptions): Delivery {
  const highWater = options.highWaterBytes ?? 1024 * 1024;
  const maxPending = options.maxPendingUpdates ?? 1000;
  const retryMs = options.retryMs ?? 20;
  const pending = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let slow = false;

  const flush = () => {
    timer = undefined;
    for (const [slot, message] of pending) {
      if (socket.bufferedAmount > highWater) break;
      pending.delete(slot);
      socket.send(message);
    }
    if (pending.size > 0) timer = setTimeout(flush, retryMs);
  };

  return {
    deliver(id, key, message) {
      if (slow) return;
      if (pending.size === 0 && socket.bufferedAmount <= highWater) {
        socket.send(message);
        return;
      }
      const slot = `${id}\n${key}`;
      const older = pending.get(slot);
      // The newest state goes to the back of the line, as the most recent change.
      pending.delete(slot);
      pending.set(slot, older === undefined ? message : foldInto(message, older));
      if (pending.size > maxPending) {
        slow = true;
        this.dispose();
        options.onSlowConsumer();
        return;
      }
      timer ??= setTimeout(flush, retryMs);
    },
    get waiting() {
      return pending.size;
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending.clear();
    },
  };
}

const PREVIOUS_VERSION_AT_END = /"previousVersion":(-?\d+|null)\}\}\}$/;

/** `newer` with the `previousVersion` of `older` (both end with the extensions the hub writes last). */
export function foldInto(newer: string, older: string): string {
  const previous = PREVIOUS_VERSION_AT_END.exec(older);
  if (!previous || !PREVIOUS_VERSION_AT_END.test(newer)) return newer;
  return newer.replace(PREVIOUS_VERSION_AT_END, `"previousVersion":${previous[1]}}}}`);
}
