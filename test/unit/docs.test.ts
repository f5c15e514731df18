import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ErrorCodes } from '../../lib/errors.js';
import { SUBGRAPHS } from '../../lib/subgraphs.js';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'generated') continue;
    if (statSync(join(root, path)).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) yield path;
  }
}

describe('the docs match the code', () => {
  it('describes every error code of the registry', () => {
    const errors = read('docs/errors.md');
    for (const code of Object.keys(ErrorCodes)) expect({ code, documented: errors.includes(`\`${code}\``) }).toEqual({ code, documented: true });
  });

  it('lists every environment variable the code reads', () => {
    const configuration = read('docs/configuration.md');
    const names = new Set<string>();
    for (const dir of ['gateway', 'lib', 'scripts', 'subgraphs', 'bench', 'test']) {
      for (const file of sources(dir)) {
        const text = read(file);
        for (const match of text.matchAll(/(?:process\.env|\benv)\.([A-Z][A-Z0-9_]+)|read(?:Optional|Int|Bool)\(env, '([A-Z][A-Z0-9_]+)'/g)) names.add(match[1] ?? match[2]!);
      }
    }
    expect(names.size).toBeGreaterThan(10);
    const missing = [...names].filter((name) => !configuration.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('draws the architecture as a Mermaid diagram naming every service', () => {
    const architecture = read('docs/architecture.md');
    expect(architecture).toContain('```mermaid');
    for (const service of [...SUBGRAPHS.map((s) => s.name), 'gateway']) expect(architecture).toContain(service);
  });

  it('links only to files of the repository that exist (README.md, CONTRIBUTING.md, docs/)', () => {
    const pages = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), ...readdirSync(join(root, 'docs', 'decisions')).map((f) => `docs/decisions/${f}`)];
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(https?:|mailto:|#)/.test(target!)) continue;
        checked += 1;
        const path = join(root, dirname(page), target!.replace(/#.*$/, ''));
        if (relative(root, path).startsWith('..') || !existsSync(path)) broken.push(`${page}: ${target}`);
      }
    }
    expect(checked).toBeGreaterThan(10);
    expect(broken).toEqual([]);
  });
});
