/**
 * `npm run drill -- --runs 5`: the fault drills of test/e2e/fault-drills.test.ts, repeated. Starts a
 * redis-server of its own and the system as separate processes against DATABASE_URL (a real
 * PostgreSQL), runs each drill `--runs` times (default 1), each on a fresh tenant, and prints per
 * run and in total: acknowledged writes lost, applied twice, orders stuck, reservations leaked and
 * entries left pending (all must be 0). Exits non-zero when any is not.
 */
import { redisLossDrill, serviceCrashDrill, type DrillFigures, type DrillWorld } from '../test/support/drills/fault-drills.js';
import { startRedisProcess, startSystemProcesses } from '../test/support/drills/system-processes.js';

const COLUMNS = ['sent', 'acknowledged', 'lost', 'appliedTwice', 'stuck', 'leaked', 'pendingLeft'] as const;
const FAULTS = ['lost', 'appliedTwice', 'stuck', 'leaked', 'pendingLeft'] as const;

async function main(): Promise<void> {
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Number(process.argv[at + 1]) : 1;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL must name a real PostgreSQL: the services run as separate processes');

  const world = { databaseUrl } as DrillWorld;
  world.redis = await startRedisProcess();
  let failed = false;
  try {
    world.system = await startSystemProcesses({ databaseUrl, redisUrl: world.redis.url, env: { EVENT_CLAIM_IDLE_MS: '2000' } });
    const drills: [string, (world: DrillWorld) => Promise<DrillFigures>][] = [
      ['kill -9 orders + inventory', serviceCrashDrill],
      ['kill -9 Redis, back empty', redisLossDrill],
    ];
    const rows: string[][] = [];
    for (const [name, drill] of drills) {
      const total: Record<string, number> = Object.fromEntries(COLUMNS.map((c) => [c, 0]));
      for (let run = 1; run <= runs; run++) {
        const started = Date.now();
        const figures = await drill(world);
        const extra = Object.entries(figures as unknown as Record<string, unknown>).filter(([key]) => !(COLUMNS as readonly string[]).includes(key));
        rows.push([name, String(run), ...COLUMNS.map((c) => String(figures[c])), `${Math.round((Date.now() - started) / 1000)} s ${extra.map(([k, v]) => `${k}=${String(v)}`).join(' ')}`]);
        for (const c of COLUMNS) total[c]! += figures[c];
        if (FAULTS.some((c) => figures[c] !== 0) || extra.some(([k, v]) => (k === 'readyAfter' && v !== 200) || (k === 'readyWhileDown' && v !== 503) || v === false)) failed = true;
        console.error(`${name} run ${run}: ${JSON.stringify(figures)}`);
      }
      rows.push([name, 'total', ...COLUMNS.map((c) => String(total[c])), '']);
    }
    const header = ['drill', 'run', 'sent', 'acked', 'lost', 'applied twice', 'stuck', 'leaked', 'XPENDING left', 'notes'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  } catch (error) {
    failed = true;
    console.error(`drill failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await world.system?.stop(failed);
    await world.redis.stop();
  }
  if (failed) {
    console.error(`a drill went wrong; the services' logs are in ${world.system?.logDir}`);
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(`drill failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
