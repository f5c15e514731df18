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

describe('the install scripts package.json allows and denies', () => {
  it('cover every locked package with an install script, and name no other (npm install lists none as not yet reviewed)', () => {
    const allowScripts = json('package.json').allowScripts as Record<string, boolean>;
    const packages = json('package-lock.json').packages as Record<string, { hasInstallScript?: boolean }>;
    const withScripts = [...new Set(Object.entries(packages).filter(([, info]) => info.hasInstallScript).map(([path]) => path.replace(/^.*node_modules\//, '')))].sort();
    // Name-only entries: the lockfile records no resolved URL, so npm could not match a pinned one.
    expect(Object.keys(allowScripts).sort()).toEqual(withScripts);
    // Allowed: the scripts that check or fetch a native binary the tools run (esbuild for the
    // start bundle, SWC for jest, unrs-resolver for jest's resolution). Denied: version notices
    // (protobufjs) and a build from source only on request (@parcel/watcher: its prebuilt binary
    // comes as an optional dependency).
    expect(Object.entries(allowScripts).filter(([, allowed]) => allowed).map(([name]) => name).sort()).toEqual(['@swc/core', 'esbuild', 'unrs-resolver']);
  });
});
