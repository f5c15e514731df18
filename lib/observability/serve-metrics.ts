import type { IncomingMessage, ServerResponse } from 'node:http';
import { registry } from './metrics.js';

/** Answers `GET /metrics` (Prometheus text format); false for any other request. */
export function serveMetrics(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') return false;
  registry
    .metrics()
    .then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text))
    .catch((error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`# metrics failed: ${String(error)}\n`));
  return true;
}
