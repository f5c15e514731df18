import type { Identity } from './authenticator.js';

/** Why a credential stopped being valid while a socket or stream was open with it. */
export type CredentialEnd = 'revoked' | 'expired';

/** How long a revoked key id is remembered, for a watch that starts just after its event passed (60 s). */
const REMEMBER_REVOKED_MS = 60_000;
/** setTimeout's longest delay; a later `exp` is re-armed when this one fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Long-lived connections (graphql-ws sockets, server-sent event streams) authenticate once; this
 * ends them when their credential stops being valid: an API key's revocation event (every
 * gateway receives it on the bus) or a JWT's `exp` (a timer). Request-scoped checks are not
 * enough there, as the connection keeps receiving without asking again.
 */
export class CredentialWatch {
  private readonly byApiKey = new Map<string, Set<(why: CredentialEnd) => void>>();
  private readonly recentlyRevoked = new Map<string, number>();

  /**
   * Calls `end` once, when `identity`'s credential is revoked or expires (at once when it already
   * is). Returns the function that stops watching; anonymous and platform callers are not watched.
   */
  watch(identity: Identity | undefined, end: (why: CredentialEnd) => void): () => void {
    if (!identity) return () => undefined;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (why: CredentialEnd) => {
      if (ended) return;
      ended = true;
      unwatch();
      end(why);
    };
    const { apiKeyId, expiresAt } = identity;
    const listeners = apiKeyId ? (this.byApiKey.get(apiKeyId) ?? new Set()) : undefined;
    const unwatch = () => {
      if (timer) clearTimeout(timer);
      if (listeners) {
        listeners.delete(finish);
        if (listeners.size === 0 && this.byApiKey.get(apiKeyId!) === listeners) this.byApiKey.delete(apiKeyId!);
      }
    };
    if (apiKeyId && listeners) {
      if (this.isRecentlyRevoked(apiKeyId)) {
        queueMicrotask(() => finish('revoked'));
        return unwatch;
      }
      listeners.add(finish);
      this.byApiKey.set(apiKeyId, listeners);
    }
    if (expiresAt !== undefined) {
      // Never synchronously: the caller has not got its `unwatch` yet.
      const arm = () => {
        const left = expiresAt - Date.now();
        if (left <= 0 && timer) return finish('expired');
        timer = setTimeout(arm, Math.min(Math.max(left, 0), MAX_DELAY_MS));
        timer.unref();
      };
      arm();
    }
    return unwatch;
  }

  /** An API key's revocation event arrived: ends everything opened with it. */
  revoked(apiKeyId: string): void {
    const now = Date.now();
    this.recentlyRevoked.set(apiKeyId, now + REMEMBER_REVOKED_MS);
    for (const [id, until] of this.recentlyRevoked) if (until < now) this.recentlyRevoked.delete(id);
    const listeners = this.byApiKey.get(apiKeyId);
    this.byApiKey.delete(apiKeyId);
    for (const end of listeners ?? []) end('revoked');
  }

  private isRecentlyRevoked(apiKeyId: string): boolean {
    const until = this.recentlyRevoked.get(apiKeyId);
    return until !== undefined && until >= Date.now();
  }
}
