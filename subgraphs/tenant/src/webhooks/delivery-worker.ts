import type { DataSource } from 'typeorm';
import { inSystemTransaction, qualified, updatedRows } from '../../../../lib/db/data-source.js';
import { pollingWorker } from '../../../../lib/jobs/polling-worker.js';
import { retryDelayMs, type OutboundWebhookOptions } from './config.js';
import { postJson, type AttemptResult } from '../../../../lib/outbound/post-json.js';
import { signWebhook } from './signing.js';
import { TargetRefused, targetGuard, type Lookup } from '../../../../lib/outbound/target-policy.js';

/** A claimed delivery with what sending it needs. */
interface Claimed {
  id: string;
  attempts: number;
  event_id: string;
  event_type: string;
  subscription_id: string;
  first_attempt_at: Date | null;
  url: string;
  secret: string;
  previous_secret: string | null;
  body: string;
}

/** The `webhook-id` of an event's deliveries: the same for every attempt and redelivery, so receivers dedupe. */
export const webhookId = (eventId: string) => `msg_${eventId}`;

/**
 * Sends due deliveries. A pass claims the oldest pending delivery of each (subscription,
 * resource) whose time has come with a lease (the attempt's timeout + 5 s: a process killed
 * mid-attempt leaves it to whoever runs next once the lease ends), sends them concurrently and
 * records each outcome. A later delivery about the same resource waits until the earlier one is
 * delivered or has failed for good, so each receiver sees a resource's events in order.
 */
export function createDeliveryWorker(deps: { dataSource: DataSource; options: OutboundWebhookOptions; log: (message: string) => void; lookup?: Lookup }) {
  const { dataSource, options } = deps;
  const guard = targetGuard(options.policy, deps.lookup);
  const deliveries = qualified(dataSource, 'webhook_delivery');
  const subscriptions = qualified(dataSource, 'webhook_subscription');
  const messages = qualified(dataSource, 'webhook_message');
  const leaseMs = options.timeoutMs + 5_000;

  const claim = (limit: number): Promise<Claimed[]> =>
    inSystemTransaction(dataSource, async (m) =>
      updatedRows<Claimed>(await m.query(
        `WITH heads AS (
           SELECT DISTINCT ON (subscription_id, resource_key) id, seq, next_attempt_at, lease_until
           FROM ${deliveries} WHERE status = 'PENDING'
           ORDER BY subscription_id, resource_key, seq
         ), due AS (
           SELECT h.id FROM heads h
           JOIN ${deliveries} d ON d.id = h.id
           JOIN ${subscriptions} s ON s.id = d.subscription_id AND s.status = 'ACTIVE'
           WHERE h.next_attempt_at <= now() AND (h.lease_until IS NULL OR h.lease_until < now())
           ORDER BY h.seq LIMIT $1
         )
         UPDATE ${deliveries} d SET lease_until = clock_timestamp() + $2::int * interval '1 millisecond'
         FROM ${subscriptions} s, ${messages} msg
         WHERE d.id IN (SELECT id FROM due) AND d.status = 'PENDING' AND (d.lease_until IS NULL OR d.lease_until < now())
           AND s.id = d.subscription_id AND msg.event_id = d.event_id
         RETURNING d.id, d.attempts, d.event_id, d.event_type, d.subscription_id, d.first_attempt_at, s.url, s.secret,
           CASE WHEN s.previous_secret_expires_at > now() THEN s.previous_secret END AS previous_secret, msg.body`,
        [limit, leaseMs],
      )),
    );

  const attempt = async (row: Claimed): Promise<void> => {
    const startedAt = new Date();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    const id = webhookId(row.event_id);
    const secrets = row.previous_secret ? [row.secret, row.previous_secret] : [row.secret];
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(secrets, id, timestamp, row.body) };
    let result: AttemptResult;
    try {
      // The URL and the name are checked again on every attempt: DNS may point elsewhere by now.
      const url = guard.checkUrl(row.url);
      const target = await guard.resolve(url);
      result = await postJson({ url, ...target, headers, body: row.body, timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes });
    } catch (error) {
      if (!(error instanceof TargetRefused)) throw error;
      result = { status: null, body: '', latencyMs: 0, error: `${error.code}: ${error.message}`, retryAfterSeconds: null };
    }
    await record(row, startedAt, headers, result);
  };

  const record = (row: Claimed, startedAt: Date, headers: Record<string, string>, result: AttemptResult) =>
    inSystemTransaction(dataSource, async (m) => {
      const ok = result.status !== null && result.status >= 200 && result.status < 300;
      const firstAttemptAt = row.first_attempt_at ?? startedAt;
      const outcome = result.error ?? `HTTP ${result.status}`;
      let status = ok ? 'DELIVERED' : 'PENDING';
      let failing: string | null = null;
      if (!ok && result.status === 410) failing = `the receiver answered 410 Gone to delivery ${row.id} (${row.event_type})`;
      else if (!ok && Date.now() - firstAttemptAt.getTime() >= options.retryWindowMs) {
        failing = `delivery ${row.id} (${row.event_type}) failed for ${Math.round((Date.now() - firstAttemptAt.getTime()) / 60_000)} min; last attempt: ${outcome}`;
      }
      if (failing) status = 'FAILED';
      const delay = Math.max(retryDelayMs(row.attempts + 1, options.retryBaseMs), (result.retryAfterSeconds ?? 0) * 1000);
      await m.query(
        `UPDATE ${deliveries} SET status = $2, attempts = attempts + 1, lease_until = NULL,
           first_attempt_at = coalesce(first_attempt_at, $3), last_attempt_at = $3,
           delivered_at = CASE WHEN $2 = 'DELIVERED' THEN now() END,
           next_attempt_at = CASE WHEN $2 = 'PENDING' THEN now() + $4::int * interval '1 millisecond' ELSE next_attempt_at END,
           request_headers = $5, response_status = $6, response_body = $7, latency_ms = $8, error = $9
         WHERE id = $1`,
        [row.id, status, startedAt, delay, JSON.stringify(headers), result.status, result.body, result.latencyMs, result.error],
      );
      if (failing) {
        await m.query(`UPDATE ${subscriptions} SET status = 'FAILING', failure_reason = $2, failing_since = now() WHERE id = $1`, [row.subscription_id, failing]);
        deps.log(`webhook subscription ${row.subscription_id} marked failing: ${failing}`);
      }
    });

  const worker = pollingWorker(
    async (isStopped) => {
      while (!isStopped()) {
        const batch = await claim(options.concurrency);
        if (batch.length === 0) return;
        await Promise.all(batch.map((row) => attempt(row).catch((error: unknown) => deps.log(`webhook delivery ${row.id}: ${String(error)}`))));
      }
    },
    { pollMs: options.pollMs, log: deps.log, name: 'webhook deliveries' },
  );
  return worker;
}
