import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUBGRAPHS } from '../../lib/subgraphs.js';
import { ALL_ROLES, KEY_ROLE_NAMES, ROLE_NAMES } from '../../lib/tenant/roles.js';
import { WEBHOOK_SOURCE_NAMES, WEBHOOK_SOURCES } from '../../lib/webhooks/registry.js';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const subgraphDirs = readdirSync(join(root, 'subgraphs')).sort();
const sdl = (name: string) => read(`subgraphs/${name}/schema.graphql`);

/** The values of `enum <name>` in each SDL that declares it. */
function enumValues(name: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const subgraph of subgraphDirs) {
    const body = new RegExp(`^enum ${name} \\{([^}]*)\\}`, 'm').exec(sdl(subgraph))?.[1];
    if (!body) continue;
    const values = body
      .replace(/"""[\s\S]*?"""|"[^"\n]*"/g, '')
      .split(/\s+/)
      .filter((word) => /^[A-Z][A-Z0-9_]*$/.test(word));
    found.set(subgraph, values);
  }
  return found;
}

/** The values of the last `CHECK (<column> IN (…))` in each subgraph's migrations (later ones replace earlier). */
function checkValues(column: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const subgraph of subgraphDirs) {
    const dir = `subgraphs/${subgraph}/src/data/migrations`;
    for (const file of readdirSync(join(root, dir)).sort()) {
      for (const match of read(`${dir}/${file}`).matchAll(new RegExp(`CHECK \\(${column} IN \\(([^)]*)\\)\\)`, 'g'))) {
        found.set(subgraph, [...match[1]!.matchAll(/'([^']+)'/g)].map((m) => m[1]!));
      }
    }
  }
  return found;
}

const sorted = (values: readonly string[]) => [...values].sort();

describe('the registries match the schemas and the database', () => {
  it('webhook sources: every WebhookSource enum and source CHECK lists the registry', () => {
    const enums = enumValues('WebhookSource');
    const checks = checkValues('source');
    expect([...enums.keys()]).toEqual(['inventory', 'tenant']);
    expect([...checks.keys()]).toEqual(['inventory', 'tenant']);
    for (const values of [...enums.values(), ...checks.values()]) expect(sorted(values)).toEqual(sorted(WEBHOOK_SOURCE_NAMES));
    // Paths and metric labels are unique and URL-safe (`/webhooks/<path>/<slug>`).
    expect(new Set(WEBHOOK_SOURCES.map((s) => s.path)).size).toBe(WEBHOOK_SOURCES.length);
    for (const { path } of WEBHOOK_SOURCES) expect(path).toMatch(/^[a-z]+$/);
  });

  it('roles: the Role enum, the api_key CHECK and every @requiresScopes follow the role table', () => {
    expect(sorted(enumValues('Role').get('tenant') ?? [])).toEqual(sorted(ROLE_NAMES));
    expect(sorted(checkValues('role').get('tenant') ?? [])).toEqual(sorted(KEY_ROLE_NAMES));
    const scopes = new Set<string>();
    for (const subgraph of subgraphDirs) {
      for (const [, list] of sdl(subgraph).matchAll(/@requiresScopes\(scopes: (\[[^@]*?\]\])\)/g)) for (const scope of JSON.parse(list!).flat()) scopes.add(scope);
    }
    expect(scopes.size).toBeGreaterThan(2);
    expect([...scopes].filter((scope) => !(ALL_ROLES as string[]).includes(scope))).toEqual([]);
  });

  it('subgraphs: the list names every directory under subgraphs/', () => {
    expect(sorted(SUBGRAPHS.map((s) => s.name))).toEqual(subgraphDirs);
  });
});
