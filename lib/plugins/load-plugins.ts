import { isAbsolute, join } from 'node:path';
import type { EntityManager } from 'typeorm';
import { ConfigError, readOptional, type Env } from '../env.js';
import type { EventApplier } from '../events/consumer.js';
import { eventInfo, type EventType } from '../events/event-map.js';
import { appendToOutbox } from '../events/outbox.js';
import type { Reaction } from '../events/on.js';
import type { CommercePlugin, PluginApi, TransitionDecider } from './plugin.js';

/** A plug-in and its options, as configuration names it. */
export interface PluginEntry {
  plugin: CommercePlugin;
  options?: Record<string, unknown>;
}

/** What the plug-ins of one subgraph registered. */
export interface PluginRegistrations {
  reactions: Reaction[];
  deciders: Map<string, TransitionDecider[]>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * COMMERCE_PLUGINS: a JSON list of `{ "module": "plugins/low-stock-alert.ts", "options": {…} }`
 * (paths from the repository's root, or absolute). Each module exports a `CommercePlugin` as
 * `default` or `plugin`. Unset: none.
 */
export async function readPlugins(env: Env = process.env): Promise<PluginEntry[]> {
  const raw = readOptional(env, 'COMMERCE_PLUGINS');
  if (!raw) return [];
  let list: { module?: unknown; options?: unknown }[];
  try {
    list = JSON.parse(raw) as typeof list;
    if (!Array.isArray(list)) throw new Error('not a list');
  } catch (error) {
    throw new ConfigError(`COMMERCE_PLUGINS must be a JSON list of { "module", "options" }: ${String(error)}`);
  }
  const entries: PluginEntry[] = [];
  for (const item of list) {
    if (typeof item.module !== 'string') throw new ConfigError('COMMERCE_PLUGINS: each entry needs a "module" path');
    const loaded = await importModule(isAbsolute(item.module) ? item.module : join(ROOT, item.module));
    const plugin = loaded.plugin ?? loaded.default;
    if (!plugin?.setup) throw new ConfigError(`COMMERCE_PLUGINS: ${item.module} exports no plug-in`);
    entries.push({ plugin, options: (item.options as Record<string, unknown> | undefined) ?? {} });
  }
  return entries;
}

type PluginModule = { default?: CommercePlugin; plugin?: CommercePlugin };

/**
 * Imports a plug-in module. A TypeScript one needs a loader: tsx and jest bring theirs, but the
 * bundled services of `npm start` (scripts/launch.cjs) run on plain node, where tsx loads it.
 */
async function importModule(path: string): Promise<PluginModule> {
  try {
    return (await import(path)) as PluginModule;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error;
    const tsx = require('tsx/cjs/api') as typeof import('tsx/cjs/api');
    return tsx.require(path, __filename) as PluginModule;
  }
}

/**
 * A service's own appliers with its plug-ins' reactions added: where both react to a type, the
 * service's applier runs first, then each plug-in's, in the one transaction of the event.
 */
export function withPluginReactions(appliers: Record<string, EventApplier>, reactions: readonly Reaction[]): Record<string, EventApplier> {
  const all = { ...appliers };
  for (const { type, apply } of reactions) {
    const before = all[type];
    all[type] = before
      ? async (manager, event) => {
          await before(manager, event);
          await apply(manager, event);
        }
      : apply;
  }
  return all;
}

/** Sets up the plug-ins that run in `subgraph` and collects what they registered. */
export function setUpPlugins(subgraph: string, entries: readonly PluginEntry[] = []): PluginRegistrations {
  const registrations: PluginRegistrations = { reactions: [], deciders: new Map() };
  for (const { plugin, options } of entries) {
    if (!plugin.subgraphs.includes(subgraph)) continue;
    const api: PluginApi = {
      subgraph,
      options: options ?? {},
      react: (reaction) => registrations.reactions.push(reaction),
      emit: (manager: EntityManager, tenantId: string, type: EventType, payload: unknown) => {
        const info = eventInfo(type);
        // A service publishes only its own events, plug-ins included.
        if (info?.publisher !== subgraph) throw new Error(`plug-in ${plugin.name} may not emit ${type} from ${subgraph}`);
        return appendToOutbox(manager, { type, tenantId, payload, version: info.version });
      },
      decide: (event, decider) => registrations.deciders.set(event, [...(registrations.deciders.get(event) ?? []), decider]),
    };
    plugin.setup(api);
  }
  return registrations;
}
