/**
 * The demo admin and pos keys `npm start` prints, kept in a file per database: `.data/demo-keys.json`
 * beside the embedded one, `.data/demo-keys.<host>-<port>-<database>.json` for DATABASE_URL, so
 * that a run against one database never leaves keys that another refuses.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readDatabaseUrl, type Env } from '../lib/env.js';
import { graphqlRequest } from './graphql-request.js';
import type { RunningSystem } from './system.js';

export interface DemoKeys {
  admin: string;
  pos: string;
}

/** Where the demo keys of the database in use are kept. */
export function demoKeysFile(env: Env = process.env): string {
  const dataDir = env.PGLITE_DATA_DIR || '.data/pglite';
  const url = readDatabaseUrl(env, 'tenant');
  if (!url) return join(dataDir, '..', 'demo-keys.json');
  const { hostname, port, pathname } = new URL(url);
  const name = `${hostname}-${port || '5432'}-${pathname.slice(1) || 'postgres'}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  return join('.data', `demo-keys.${name}.json`);
}

export function readDemoKeys(file: string): DemoKeys | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const keys = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoKeys>;
    return keys.admin && keys.pos ? { admin: keys.admin, pos: keys.pos } : undefined;
  } catch {
    return undefined;
  }
}

export function writeDemoKeys(file: string, keys: DemoKeys): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(keys, null, 2));
}

/** True when the key is accepted by the gateway as a credential of the demo tenant. */
async function works(system: Pick<RunningSystem, 'gatewayUrl'>, key: string): Promise<boolean> {
  const result = await graphqlRequest<{ tenant: { slug: string } | null }>(system.gatewayUrl, '{ tenant { slug } }', {}, { authorization: `Bearer ${key}` });
  return result.data?.tenant?.slug === 'demo';
}

/**
 * The demo keys of the file when the gateway accepts them; otherwise (another database's keys,
 * revoked, no file) new ones for the demo tenant, written to the file. Undefined without a demo tenant.
 */
export async function ensureDemoKeys(system: Pick<RunningSystem, 'gatewayUrl' | 'tenants' | 'apiKeys'>, file: string): Promise<{ keys: DemoKeys; renewed: boolean } | undefined> {
  const stored = readDemoKeys(file);
  if (stored && (await works(system, stored.admin)) && (await works(system, stored.pos))) return { keys: stored, renewed: false };
  const tenant = await system.tenants.resolve({ slug: 'demo' });
  if (!tenant) return undefined;
  const platform = { tenantId: undefined, roles: ['platform' as const], requestId: 'demo-keys' };
  const keys = {
    admin: (await system.apiKeys.create(platform, { name: 'demo admin', role: 'ADMIN', tenantId: tenant.id })).key,
    pos: (await system.apiKeys.create(platform, { name: 'demo pos', role: 'POS', tenantId: tenant.id })).key,
  };
  writeDemoKeys(file, keys);
  return { keys, renewed: true };
}
