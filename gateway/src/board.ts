import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { useRoute } from './routes/route.js';

/**
 * The live stock board at `/board`: plain HTML and a small script (gateway/static), with the
 * graphql-ws browser build. Same origin as the API, so the page needs no CORS and its key
 * never leaves it but to this gateway.
 */
const files: Record<string, { type: string; path: () => string }> = {
  '/board': { type: 'text/html; charset=utf-8', path: () => join(__dirname, '..', 'static', 'board.html') },
  '/board/board.js': { type: 'text/javascript; charset=utf-8', path: () => join(__dirname, '..', 'static', 'board.js') },
  '/board/graphql-ws.js': { type: 'text/javascript; charset=utf-8', path: () => join(dirname(require.resolve('graphql-ws')), '..', 'umd', 'graphql-ws.min.js') },
};
const cache = new Map<string, Buffer>();

/** `GET /board` and its two scripts. */
export function useBoard() {
  return useRoute(
    (path, request) => request.method === 'GET' && files[path.replace(/\/$/, '')] !== undefined,
    (_request, _context, url) => {
      const path = url.pathname.replace(/\/$/, '');
      const file = files[path]!;
      let body = cache.get(path);
      if (!body) {
        try {
          body = readFileSync(file.path());
        } catch {
          return new Response('The board is not installed.\n', { status: 500, headers: { 'content-type': 'text/plain' } });
        }
        cache.set(path, body);
      }
      return new Response(new Uint8Array(body), {
        status: 200,
        headers: {
          'content-type': file.type,
          'content-length': String(body.length),
          'cache-control': 'no-cache',
          'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
          'x-content-type-options': 'nosniff',
        },
      });
    },
  );
}
