/**
 * Schema releases. `npm run schema:check` compares the composed API schema and the partner
 * contract with the last release under schema/releases/ and fails on a breaking change that was
 * not deprecated in that release (schema/evolution.ts). `npm run schema:release` records the
 * current schemas as the next release and appends what changed to docs/schema-changelog.md.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, printSchema, type GraphQLSchema } from 'graphql';
import { CriticalityLevel, type Change } from '@graphql-inspector/core';
import { PARTNER_SCHEMA_PATH, SUPERGRAPH_PATH } from './compose-supergraph.js';
import { apiSchemaOf, evolution } from './evolution.js';

const root = join(__dirname, '..');
const RELEASES = join(root, 'schema', 'releases');
const CHANGELOG = join(root, 'docs', 'schema-changelog.md');

interface Audience {
  name: 'api' | 'partner';
  current: () => GraphQLSchema;
}

const audiences: Audience[] = [
  { name: 'api', current: () => apiSchemaOf(readFileSync(SUPERGRAPH_PATH, 'utf8')) },
  { name: 'partner', current: () => buildSchema(readFileSync(PARTNER_SCHEMA_PATH, 'utf8')) },
];

const releases = () =>
  (existsSync(RELEASES) ? readdirSync(RELEASES) : [])
    .map((file) => /^(\d{4})-api\.graphql$/.exec(file)?.[1])
    .filter((n): n is string => Boolean(n))
    .sort();
const releaseFile = (release: string, audience: string) => join(RELEASES, `${release}-${audience}.graphql`);
const level = (change: Change) => (change.criticality.level === CriticalityLevel.Breaking ? 'breaking' : change.criticality.level === CriticalityLevel.Dangerous ? 'dangerous' : 'safe');

async function compare(release: string | undefined) {
  const result: { audience: string; changes: Change[]; refused: Change[] }[] = [];
  for (const audience of audiences) {
    if (!release) {
      result.push({ audience: audience.name, changes: [], refused: [] });
      continue;
    }
    const released = buildSchema(readFileSync(releaseFile(release, audience.name), 'utf8'));
    result.push({ audience: audience.name, ...(await evolution(released, audience.current())) });
  }
  return result;
}

async function main(): Promise<void> {
  const command = process.argv[2] ?? 'check';
  const last = releases().at(-1);
  const compared = await compare(last);
  for (const { audience, changes, refused } of compared) {
    console.log(`${audience}: ${changes.length} change(s) since ${last ? `release ${last}` : 'no release'}, ${refused.length} refused`);
    for (const change of refused) console.log(`  REFUSED ${change.message} (${change.criticality.reason ?? 'breaks existing clients'}; deprecate it in a release first)`);
  }
  if (compared.some((c) => c.refused.length > 0)) process.exit(1);
  if (command === 'check') return;
  if (command !== 'release') throw new Error(`usage: schema/releases.ts check|release (got ${command})`);
  const next = String(Number(last ?? '0') + 1).padStart(4, '0');
  if (last && compared.every((c) => c.changes.length === 0)) {
    console.log(`nothing changed since release ${last}; no release written`);
    return;
  }
  mkdirSync(RELEASES, { recursive: true });
  for (const audience of audiences) writeFileSync(releaseFile(next, audience.name), `${printSchema(audience.current())}\n`);
  const date = new Date().toISOString().slice(0, 10);
  const lines = [`## Release ${next} (${date})`, ''];
  if (!last) lines.push('The first recorded release: the API schema and the partner contract as they stand.', '');
  for (const { audience, changes } of compared) {
    if (changes.length === 0) continue;
    lines.push(`### ${audience === 'api' ? 'API schema' : 'Partner contract'}`, '');
    for (const change of changes) lines.push(`- ${level(change)}: ${change.message}`);
    lines.push('');
  }
  const header = '# Schema changelog\n\nWritten by `npm run schema:release`, newest first; the schemas of each release are in `schema/releases/`.\n\n';
  const previous = existsSync(CHANGELOG) ? readFileSync(CHANGELOG, 'utf8').replace(header, '') : '';
  writeFileSync(CHANGELOG, `${header}${lines.join('\n')}\n${previous}`);
  console.log(`wrote release ${next} (schema/releases/${next}-*.graphql) and docs/schema-changelog.md`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
