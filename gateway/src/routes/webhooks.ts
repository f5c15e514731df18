import { metrics } from '../../../lib/observability/metrics.js';
import { paymentSourceAt, webhookSourceAt } from '../../../lib/webhooks/registry.js';
import type { createWebhookReceiver } from '../webhooks/webhook-receiver.js';
import { webhookPath } from '../webhooks/webhook-receiver.js';
import { jsonResponse, useRoute } from './route.js';

/** `POST /webhooks/<source>/<tenant slug>`: merchant systems push here; each answer is counted and timed per source. */
export function useWebhooks(receive: ReturnType<typeof createWebhookReceiver>) {
  return useRoute(
    (path) => path.startsWith('/webhooks/') && webhookPath(path) !== null,
    async (request, _context, url) => {
      const { source, slug } = webhookPath(url.pathname)!;
      const started = performance.now();
      const answer = await receive(request, source, slug);
      const label = (webhookSourceAt(source) ?? paymentSourceAt(source))?.path ?? 'unknown';
      metrics.webhookAcks.inc({ source: label, status: String(answer.status) });
      metrics.webhookAckDuration.observe({ source: label }, (performance.now() - started) / 1000);
      return jsonResponse(answer.status, answer.body);
    },
  );
}
