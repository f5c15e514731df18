import type { Server } from 'node:http';

/**
 * Stops an HTTP server the same way everywhere (gateway and subgraphs): no new connections,
 * idle keep-alive connections close now, requests in flight may finish within `graceMs`
 * (default 5 s), after which the rest are cut.
 */
export async function closeServer(server: Server, graceMs = 5_000): Promise<void> {
  const closing = new Promise<void>((resolve) => server.close(() => resolve()));
  const idle = setInterval(() => server.closeIdleConnections(), 25);
  server.closeIdleConnections();
  const drained = await Promise.race([closing.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref())]);
  clearInterval(idle);
  if (!drained) server.closeAllConnections();
  await closing;
}
