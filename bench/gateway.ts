/**
 * `npm run bench:gateway [-- --duration 15 --warmup 3 --rounds 2 --connections 50,1 --only ours-own,ours-apollo,apollo,hive-rust,hive] [--baseline DIR] [--cpu-prof DIR]`
 *
 * The public federation benchmark design (The Guild's graphql-gateways-benchmark), reproduced
 * here: four subgraphs (bench/gateway/subgraphs.ts) on loopback, its deep query (~88 KB answer),
 * and three gateways over the same supergraph, each in its own process, measured in turn
 * (A B C A B C …) under the same load from `wrk` (Debian package `wrk`), at each connection count
 * of `--connections` in turn (default 50, then 1: one request at a time, where no two requests
 * can share a subgraph fetch):
 *   ours-own     `npm run gateway -- --supergraph … --port …` (tenant features off), GATEWAY_EXECUTOR=own
 *   ours-apollo  the same with GATEWAY_EXECUTOR=apollo (Apollo's executeQueryPlan runs the plans)
 *   apollo  plain `@apollo/gateway` + `@apollo/server` (bench/gateway/apollo-server.ts)
 *   hive-rust  Hive Gateway with `--hive-router-runtime`: Hive's Rust query planner and its
 *           executor (`@graphql-hive/router-runtime`, a devDependency). Hive falls back to its JS
 *           planner with only a warning when the package cannot be loaded: the bench stops then.
 *   hive    Hive Gateway (`@graphql-hive/gateway`) with `--jit`
 * Every response is compared with the expected answer (a fast wrong answer is not a result): the
 * first answer of each gateway must equal plain Apollo Gateway's, and during the load wrk counts
 * every response whose status or body differs. Prints, per gateway, RPS (min/median/max over
 * rounds), p50/p99 latency, CPU ms per request of the gateway process, subgraph requests per
 * client request, the gateway process's resident memory under load (peak of /proc/PID/status VmRSS
 * sampled every 100 ms during the measured run) and RPS against plain Apollo Gateway round by round.
 * `--cpu-prof DIR`: every gateway runs under `node --cpu-prof` (profiles written to DIR/<gateway>/
 * when the bench ends) and the bench prints each one's functions with the most self time. The
 * profiler costs CPU: take speed figures from a run without it.
 * `--baseline DIR`: also measures `npm run gateway` of another checkout (e.g. a `git worktree` of
 * the commit before a change, with its node_modules), in the same rounds: before and after side by
 * side under the same load, which a busy machine makes the only fair comparison.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { BENCH_QUERY, BENCH_SUBGRAPHS, startBenchSubgraphs } from './gateway/subgraphs.js';
import { benchArgs } from './args.js';

const root = join(__dirname, '..');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Resident memory of a process, in MB (from /proc). */
function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * The functions with the most self time in a V8 .cpuprofile (Chrome DevTools format), in share
 * of the busy (not idle) samples taken from `since` on (µs of the monotonic clock V8 uses too,
 * so start-up is left out).
 */
function topFunctions(file: string, count: number, since: number): string[] {
  interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (time < since || functionName === '(idle)') return;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(`file://${root}/`, '')}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    total += delta;
  });
  if (total === 0) return ['(no busy samples under load)'];
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}

/** User + system CPU time of a process, in ms (from /proc; 100 ticks a second). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const WRK_SCRIPT = `
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args)
  local f = io.open(args[1], "rb"); wrk.body = f:read("*a"); f:close()
  f = io.open(args[2], "rb"); expected = f:read("*a"); f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  bad = 0
end
response = function(status, headers, body)
  if status ~= 200 or body ~= expected then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do wrong = wrong + (thread:get("bad") or 0) end
  io.write(string.format("RESULT requests=%d errors=%d p50=%.3f p99=%.3f bad=%d\\n", summary.requests,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, wrong))
end
`;

interface Gateway {
  name: string;
  label: string;
  url: string;
  process: ChildProcess;
  /** The exact body it answered the query with (checked against the expected answer). */
  expectedFile: string;
}

