import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DataSource } from 'typeorm';
import type { EventBus } from '../events/event-bus.js';

export type Checks = Record<string, boolean>;

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);

/** A subgraph's dependencies: its database answers a query, its bus answers a ping (2 s each). */
export function dependencyChecks(deps: { dataSource: DataSource; bus: EventBus }): () => Promise<Checks> {
  return async () => {
    const [database, bus] = await Promise.all([
      within(deps.dataSource.query('SELECT 1'), 2_000).then(() => true, () => false),
      within(deps.bus.ping(), 2_000).then(() => true, () => false),
    ]);
    return { database, bus };
  };
}

/** Answers `GET /readyz` with each dependency by name: 200 when all are up, 503 otherwise. */
export function serveReadiness(req: IncomingMessage, res: ServerResponse, checks: () => Promise<Checks>): boolean {
  if (req.method !== 'GET' || req.url?.split('?')[0] !== '/readyz') return false;
  void checks().then((result) => {
    const ready = allTrue(result);
    res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ready ? 'ready' : 'unavailable', ...result }));
  });
  return true;
}

export const allTrue = (result: Record<string, unknown>) => Object.values(result).every((v) => v === true);
