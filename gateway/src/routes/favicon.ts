import { useRoute } from './route.js';

/** `GET /favicon.ico`: browsers ask for it on every GraphiQL visit; `204`, cacheable for a day, instead of a 404 in every log. */
export function useFavicon() {
  return useRoute(
    (path, request) => (request.method === 'GET' || request.method === 'HEAD') && path === '/favicon.ico',
    () => new Response(null, { status: 204, headers: { 'cache-control': 'public, max-age=86400' } }),
  );
}
