/**
 * `npm run bench:embedded-loop`: what one heavy query on the embedded database does to the event
 * loop of the process that started it, side by side: PGlite in its worker thread (as the system
 * runs it) and PGlite on the main thread (as it ran before). While `--queries` heavy aggregates
 * run, a 10 ms timer measures event-loop delay; prints its p50/p99/max and the queries' time.
 *
 * Options: --rows 2000000 --queries 3
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { startEmbeddedPostgres } from '../lib/db/embedded-postgres.js';
import { benchArgs } from './args.js';

async function measure(url: string, rows: number, queries: number) {
  const client = new pg.Client(url);
  await client.connect();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const started = performance.now();
  for (let i = 0; i < queries; i++) await client.query('SELECT count(*) FROM generate_series(1, $1::int)', [rows]);
  const elapsed = performance.now() - started;
  delay.disable();
  await client.end();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  return { queriesMs: elapsed.toFixed(0), loopDelayP50: ms(delay.percentile(50)), loopDelayP99: ms(delay.percentile(99)), loopDelayMax: ms(delay.max) };
}

async function main(): Promise<void> {
  const { values } = benchArgs({ options: { rows: { type: 'string', default: '2000000' }, queries: { type: 'string', default: '3' } } });
  const rows = Number(values.rows);
  const queries = Number(values.queries);
  const results: Record<string, unknown>[] = [];
  const worker = await startEmbeddedPostgres();
  results.push({ pglite: 'worker thread (now)', ...(await measure(worker.url, rows, queries)) });
  await worker.stop();
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0 });
  await server.start();
  results.push({ pglite: 'main thread (before)', ...(await measure(`postgres://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`, rows, queries)) });
  await server.stop();
  await db.close();
  console.table(results);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
