import { readInt, type Env } from '../../../../lib/env.js';
import { readTargetPolicy, type TargetPolicy } from '../../../../lib/outbound/target-policy.js';

/** How outbound webhooks are sent; every field has its default in `DEFAULT_OUTBOUND_WEBHOOKS`. */
export interface OutboundWebhookOptions {
  policy: TargetPolicy;
  /** WEBHOOK_TIMEOUT_MS: one attempt, connect to last byte (default 10000). */
  timeoutMs: number;
  /** WEBHOOK_RETRY_WINDOW_SECONDS: a delivery is retried this long after its first attempt, then its subscription is marked failing (default 86400: 24 h). */
  retryWindowMs: number;
  /** WEBHOOK_RETRY_BASE_MS: the first retry's delay, doubled each time, up to 2 h, with jitter (default 5000). */
  retryBaseMs: number;
  /** How often the worker looks for due deliveries besides being nudged (default 1000). */
  pollMs: number;
  /** Deliveries sent at once by one process (default 16). */
  concurrency: number;
  /** Bytes of a response body read, and kept (default 4096). */
  maxResponseBytes: number;
}

export const DEFAULT_OUTBOUND_WEBHOOKS: OutboundWebhookOptions = Object.freeze({
  policy: { requireHttps: false, allowedCidrs: [] },
  timeoutMs: 10_000,
  retryWindowMs: 86_400_000,
  retryBaseMs: 5_000,
  pollMs: 1_000,
  concurrency: 16,
  maxResponseBytes: 4_096,
});

/** The retry delay cap: after a few doublings retries come every 2 h (with jitter) until the window ends. */
export const MAX_RETRY_DELAY_MS = 2 * 3_600_000;

/** Reads WEBHOOK_* (outbound) from the environment; HTTPS is required when NODE_ENV=production. */
export function readOutboundWebhookOptions(env: Env = process.env): OutboundWebhookOptions {
  return Object.freeze({
    ...DEFAULT_OUTBOUND_WEBHOOKS,
    policy: readTargetPolicy(env),
    timeoutMs: readInt(env, 'WEBHOOK_TIMEOUT_MS', DEFAULT_OUTBOUND_WEBHOOKS.timeoutMs),
    retryWindowMs: readInt(env, 'WEBHOOK_RETRY_WINDOW_SECONDS', DEFAULT_OUTBOUND_WEBHOOKS.retryWindowMs / 1000) * 1000,
    retryBaseMs: readInt(env, 'WEBHOOK_RETRY_BASE_MS', DEFAULT_OUTBOUND_WEBHOOKS.retryBaseMs),
  });
}

/** The delay before retry number `attempt` (1 = after the first failure): exponential, capped, "equal jitter" (half fixed, half random). */
export function retryDelayMs(attempt: number, baseMs: number, random = Math.random): number {
  const exponential = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
