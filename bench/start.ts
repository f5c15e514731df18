/**
 * `npm run bench:start [-- --runs 3] [--tsx] [--priority]`: how long `npm start` takes, as a user runs it
 * (`npm start` in a fresh process group, embedded defaults, PORT=0 so nothing fixed is taken):
 * wall time from spawning `npm start` until it prints its ready line, the CPU time of npm and
 * everything under it (user + system: on a shared machine the wall time moves with the load, the
 * CPU time much less), and the figures `npm start` prints.
 *
 * - first start: an empty data folder (schema and demo data), with the PGlite template of `.build/`
 *   (as after `npm install`) and, once, without it (`PGLITE_TEMPLATE=off`: initdb in place);
 * - later start: the same folder again.
 *
 * What `npm start` prints is its phases: loading the code (until the services' code is loaded,
 * PGlite opening meanwhile on its own thread), services (until the gateway answers), demo data
 * (first start), and the CPU time at ready of its main thread and of its other threads (PGlite's,
 * V8's compiler and GC helpers): the figures to compare on a shared machine.
 *
 * `--tsx` runs the entry through tsx instead of the bundle (`COMMERCE_LAUNCH=tsx`), for the
 * before/after comparison. Prints the load average: on a shared machine the figures move with it.
 *
 * `--priority` (Linux, as root): each `npm start` runs in a session of its own whose scheduling
 * group gets the highest weight (`/proc/<pid>/autogroup` = -20), so that the machine's other
 * sessions take the cores only when it leaves them: on a shared machine, the nearest thing to an
 * idle one (a plain `nice` does not reach across sessions). Says so when it cannot.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchArgs } from './args.js';

const root = join(__dirname, '..');

interface Run {
  wallMs: number;
  /** CPU seconds (user + system) of npm and everything it ran: what the start costs whatever the load. */
  cpuS: number;
  /** What `npm start` printed: `first start: ready in 4.2 s (loading the code …)`. */
  printed: string;
}

/** `npm start -- --exit` with its own data folder; resolves when it has printed its ready line and exited. */
function npmStart(dataDir: string, env: Record<string, string>, priority = false): Promise<Run> {
  const base = { ...process.env };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'TEST_EMBEDDED_POSTGRES']) delete base[name];
  const started = performance.now();
  // /usr/bin/time counts the CPU of npm and of every process under it.
  const child = spawn('/usr/bin/time', ['-f', 'cpu %U %S', 'npm', 'start', '--silent', '--', '--exit'], {
    cwd: root,
    env: { ...base, PGLITE_DATA_DIR: dataDir, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A session of its own: its own autogroup, whose weight --priority raises.
    detached: priority,
  });
  if (priority) favour(child.pid!);
  let output = '';
  let wallMs = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (!wallMs && /start: ready in/.test(output)) wallMs = performance.now() - started;
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const printed = /^.*start: ready in .*$/m.exec(output)?.[0];
      const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(output);
      if (code !== 0 || !printed || !cpu) reject(new Error(`npm start exited ${code}:\n${output}`));
      else resolve({ wallMs, cpuS: Number(cpu[1]) + Number(cpu[2]), printed });
    }),
  );
}

let favoured: boolean | undefined;
/** Gives the session of `pid` the scheduler's highest weight among sessions; says once if it cannot. */
function favour(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/autogroup`, '-20');
    favoured ??= true;
  } catch (error) {
    if (favoured === undefined) console.log(`--priority: not applied (${(error as Error).message}); the figures carry the machine's load`);
    favoured = false;
  }
}

async function main(): Promise<void> {
  const { values } = benchArgs({ options: { runs: { type: 'string', default: '3' }, tsx: { type: 'boolean', default: false }, priority: { type: 'boolean', default: false } } });
  const priority = values.priority;
  const runs = Number(values.runs);
  const env: Record<string, string> = values.tsx ? { COMMERCE_LAUNCH: 'tsx' } : {};
  const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
  const rows: [string, Run][] = [];
  const show = (name: string, run: Run) => {
    rows.push([name, run]);
    // The phases npm start printed, one column each: where a start's time went, at a glance.
    const phase = (label: string) => (new RegExp(`${label} ([\\d.]+ s)`).exec(run.printed)?.[1] ?? '-').padStart(7);
    console.log(
      `${name.padEnd(34)} ${(run.wallMs / 1000).toFixed(1).padStart(5)} s ${run.cpuS.toFixed(1).padStart(5)} s ${phase('ready in')} ${phase('loading the code')} ${phase('services')} ${phase('demo data')}   load ${loadavg()[0]!.toFixed(1)}`,
    );
  };
  console.log(`npm start (${values.tsx ? 'through tsx' : `bundle in .build/${process.env.COMMERCE_BUNDLE_PACKAGES === 'off' ? ', packages from node_modules' : ''}`}${priority ? ', each in a favoured session' : ''}), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${'run'.padEnd(34)} ${'wall'.padStart(7)} ${'CPU'.padStart(7)} ${'ready'.padStart(7)} ${'code'.padStart(7)} ${'services'.padStart(8)} ${'demo'.padStart(6)}   (ready, code, services, demo: as printed by npm start)`);
  try {
    // Unmeasured: builds the bundle (and the template) if a source changed since the last one.
    await npmStart(join(dir, 'warm-up'), env, priority);
    for (let i = 1; i <= runs; i++) show(`first start #${i}`, await npmStart(join(dir, `first-${i}`), env, priority));
    show('first start without the template', await npmStart(join(dir, 'no-template'), { ...env, PGLITE_TEMPLATE: 'off' }, priority));
    for (let i = 1; i <= runs; i++) show(`later start #${i}`, await npmStart(join(dir, 'first-1'), env, priority));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (prefix: string, of: (run: Run) => number) => {
    const values = rows.filter(([name]) => name.startsWith(prefix)).map(([, run]) => of(run)).sort((a, b) => a - b);
    return `${values[Math.floor(values.length / 2)]!.toFixed(1)} s`;
  };
  const wall = (run: Run) => run.wallMs / 1000;
  const cpu = (run: Run) => run.cpuS;
  console.log(
    `median: first start ${median('first start #', wall)} wall / ${median('first start #', cpu)} CPU, later start ${median('later start', wall)} wall / ${median('later start', cpu)} CPU` +
      ` (load average now ${loadavg()[0]!.toFixed(1)})`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
