import { jsonResponse, useRoute } from './route.js';

/** `GET /debug/subscriptions`: live subscription groups, sockets, memory and the storefront cache (operator only). */
export function useDebug(stats: () => Record<string, unknown>) {
  return useRoute(
    (path) => path === '/debug/subscriptions',
    () => jsonResponse(200, { ...stats(), rssBytes: process.memoryUsage().rss }),
  );
}
