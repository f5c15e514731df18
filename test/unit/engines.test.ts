import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// semver ships no types of its own; the one function used here.
const { subset } = require('semver') as { subset(range: string, of: string): boolean };

const root = join(__dirname, '..', '..');
const json = (path: string) => JSON.parse(readFileSync(join(root, path), 'utf8'));

describe('the declared Node range', () => {
  it('is true of the whole locked dependency tree (npm install warns of no package’s engine)', () => {
    const declared = json('package.json').engines.node as string;
    const packages = json('package-lock.json').packages as Record<string, { version?: string; engines?: { node?: string } | string[] }>;
    expect(json('package-lock.json').packages[''].engines.node).toBe(declared);
    const narrower = Object.entries(packages)
      .filter(([path, info]) => path && info.engines && !Array.isArray(info.engines) && info.engines.node && !subset(declared, info.engines.node))
      .map(([path, info]) => `${path.replace(/^.*node_modules\//, '')}@${info.version} wants ${(info.engines as { node: string }).node}`);
    expect(narrower).toEqual([]);
  });
});
