import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_TYPES, eventInfo } from '../../lib/events/event-map.js';

const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) yield path;
  }
}

/**
 * Which services react to which event types, as their sources say: a subgraph's `on('…')`, and
 * any event type the gateway names (its subscription fields and cache invalidations).
 */
export function consumersInCode(): Map<string, Set<string>> {
  const services = [...readdirSync(join(root, 'subgraphs')).map((name) => [name, `subgraphs/${name}/src`]), ['gateway', 'gateway/src']];
  const consumers = new Map<string, Set<string>>();
  for (const [service, dir] of services) {
    for (const file of sources(dir!)) {
      const pattern = service === 'gateway' ? /'([a-z]+\.[a-z-]+\.[a-z-]+)'/g : /\bon\('([a-z]+\.[a-z-]+\.[a-z-]+)'/g;
      for (const [, type] of read(file).matchAll(pattern)) {
        if (service === 'gateway' && !eventInfo(type!)) continue;
        if (!consumers.has(type!)) consumers.set(type!, new Set());
        consumers.get(type!)!.add(service!);
      }
    }
  }
  return consumers;
}

describe('the event map', () => {
  const consumers = consumersInCode();

  it('holds every type a service consumes', () => {
    expect([...consumers.keys()].filter((type) => !eventInfo(type))).toEqual([]);
  });

  it('is documented in docs/events.md: every type with its publisher, version and consumers', () => {
    const rows = new Map<string, string>();
    for (const [, type, rest] of read('docs/events.md').matchAll(/^\| `([a-z.-]+)` \|(.*)$/gm)) rows.set(type!, rest!);
    const documented = [...rows].map(([type, rest]) => {
      const [publisher, version, consumedBy] = rest.split('|').map((cell) => cell.trim());
      return { type, publisher, version, consumers: consumedBy === '—' ? '' : consumedBy };
    });
    const expected = EVENT_TYPES.map((type) => ({
      type,
      publisher: eventInfo(type)!.publisher,
      version: String(eventInfo(type)!.version),
      consumers: [...(consumers.get(type) ?? [])].sort().join(', '),
    }));
    expect(documented).toEqual(expected);
  });
});
