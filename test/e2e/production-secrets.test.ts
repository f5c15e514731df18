import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Each case starts a real process (slow on a busy machine: hence the long timeouts).
 * The real entry points (`npm run start:gateway`, `npm run start:<service>`: tsx on their
 * main.ts), started as an operator would, with the environment each case names.
 */
const GOOD_SECRET = 'a3f0c9e1b7d24c6a8e5f0b1d2c3a4e5f6a7b8c9d0e1f2a3b';
const GOOD_KEY = 'pk_Zq8tW2vN5xR7yB1mK4cJ6hL9pD3sF0gA';

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an entry point until it exits, or until it says it is ready (then stops it). */
function run(main: string, env: Record<string, string>): Promise<Outcome> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(NODE_ENV|SUBGRAPH_SECRET|PLATFORM_API_KEY|JWT_|REDIS_URL|DATABASE_URL|TEST_)/.test(name)),
  );
  const child = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', main], {
    env: { ...base, PORT: '0', LOG_LEVEL: 'silent', PGLITE_DATA_DIR: mkdtempSync(join(tmpdir(), 'secrets-')), ...env } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (/ready at/.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const GATEWAY = 'gateway/src/main.ts';
const CATALOG = 'subgraphs/catalog/src/main.ts';

describe('production refuses missing, short and published secrets', () => {
  const production = { NODE_ENV: 'production', SUBGRAPH_SECRET: GOOD_SECRET, PLATFORM_API_KEY: GOOD_KEY };

  it.each([
    ['a missing PLATFORM_API_KEY', GATEWAY, { ...production, PLATFORM_API_KEY: '' }, /PLATFORM_API_KEY is required when NODE_ENV=production/],
    ['a short PLATFORM_API_KEY', GATEWAY, { ...production, PLATFORM_API_KEY: 'pk_short' }, /PLATFORM_API_KEY is too short/],
    ["compose's old PLATFORM_API_KEY default", GATEWAY, { ...production, PLATFORM_API_KEY: 'change-me-platform-key' }, /PLATFORM_API_KEY is too short/],
    ['the documented example PLATFORM_API_KEY', GATEWAY, { ...production, PLATFORM_API_KEY: 'replace-me-with-32-or-more-random-characters' }, /PLATFORM_API_KEY is a published example value/],
    ['a missing SUBGRAPH_SECRET', GATEWAY, { ...production, SUBGRAPH_SECRET: '' }, /SUBGRAPH_SECRET is required when NODE_ENV=production/],
    ['the documented example SUBGRAPH_SECRET', GATEWAY, { ...production, SUBGRAPH_SECRET: 'replace-me-with-32-or-more-random-characters' }, /SUBGRAPH_SECRET is a published example value/],
    ['a short JWT_SECRET', GATEWAY, { ...production, JWT_SECRET: 'secret' }, /JWT_SECRET is too short/],
    ["compose's old SUBGRAPH_SECRET default, on a subgraph", CATALOG, { ...production, SUBGRAPH_SECRET: 'change-me-subgraph-secret' }, /SUBGRAPH_SECRET is too short/],
    ['a missing SUBGRAPH_SECRET, on a subgraph', CATALOG, { NODE_ENV: 'production' }, /SUBGRAPH_SECRET is required when NODE_ENV=production/],
  ])('stops the start on %s, naming the variable', async (_case, main, env, message) => {
    const outcome = await run(main, env as Record<string, string>);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(message);
    // One clear line, no stack trace, and never the value itself.
    expect(outcome.stderr).not.toMatch(/\n\s+at /);
    expect(outcome.stdout).not.toMatch(/ready at/);
  }, 120_000);

  it('refuses to start a subgraph on its own without SUBGRAPH_SECRET, in development too (no fixed fallback)', async () => {
    const outcome = await run(CATALOG, {});
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(/SUBGRAPH_SECRET is required: the gateway and every subgraph sign and verify with the same one/);
    expect(outcome.stdout).not.toMatch(/ready at/);
  }, 120_000);

  it('starts the production gateway with secrets of its own', async () => {
    const outcome = await run(GATEWAY, { ...production, JWT_SECRET: GOOD_SECRET.split('').reverse().join('') });
    expect(outcome.stdout).toMatch(/gateway ready at http:\/\/127\.0\.0\.1:\d+\/graphql/);
    expect(outcome.stderr).not.toMatch(/failed to start/);
  }, 120_000);
});
