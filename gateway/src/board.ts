import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';

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

export function serveBoard(req: IncomingMessage, res: ServerResponse): boolean {
  const file = files[(req.url ?? '').split('?')[0]!.replace(/\/$/, '')];
  if (!file || req.method !== 'GET') return false;
  const path = (req.url ?? '').split('?')[0]!;
  let body = cache.get(path);
  if (!body) {
    try {
      body = readFileSync(file.path());
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('The board is not installed.\n');
      return true;
    }
    cache.set(path, body);
  }
  res
    .writeHead(200, {
      'content-type': file.type,
      'content-length': String(body.length),
      'cache-control': 'no-cache',
      'content-security-policy': "default-src 'self'; connect-src 'self' ws: wss:; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
      'x-content-type-options': 'nosniff',
    })
    .end(body);
  return true;
}
