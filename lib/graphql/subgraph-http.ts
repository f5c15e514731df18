import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveMetrics } from '../observability/serve-metrics.js';
import { serveReadiness, type Checks } from '../observability/readiness.js';
import { closeServer } from '../http/close-server.js';

/**
 * Connections the kernel queues for an HTTP server before it accepts them (capped by
 * net.core.somaxconn). Node's default, 511, is smaller than a POS fleet reconnecting at once: the
 * surplus were reset or retried a second later.
 */
export const LISTEN_BACKLOG = 4096;

/** The HTTP side every subgraph shares, whatever GraphQL server sits behind it. */
export interface SubgraphHttp {
  readonly server: Server;
  /** Listens on `port` (0: a free one) at `host`; resolves to the `/graphql` URL. */
  listen(port: number, host: string): Promise<string>;
  /** No new connections; requests in flight may finish (5 s at most), idle ones close now. */
  close(): Promise<void>;
}

/**
 * One node:http server for a subgraph: `GET /metrics` (Prometheus), `GET /readyz` (its
 * dependencies by name), keep-alive longer than the gateway's, and a draining stop. Everything
 * else goes to `handle` (graphql-yoga, or fastify for orders).
 */
export function subgraphHttp(handle: (req: IncomingMessage, res: ServerResponse) => void, readiness: () => Promise<Checks> = async () => ({})): SubgraphHttp {
  const server = createServer((req, res) => {
    if (serveMetrics(req, res)) return;
    if (serveReadiness(req, res, readiness)) return;
    handle(req, res);
  });
  server.keepAliveTimeout = 65_000;
  return {
    server,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
      });
      return `http://${host}:${(server.address() as AddressInfo).port}/graphql`;
    },
    async close() {
      if (server.listening) await closeServer(server);
    },
  };
}
