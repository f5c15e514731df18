import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { usageOf } from '../../bench/args';

const root = join(__dirname, '../..');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const benches = Object.entries(scripts).filter(([name]) => name.startsWith('bench:'));

/** `npm run bench:x -- …`, as a reader of the README runs it. */
function runBench(name: string, args: string[]) {
  return spawnSync('npm', ['run', '-s', name, '--', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, FORCE_COLOR: '0' } });
}

describe('the benches’ command lines', () => {
  it.each(benches)('%s documents itself in its header and reads its options through benchArgs', (_name, command) => {
    const file = /bench\/[\w-]+\.ts/.exec(command)![0];
    const source = readFileSync(join(root, file), 'utf8');
    expect(source).toContain('benchArgs(');
    const usage = usageOf(join(root, file));
    // The usage names the command a reader types (bench:quote runs bench/pricing.ts, as bench:pricing).
    expect(usage).toMatch(/npm run bench:/);
    expect(usage).not.toMatch(/^\s*\*/m);
  });

  it('--help prints the usage and exits 0, without running the bench (the README’s example)', () => {
    const result = runBench('bench:gateway', ['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('`npm run bench:gateway [-- --duration');
    expect(result.stdout).toContain('The public federation benchmark design');
    // Nothing was started: no round's figures.
    expect(result.stdout).not.toMatch(/req\/s/);
  });

  it('an unknown option is a one-line error pointing at --help, exit 2, no stack trace', () => {
    const result = runBench('bench:quote', ['--reqests', '5']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Unknown option '--reqests'");
    expect(result.stderr).toContain('npm run bench:quote -- --help');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