async function main(): Promise<void> {
  const { values } = benchArgs({
    options: {
      duration: { type: 'string', default: '15' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50,1' },
      only: { type: 'string', default: 'ours-own,ours-apollo,apollo,hive-rust,hive' },
      baseline: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  if (spawnSync('wrk', ['--version']).error) {
    console.error('bench:gateway needs wrk (Debian: apt-get install wrk)');
    process.exit(2);
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
  const subgraphs = await startBenchSubgraphs();
  const composed = composeServices(
    Object.entries(BENCH_SUBGRAPHS).map(([name, { typeDefs }]) => ({ name, url: subgraphs.urls[name]!, typeDefs: parse(typeDefs) })),
  );
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join('; ')}`);
  const supergraphFile = join(dir, 'supergraph.graphql');
  writeFileSync(supergraphFile, composed.supergraphSdl);
  const requestFile = join(dir, 'request.json');
  writeFileSync(requestFile, JSON.stringify({ query: BENCH_QUERY, operationName: 'TestQuery' }));
  writeFileSync(join(dir, 'check.lua'), WRK_SCRIPT);

  const hiveBin = () => realpathSync(join(root, 'node_modules/.bin/hive-gateway'));
  // Ours and plain Apollo run as `npm run gateway` does: compiled once into a bundle (scripts/launch.cjs), not through tsx, whose loader holds ~50 MB.
  const launch = join(root, 'scripts/launch.cjs');
  // With the Node flags of `npm run gateway` in that checkout's package.json (the V8 heap's growing
  // factor, docs/decisions/0054), so that what is measured is what that checkout runs.
  const gatewayFlags = (checkout: string) => {
    const script = (JSON.parse(readFileSync(join(checkout, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.gateway ?? '';
    const flags = /^node((?:\s+--[\w-]+(?:=\S+)?)*)\s+scripts\/launch\.cjs\s/.exec(script);
    if (!flags) throw new Error(`${checkout}/package.json: the gateway script is not \`node [--flags] scripts/launch.cjs …\` (${script})`);
    return flags[1]!.trim().split(/\s+/).filter(Boolean);
  };
  const candidates: Record<string, { label: string; args: (port: number) => string[]; cwd?: string; env?: Record<string, string> }> = {
    ...(values.baseline
      ? { baseline: { label: 'baseline checkout', cwd: values.baseline, args: (port: number) => [...gatewayFlags(values.baseline!), join(values.baseline!, 'scripts/launch.cjs'), join(values.baseline!, 'gateway/src/cli.ts'), '--supergraph', supergraphFile, '--port', String(port)] } }
      : {}),
    'ours-own': { label: 'ours, own executor', env: { GATEWAY_EXECUTOR: 'own' }, args: (port) => [...gatewayFlags(root), launch, join(root, 'gateway/src/cli.ts'), '--supergraph', supergraphFile, '--port', String(port)] },
    'ours-apollo': { label: "ours, Apollo's executor", env: { GATEWAY_EXECUTOR: 'apollo' }, args: (port) => [...gatewayFlags(root), launch, join(root, 'gateway/src/cli.ts'), '--supergraph', supergraphFile, '--port', String(port)] },
    apollo: { label: 'plain Apollo Gateway', args: (port) => [launch, join(root, 'bench/gateway/apollo-server.ts'), supergraphFile, String(port)] },
    'hive-rust': {
      label: 'Hive Gateway Rust runtime',
      args: (port) => [hiveBin(), 'supergraph', supergraphFile, '--port', String(port), '--host', '127.0.0.1', '--hive-router-runtime', '--disable-websockets'],
    },
    hive: {
      label: 'Hive Gateway --jit',
      args: (port) => [hiveBin(), 'supergraph', supergraphFile, '--port', String(port), '--host', '127.0.0.1', '--jit', '--disable-websockets'],
    },
  };
  const chosen = [...(values.baseline ? ['baseline'] : []), ...values.only.split(',').filter((name) => candidates[name])];
  const profileDir = values['cpu-prof'];
  // Under --cpu-prof a gateway must exit through process.exit for V8 to write its profile.
  const exitOnSignal = join(dir, 'exit-on-sigusr2.cjs');
  writeFileSync(exitOnSignal, "process.on('SIGUSR2', () => process.exit(0));\n");
  const gateways: Gateway[] = [];
  let loadStarted = 0;
  try {
    for (const name of chosen) {
      const port = await freePort();
      const profiling = profileDir ? ['--cpu-prof', '--cpu-prof-dir', join(profileDir, name), '--require', exitOnSignal] : [];
      const child = spawn(process.execPath, [...profiling, ...candidates[name]!.args(port)], {
        cwd: candidates[name]!.cwd ?? root,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_ENV: 'production', ...candidates[name]!.env },
      });
      // Hive's own log is read (which runtime it took); everything else is passed on as before.
      let log = '';
      child.stdout!.on('data', (chunk: Buffer) => void (log += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        process.stderr.write(chunk);
      });
      const url = `http://127.0.0.1:${port}/graphql`;
      for (let waited = 0; ; waited += 200) {
        if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
        const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' })
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) break;
        if (waited > 180_000) throw new Error(`${name} did not start`);
        await sleep(200);
      }
      if (name === 'hive-rust' && (!/Using Hive Router Runtime/.test(log) || /Falling back to the default runtime/.test(log))) {
        throw new Error(`Hive Gateway did not take its Rust query planner runtime (it fell back to its JS planner); its log:\n${log}`);
      }
      gateways.push({ name, label: candidates[name]!.label, url, process: child, expectedFile: join(dir, `expected-${name}.json`) });
    }

    // Correctness first: every gateway's answer equals the reference (plain Apollo Gateway's).
    const answers = new Map<string, string>();
    for (const gateway of gateways) {
      const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: readFileSync(requestFile) });
      answers.set(gateway.name, await response.text());
      writeFileSync(gateway.expectedFile, answers.get(gateway.name)!);
    }
    const reference = JSON.parse(answers.get('apollo') ?? answers.values().next().value!) as { data?: unknown; errors?: unknown };
    if (reference.errors || !reference.data) throw new Error(`the reference answer has errors: ${JSON.stringify(reference.errors)}`);
    for (const gateway of gateways) {
      const answer = JSON.parse(answers.get(gateway.name)!);
      if (!isDeepStrictEqual(answer, reference)) throw new Error(`${gateway.label} answers differently from plain Apollo Gateway`);
    }
    console.log(
      `bench:gateway  query ${Math.round(Buffer.byteLength(answers.values().next().value!) / 1024)} KB answer, every gateway's answer equals plain Apollo Gateway's; ` +
        `${values.connections} connections (in turn), ${values.warmup} s warm-up + ${values.duration} s per run, ${values.rounds} rounds`,
    );

    /** wrk against one gateway for `seconds`, checking every response body; resolves to wrk's output. */
    const wrk = (gateway: Gateway, seconds: string, connections: number) =>
      new Promise<string>((resolve) => {
        const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(dir, 'check.lua'), gateway.url, '--', requestFile, gateway.expectedFile]);
        let text = '';
        child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.on('close', () => resolve(text));
      });
    const subgraphTotal = () => Object.values(subgraphs.counters).reduce((sum, c) => sum + c.requests, 0);
    const quiet = async () => {
      for (let waited = 0, last = subgraphTotal(); waited < 15_000; waited += 300) {
        await sleep(300);
        const now = subgraphTotal();
        if (now === last) return;
        last = now;
      }
    };
    loadStarted = Number(process.hrtime.bigint() / 1000n);
    for (const connections of values.connections.split(',').map(Number)) {
      const results = new Map<string, { rps: number; p50: number; p99: number; cpuPerRequest: number; subgraphPerRequest: number; rss: number; bad: number }[]>();
      for (let round = 1; round <= Number(values.rounds); round++) {
        for (const gateway of gateways) {
          // The gateway before may still be answering requests wrk gave up on: its subgraph
          // requests and its CPU would count for this one. Wait until the subgraphs are idle.
          await quiet();
          await wrk(gateway, values.warmup, connections);
          const subgraphBefore = Object.values(subgraphs.counters).reduce((sum, c) => sum + c.requests, 0);
          const cpuBefore = cpuMs(gateway.process.pid!);
          let rss = 0;
          const sampler = setInterval(() => (rss = Math.max(rss, rssMb(gateway.process.pid!))), 100);
          const output = await wrk(gateway, values.duration, connections);
          clearInterval(sampler);
          const cpu = cpuMs(gateway.process.pid!) - cpuBefore;
          const subgraphRequests = Object.values(subgraphs.counters).reduce((sum, c) => sum + c.requests, 0) - subgraphBefore;
          const match = /RESULT requests=(\d+) errors=(\d+) p50=([\d.]+) p99=([\d.]+)/.exec(output);
          const bad = /bad=(\d+)/.exec(output);
          if (!match) throw new Error(`wrk output not understood:\n${output}`);
          const requests = Number(match[1]);
          // No answer in the whole run (an overloaded machine): the round shows 0 req/s, no per-request figures.
          const per = (total: number) => (requests > 0 ? total / requests : NaN);
          const seconds = Number(/requests in ([\d.]+)(m?s)/.exec(output)?.[1] ?? values.duration);
          const entry = {
            rps: requests / seconds,
            p50: Number(match[3]),
            p99: Number(match[4]),
            cpuPerRequest: per(cpu),
            subgraphPerRequest: per(subgraphRequests),
            rss,
            bad: Number(match[2]) + Number(bad?.[1] ?? 0),
          };
          results.set(gateway.name, [...(results.get(gateway.name) ?? []), entry]);
          console.log(
            `  ${String(connections).padStart(2)} conn  round ${round}  ${gateway.label.padEnd(24)} ${entry.rps.toFixed(0).padStart(6)} req/s  p50 ${entry.p50.toFixed(1)} ms  p99 ${entry.p99.toFixed(1)} ms  ` +
              `${entry.cpuPerRequest.toFixed(2)} CPU ms/req  ${entry.subgraphPerRequest.toFixed(1)} subgraph req/req  RSS ${entry.rss.toFixed(0)} MB  wrong or failed: ${entry.bad}  load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
          );
        }
      }

      console.log(
        `\n ${connections} connection${connections === 1 ? '' : 's'} (load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')})\n` +
          ` gateway                   RPS min / median / max   p50 ms  p99 ms  CPU ms/req  subgraph req/req  RSS MB  wrong  vs plain Apollo (per round)`,
      );
      const apollo = results.get('apollo');
      for (const gateway of gateways) {
        const rows = results.get(gateway.name)!;
        const rps = rows.map((r) => r.rps);
        const ratios = apollo ? rows.map((r, i) => (apollo[i]!.rps > 0 ? (r.rps / apollo[i]!.rps).toFixed(2) : 'n/a')).join(' ') : 'n/a';
        console.log(
          ` ${gateway.label.padEnd(24)} ${Math.min(...rps).toFixed(0).padStart(6)} / ${median(rps).toFixed(0).padStart(6)} / ${Math.max(...rps).toFixed(0).padStart(6)}  ` +
            `${median(rows.map((r) => r.p50)).toFixed(1).padStart(6)}  ${median(rows.map((r) => r.p99)).toFixed(1).padStart(6)}  ${median(rows.map((r) => r.cpuPerRequest)).toFixed(2).padStart(10)}  ` +
            `${median(rows.map((r) => r.subgraphPerRequest)).toFixed(1).padStart(16)}  ${median(rows.map((r) => r.rss)).toFixed(0).padStart(6)}  ${String(rows.reduce((s, r) => s + r.bad, 0)).padStart(5)}  ${ratios}`,
        );
      }
    }
  } finally {
    // Gateways first (and wait for them), so none reports the subgraphs going away.
    await Promise.all(
      gateways.map((gateway) => new Promise<void>((resolve) => {
        if (gateway.process.exitCode !== null) return resolve();
        gateway.process.once('exit', () => resolve());
        gateway.process.kill(profileDir ? 'SIGUSR2' : 'SIGKILL');
      })),
    );
    await subgraphs.stop();
    if (profileDir && loadStarted) {
      for (const gateway of gateways) {
        const files = readdirSync(join(profileDir, gateway.name)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(profileDir, gateway.name, f));
        for (const file of files) console.log(`\n ${gateway.label}: ${file} (self time, share of busy samples under load)\n${topFunctions(file, 30, loadStarted).map((line) => `   ${line}`).join('\n')}`);
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
