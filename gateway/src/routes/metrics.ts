import { registry } from '../../../lib/observability/metrics.js';
import { useRoute } from './route.js';

/** `GET /metrics` in the Prometheus text format (operator only). */
export function useMetricsRoute() {
  return useRoute(
    (path, request) => request.method === 'GET' && path === '/metrics',
    async () => {
      try {
        return new Response(await registry.metrics(), { status: 200, headers: { 'content-type': registry.contentType } });
      } catch (error) {
        return new Response(`# metrics failed: ${String(error)}\n`, { status: 500, headers: { 'content-type': 'text/plain' } });
      }
    },
  );
}
