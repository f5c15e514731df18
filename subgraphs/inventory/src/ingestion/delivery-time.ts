import { appError, badInput } from '../../../../lib/errors.js';
import { webhookSource } from '../../../../lib/webhooks/registry.js';
import type { IngestionSource } from '../data/entities/ingestion-event.entity.js';

/** How old a delivery's source time may be (default 24 h; `WEBHOOK_MAX_AGE_HOURS`, 0 turns the window off). */
export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;
/** How far ahead of our clock a source time may be: a time in the future would hold the watermark above every real update. */
export const MAX_AHEAD_MS = 5 * 60_000;

/**
 * The source time of a delivery: when the change happened at its source, which watermarks
 * compare. The body's own time (Shopify's `updated_at`, the POS/ERP `occurred_at`) wins because
 * the signature covers it; else Shopify's `X-Shopify-Triggered-At` header, which every Shopify
 * delivery carries but which the signature does not cover.
 *
 * Refused (nothing is stored): a delivery with no time at all, a malformed header, a time more
 * than five minutes ahead, and a state (a level, a product) older than the window. Deltas are
 * exempt from the window: they are changes, not states, so a late one cannot roll anything back,
 * and a POS that was offline for a day must still count the sales it made.
 */
export function deliverySourceTime(
  input: { source: IngestionSource; topic: string; bodyTime: Date | null; triggeredAt?: string | null },
  options: { maxAgeMs: number; now?: number },
): Date {
  let header: Date | null = null;
  if (input.triggeredAt !== undefined && input.triggeredAt !== null) {
    header = new Date(input.triggeredAt);
    if (!/^\d{4}-\d\d-\d\dT/.test(input.triggeredAt) || Number.isNaN(header.getTime())) {
      throw badInput('X-Shopify-Triggered-At must be an ISO 8601 time', 'triggeredAt');
    }
  }
  const time = input.bodyTime ?? header;
  if (!time) throw badInput(`the delivery has no time: ${webhookSource(input.source).timeHint}`, 'body');
  const now = options.now ?? Date.now();
  if (time.getTime() > now + MAX_AHEAD_MS) {
    throw appError('WEBHOOK_OUT_OF_WINDOW', `the delivery's time ${time.toISOString()} is more than ${MAX_AHEAD_MS / 60_000} minutes ahead of ours`, { sourceTime: time.toISOString() });
  }
  const isDelta = input.topic === 'stock.delta';
  if (!isDelta && options.maxAgeMs > 0 && time.getTime() < now - options.maxAgeMs) {
    throw appError('WEBHOOK_OUT_OF_WINDOW', `the delivery's time ${time.toISOString()} is older than the ${formatWindow(options.maxAgeMs)} window; fetch the current state from the source instead`, {
      sourceTime: time.toISOString(),
    });
  }
  return time;
}

const formatWindow = (ms: number) => (ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 1000)} s`);
