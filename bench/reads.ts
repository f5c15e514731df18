/**
 * `npm run bench:reads`: the storefront query (first page of 20 products with each variant's
 * price and stock in one store) through the gateway, on the embedded defaults (or the servers
 * DATABASE_URL / REDIS_URL name), with N concurrent connections. Prints latency percentiles.
 *
 * Options: --connections 50 --seconds 15 --warmup 3
 */
import { FREE_PORTS } from '../lib/subgraphs.js';
import { Agent, request } from 'node:http';
import v8 from 'node:v8';
import { seedDemo } from '../scripts/seed-demo.js';
import { startSystem } from '../scripts/system.js';
import { cleanUpBench } from './clean-up.js';
import { metrics } from '../lib/observability/metrics.js';
import { benchArgs } from './args.js';

const QUERY = `query Storefront($store: ID!) {
  products(first: 20) {
    edges { node { id title brand category { name }
      variants { sku title price(storeId: $store) { amount currencyCode } stock(storeId: $store) { available orderable } } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: { connections: { type: 'string', default: '50' }, seconds: { type: 'string', default: '15' }, warmup: { type: 'string', default: '3' } },
  });
  const connections = Number(values.connections);
  const system = await startSystem({ ports: FREE_PORTS, schemaSuffix: `_bench${process.pid}`, rateLimitPerMinute: { authenticated: 1e9, anonymous: 1e9 }, log: () => {} });
  try {
    const seeded = await seedDemo(system);
    const store = seeded.stores.find((s) => s.code === 'S1')!.id;
    const body = JSON.stringify({ query: QUERY, variables: { store } });
    const url = new URL(system.gatewayUrl);
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    let expected: string | undefined;
    let wrong = 0;

    const once = () =>
      new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const req = request(
          { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-tenant-id': 'demo' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => {
              expected ??= text;
              if (text !== expected || text.includes('"errors"')) wrong += 1;
              resolve(performance.now() - started);
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });

    const run = async (seconds: number): Promise<number[]> => {
      const latencies: number[] = [];
      const until = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (performance.now() < until) latencies.push(await once());
        }),
      );
      return latencies;
    };

    const single = await once();
    console.log(`first request: ${single.toFixed(1)} ms; answer ${expected!.length} bytes, ${JSON.parse(expected!).data.products.edges.length} products`);
    await run(Number(values.warmup));
    const subgraphCalls = async () => {
      const [sent, shared] = await Promise.all([metrics.subgraphFetchDuration.get(), metrics.subgraphFetchesShared.get()]);
      const count = (values: { metricName?: string; value: number }[], suffix = '') => values.filter((v) => !suffix || v.metricName?.endsWith(suffix)).reduce((sum, v) => sum + v.value, 0);
      return { sent: count(sent.values, '_count'), shared: count(shared.values) };
    };
    const callsBefore = await subgraphCalls();
    const cpuBefore = process.cpuUsage();
    let peakRss = process.memoryUsage.rss();
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
    const latencies = (await run(Number(values.seconds))).sort((a, b) => a - b);
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(rssTimer);
    const callsAfter = await subgraphCalls();
    const rps = latencies.length / Number(values.seconds);
    console.log(`bench:reads  connections=${connections}  duration=${values.seconds}s  requests=${latencies.length}  rps=${rps.toFixed(0)}`);
    console.log(
      `latency ms  p50=${percentile(latencies, 50).toFixed(1)}  p95=${percentile(latencies, 95).toFixed(1)}  p99=${percentile(latencies, 99).toFixed(1)}  max=${latencies.at(-1)!.toFixed(1)}`,
    );
    console.log(`process CPU per request (gateway + subgraphs + PGlite in one process): ${((cpu.user + cpu.system) / 1000 / latencies.length).toFixed(2)} ms`);
    console.log(`peak RSS under load: ${(peakRss / 1024 / 1024).toFixed(0)} MB (young generation: ${v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_size / 1024 / 1024} MB)`);
    console.log(
      `subgraph requests per request: ${((callsAfter.sent - callsBefore.sent) / latencies.length).toFixed(2)} sent, ${((callsAfter.shared - callsBefore.shared) / latencies.length).toFixed(2)} shared with a request in flight (${system.inProcessCalls ? 'in process' : 'over loopback HTTP'})`,
    );
    console.log(`wrong or failed answers: ${wrong}`);
    const debug = (await (await fetch(`${url.origin}/debug/subscriptions`)).json()) as { storefrontCache?: { hits: number; misses: number } };
    console.log(
      debug.storefrontCache
        ? `storefront cache: ${debug.storefrontCache.hits} hits, ${debug.storefrontCache.misses} misses (STOREFRONT_CACHE=off measures every read through the subgraphs)`
        : 'storefront cache: off',
    );
    agent.destroy();
  } finally {
    await system.stop();
    await cleanUpBench(`_bench${process.pid}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
