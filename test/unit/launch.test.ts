import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deserialize } from 'node:v8';

const root = join(__dirname, '..', '..');

/**
 * scripts/launch.cjs, which runs npm start and the services from a bundle in .build/: each module
 * keeps its own __dirname, an edited source is picked up at the next launch, and a source that
 * does not build runs through tsx instead (which then says what is wrong).
 */
describe('the launcher', () => {
  // Inside the repository (the launcher bundles the project's sources), in the ignored .build/.
  const dir = join(root, '.build', `launch-test-${process.pid}`);
  const launch = (entry: string, env: Record<string, string> = {}) =>
    execFileSync(process.execPath, [join(root, 'scripts', 'launch.cjs'), entry, 'an-argument'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' });

  beforeAll(() => {
    mkdirSync(join(dir, 'nested'), { recursive: true });
    writeFileSync(join(dir, 'nested', 'where.ts'), "export const where = (): string => __dirname;\n");
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    // The bundles of these entries: `.build/.build--launch-test-<pid>--entry.cjs` and the files beside it.
    for (const name of readdirSync(join(root, '.build'))) if (name.startsWith(`.build--launch-test-${process.pid}--`)) rmSync(join(root, '.build', name), { force: true });
  });

  it('runs the entry with its arguments, each module seeing its own folder as __dirname, and rebuilds after an edit', () => {
    const entry = join(dir, 'entry.ts');
    const write = (word: string) => {
      writeFileSync(entry, `import { where } from './nested/where.js';\nconsole.log(JSON.stringify({ word: '${word}', own: __dirname, nested: where(), argv: process.argv.slice(2) }));\n`);
      // Newer than any bundle made within the same second.
      const later = new Date(Date.now() + 2_000);
      utimesSync(entry, later, later);
    };
    write('first');
    expect(JSON.parse(launch(entry))).toEqual({ word: 'first', own: dir, nested: join(dir, 'nested'), argv: ['an-argument'] });
    write('second');
    expect(JSON.parse(launch(entry)).word).toBe('second');
    expect(JSON.parse(launch(entry, { COMMERCE_LAUNCH: 'tsx' }))).toEqual({ word: 'second', own: dir, nested: join(dir, 'nested'), argv: ['an-argument'] });
  });

  it('builds a stale bundle in a process of its own: the process that runs the entry never loads esbuild', () => {
    const entry = join(dir, 'apart.ts');
    writeFileSync(entry, "console.log(JSON.stringify({ esbuild: Object.keys(require.cache).filter((file) => file.includes('esbuild')) }));\n");
    const later = new Date(Date.now() + 2_000);
    utimesSync(entry, later, later);
    // The bundle is built by this launch (none yet): esbuild ran, but not in the process that ran the entry.
    expect(JSON.parse(launch(entry))).toEqual({ esbuild: [] });
    expect(readdirSync(join(root, '.build'))).toContain(`.build--launch-test-${process.pid}--apart.cjs`);
  });

  it('bundles packages too, each module keeping its own __dirname and __filename, and runs the dynamic imports left in the bundle', () => {
    const pkg = join(dir, 'node_modules', 'own-folder');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'own-folder', main: 'index.js' }));
    writeFileSync(join(pkg, 'index.js'), 'module.exports = { folder: __dirname, file: __filename };\n');
    const entry = join(dir, 'packaged.ts');
    writeFileSync(
      entry,
      [
        "import { folder, file } from 'own-folder';",
        'void (async () => {',
        "  const os = await import('node:os');",
        "  const loaded = Object.keys(require.cache).some((name) => name.includes('own-folder'));",
        '  console.log(JSON.stringify({ folder, file, loaded, os: typeof os.cpus }));',
        '})();',
      ].join('\n'),
    );
    expect(JSON.parse(launch(entry).trim())).toEqual({ folder: pkg, file: join(pkg, 'index.js'), loaded: false, os: 'function' });
    // Not required from node_modules: the bundle holds the package, and its import( calls the launcher's.
    const bundle = readFileSync(join(root, '.build', `.build--launch-test-${process.pid}--packaged.cjs`), 'utf8');
    expect(bundle).toMatch(/exports = \{ folder: __dirname, file: __filename \}/);
    expect(bundle).toContain('__dyn_("node:os")');
  });

  it('writes the bundle in ASCII only (comments, strings, regular expressions and patterns built with String.raw meaning the same), and keeps its compile cache across launches', () => {
    const entry = join(dir, 'unicode.ts');
    writeFileSync(
      entry,
      [
        '// A comment with a curly quote ’, a section sign § and an emoji 😀 (a two-byte source otherwise).',
        '/**',
        ' * A block comment ’.',
        ' */',
        "const word = 'café ’ 😀';",
        "const pattern = new RegExp(String.raw`^[x×*]\\d+[À-Ö]$`, 'u');",
        'console.log(JSON.stringify({ word, length: word.length, matches: /é’\\é/.test("xé’éy"), ranged: /^[À-Ö]+$/u.test("ÀÉÖ"), pattern: pattern.test("×12É"), emoji: /^😀$/u.test("😀") }));',
      ].join('\n'),
    );
    const expected = { word: 'café ’ 😀', length: 9, matches: true, ranged: true, pattern: true, emoji: true };
    expect(JSON.parse(launch(entry).trim())).toEqual(expected);
    const bundle = readFileSync(join(root, '.build', `.build--launch-test-${process.pid}--unicode.cjs`), 'utf8');
    expect(bundle).not.toMatch(/[^\t\n\r\x20-\x7e]/);
    // The second launch takes V8's cached data from the file the first wrote, and lets go of it; the file keeps it.
    const cacheFile = join(root, '.build', `.build--launch-test-${process.pid}--unicode.cjs.v8cache`);
    const cached = () => (deserialize(readFileSync(cacheFile)) as Map<string, { stamp: string; data: Uint8Array }>).get(join(root, '.build', `.build--launch-test-${process.pid}--unicode.cjs`));
    const first = cached();
    expect(first?.data.length).toBeGreaterThan(0);
    expect(JSON.parse(launch(entry).trim())).toEqual(expected);
    expect(cached()?.stamp).toBe(first?.stamp);
    expect(Buffer.from(cached()!.data).equals(Buffer.from(first!.data))).toBe(true);
  });

  it("loads redis and @apollo/gateway's telemetry packages on first use, not at require; Apollo's telemetry off unless asked for", () => {
    const entry = join(dir, 'lazy.ts');
    writeFileSync(
      entry,
      [
        "import { createClient } from 'redis';",
        "import { ApolloGateway } from '@apollo/gateway';",
        "const loaded = (name: string) => Object.keys(require.cache).some((file) => file.includes(`/node_modules/${name}/`));",
        "const before = { redis: loaded('@redis/client'), metrics: loaded('@opentelemetry/sdk-metrics'), aws: loaded('@opentelemetry/resource-detector-aws') };",
        "const gateway = typeof ApolloGateway;",
        "const client = createClient({ url: 'redis://127.0.0.1:1' });",
        "console.log(JSON.stringify({ before, gateway, after: loaded('@redis/client'), client: typeof client.connect, telemetry: process.env.APOLLO_TELEMETRY_DISABLED }));",
      ].join('\n'),
    );
    expect(JSON.parse(launch(entry, { APOLLO_TELEMETRY_DISABLED: '' }).trim().split('\n').at(-1)!)).toEqual({
      before: { redis: false, metrics: false, aws: false },
      gateway: 'function',
      after: true,
      client: 'function',
      telemetry: '',
    });
    const env = { ...process.env };
    delete env.APOLLO_TELEMETRY_DISABLED;
    const out = execFileSync(process.execPath, [join(root, 'scripts', 'launch.cjs'), entry], { cwd: root, env, encoding: 'utf8', stdio: 'pipe' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!).telemetry).toBe('true');
  });

  it('remembers where each require led, and resolves afresh a remembered file that has gone', () => {
    const entry = join(dir, 'resolve.ts');
    writeFileSync(entry, "import { version } from 'graphql';\nconsole.log(JSON.stringify({ version }));\n");
    // What stays outside the bundle is required from .build/: that is what the cache remembers. Since
    // the bundle holds the packages too (h5), a bundle of the sources alone shows it with graphql.
    const own = (env: Record<string, string> = {}) => launch(entry, { COMMERCE_BUNDLE_PACKAGES: 'off', ...env });
    const real = JSON.parse(own()).version as string;
    expect(real).toMatch(/^\d+\./);
    const name = readdirSync(join(root, '.build')).find((f) => f.startsWith(`.build--launch-test-${process.pid}--resolve`) && f.endsWith('.resolve.json'));
    const cacheFile = join(root, '.build', name!);
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as { stamp: string; resolved: Record<string, string>; formats: Record<string, string> };
    const key = `${join(root, '.build')}\0graphql`;
    expect(cache.resolved[key]).toBe(join(root, 'node_modules', 'graphql', 'index.js'));
    // The next launch believes the cache: pointed elsewhere, it loads that file.
    const stand = join(dir, 'stand-in-graphql.js');
    writeFileSync(stand, "module.exports = { version: 'from the cache' };\n");
    writeFileSync(cacheFile, JSON.stringify({ ...cache, resolved: { ...cache.resolved, [key]: stand } }));
    expect(JSON.parse(own()).version).toBe('from the cache');
    // A remembered file that has gone is resolved the ordinary way; off, the cache is not read at all.
    writeFileSync(cacheFile, JSON.stringify({ ...cache, resolved: { ...cache.resolved, [key]: stand } }));
    expect(JSON.parse(own({ COMMERCE_RESOLVE_CACHE: 'off' })).version).toBe(real);
    rmSync(stand);
    expect(JSON.parse(own()).version).toBe(real);
  });

  it("runs an entry's early step, a bundle of its own, before the entry's bundle loads; a broken one is left to the entry", () => {
    const entry = join(dir, 'early-user.ts');
    const early = join(dir, 'early-user.early.ts');
    writeFileSync(join(dir, 'nested', 'begun.ts'), "export const begin = (): void => void ((globalThis as Record<string, unknown>).begun = 'before the entry');\n");
    writeFileSync(early, "import { begin } from './nested/begun.js';\nbegin();\n");
    // The entry's own copy of the module that began the work: a separate bundle, a separate copy.
    writeFileSync(entry, "import { begin } from './nested/begun.js';\nconst seen = (globalThis as Record<string, unknown>).begun;\nbegin();\nconsole.log(JSON.stringify({ seen }));\n");
    expect(JSON.parse(launch(entry))).toEqual({ seen: 'before the entry' });
    expect(readdirSync(join(root, '.build'))).toEqual(expect.arrayContaining([`.build--launch-test-${process.pid}--early-user.early.cjs`, `.build--launch-test-${process.pid}--early-user.cjs`]));
    writeFileSync(early, "import { missing } from './nowhere.js';\nmissing();\n");
    const later = new Date(Date.now() + 2_000);
    utimesSync(early, later, later);
    expect(JSON.parse(launch(entry))).toEqual({});
  });

  it('runs a source that does not bundle through tsx', () => {
    const entry = join(dir, 'broken.ts');
    writeFileSync(entry, "import { missing } from './nowhere.js';\nconsole.log(missing);\n");
    let failure: { stderr: string; status: number } | undefined;
    try {
      launch(entry);
    } catch (error) {
      failure = error as { stderr: string; status: number };
    }
    expect(failure?.status).not.toBe(0);
    expect(failure?.stderr).toContain('launch: could not bundle');
    expect(failure?.stderr).toContain('running it through tsx');
  });
});
