import type { FetchNode, PlanNode, QueryPlan, ResponsePath } from '@apollo/query-planner';
import { Kind, parse, print, visit, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionNode, type VariableDefinitionNode } from 'graphql';

/**
 * A query plan turned into a schedule: its fetches (Conditions already decided), each at a
 * level (how many fetches must finish before it may start), and fetches to the same subgraph at
 * the same level gathered into one group, sent as one request. Built once per plan and set of
 * condition values, kept with the plan.
 */
export interface Step {
  fetch: FetchNode;
  /** Where its entities are in the response (`Flatten` paths joined, `@` for every list element). */
  path: ResponsePath;
  deps: Step[];
  level: number;
  group?: Group;
}

export interface Group {
  service: string;
  steps: Step[];
  /** Groups that must finish first (the union of the steps' dependencies). */
  deps: Group[];
  /** For two or more entity fetches: the one operation that asks all of them (aliases `_e0`, `_e1`…). */
  merged?: { query: string; operationName: string | undefined };
}

export interface Schedule {
  groups: Group[];
  steps: number;
}

/** A plan node this executor does not run (Apollo's executor does): subscriptions. */
export class UnsupportedPlan extends Error {}

const schedules = new WeakMap<QueryPlan, Map<string, Schedule>>();
/** Plans without Conditions: one schedule, found without walking the plan. */
const unconditional = new WeakMap<QueryPlan, Schedule>();

/** The schedule of `plan` for the given condition values (`decide` answers each Condition node). */
export function scheduleOf(plan: QueryPlan, decide: (node: Extract<PlanNode, { kind: 'Condition' }>) => boolean): Schedule {
  const known = unconditional.get(plan);
  if (known) return known;
  const decisions: boolean[] = [];
  const steps: Step[] = [];
  const collect = (node: PlanNode, path: ResponsePath, deps: Step[]): Step[] => {
    switch (node.kind) {
      case 'Fetch': {
        const step: Step = { fetch: node, path, deps, level: deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => d.level)) };
        steps.push(step);
        return [step];
      }
      case 'Flatten':
        return collect(node.node, path.concat(node.path), deps);
      case 'Sequence': {
        let last: Step[] = [];
        let before = deps;
        for (const child of node.nodes) {
          const out = collect(child, path, before);
          if (out.length > 0) {
            last = out;
            before = out;
          }
        }
        return last;
      }
      case 'Parallel':
        return node.nodes.flatMap((child) => collect(child, path, deps));
      case 'Defer': {
        // All at once (a client that takes no multipart, or a block inside a deferred one): the
        // deferred blocks after the primary one, whose fetches they read.
        const primary = node.primary.node ? collect(node.primary.node, path, deps) : [];
        const after = primary.length > 0 ? primary : deps;
        return [...primary, ...node.deferred.flatMap((deferred) => (deferred.node ? collect(deferred.node, path, after) : []))];
      }
      case 'Condition': {
        const taken = decide(node);
        decisions.push(taken);
        const branch = taken ? node.ifClause : node.elseClause;
        return branch ? collect(branch, path, deps) : [];
      }
      default:
        throw new UnsupportedPlan(`plan node ${(node as PlanNode).kind}`);
    }
  };
  // The decisions are taken in a fixed order (the walk), so they name the schedule.
  if (plan.node?.kind === 'Subscription') throw new UnsupportedPlan('plan node Subscription');
  if (plan.node) collect(plan.node, [], []);
  const key = decisions.map((d) => (d ? '1' : '0')).join('');
  let byConditions = schedules.get(plan);
  const cached = byConditions?.get(key);
  if (cached) return cached;
  const schedule = build(steps);
  if (decisions.length === 0) unconditional.set(plan, schedule);
  if (!byConditions) schedules.set(plan, (byConditions = new Map()));
  byConditions.set(key, schedule);
  return schedule;
}

const mergeable = (step: Step) => step.fetch.requires !== undefined && step.fetch.operationKind === 'query' && !step.fetch.hasDefers;

function build(steps: Step[]): Schedule {
  // Latest level each step may run at without delaying what depends on it.
  const dependents = new Map<Step, Step[]>();
  for (const step of steps) for (const dep of step.deps) dependents.set(dep, [...(dependents.get(dep) ?? []), step]);
  const maxLevel = Math.max(0, ...steps.map((s) => s.level));
  const latest = new Map<Step, number>();
  for (const step of [...steps].sort((a, b) => b.level - a.level)) {
    const after = dependents.get(step);
    latest.set(step, after ? Math.min(...after.map((d) => latest.get(d)! - 1)) : maxLevel);
  }
  // A step with slack that would be alone with its subgraph at its level moves to the first later
  // level (within its slack) where a fetch to the same subgraph already goes: one request fewer.
  const at = (level: number, service: string, except: Step) =>
    steps.some((s) => s !== except && s.level === level && s.fetch.serviceName === service && mergeable(s));
  for (const step of steps) {
    if (!mergeable(step) || at(step.level, step.fetch.serviceName, step)) continue;
    for (let level = step.level + 1; level <= latest.get(step)!; level++) {
      if (at(level, step.fetch.serviceName, step)) {
        step.level = level;
        break;
      }
    }
  }
  // Every step stays strictly after its dependencies (steps are listed after the ones they need):
  // groups then never wait on each other in a circle.
  for (const step of steps) for (const dep of step.deps) if (step.level <= dep.level) step.level = dep.level + 1;
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  for (const step of [...steps].sort((a, b) => a.level - b.level)) {
    let group: Group | undefined;
    if (mergeable(step)) {
      const key = `${step.level}\n${step.fetch.serviceName}`;
      group = byKey.get(key);
      if (!group) byKey.set(key, (group = { service: step.fetch.serviceName, steps: [], deps: [] }));
    } else group = { service: step.fetch.serviceName, steps: [], deps: [] };
    if (group.steps.length === 0) groups.push(group);
    group.steps.push(step);
    step.group = group;
  }
  for (const group of groups) {
    const deps = new Set<Group>();
    for (const step of group.steps) for (const dep of step.deps) if (dep.group !== group) deps.add(dep.group!);
    group.deps = [...deps];
    if (group.steps.length > 1) group.merged = mergeOperations(group.steps.map((s) => s.fetch));
  }
  return { groups, steps: steps.length };
}

/**
 * One operation asking what several entity fetches to one subgraph ask: each fetch's `_entities`
 * under the alias `_e<i>`, its representations in `$_r<i>`, its fragments renamed `<name>__<i>`;
 * the client's variables (same name, same value) declared once.
 */
export function mergeOperations(fetches: FetchNode[]): { query: string; operationName: string | undefined } {
  const variables = new Map<string, VariableDefinitionNode>();
  const selections: SelectionNode[] = [];
  const fragments: FragmentDefinitionNode[] = [];
  fetches.forEach((fetch, i) => {
    const document: DocumentNode = fetch.operationDocumentNode ?? parse(fetch.operation);
    const renamed = visit(document, {
      Variable: (node) => (node.name.value === 'representations' ? { ...node, name: { ...node.name, value: `_r${i}` } } : undefined),
      FragmentSpread: (node) => ({ ...node, name: { ...node.name, value: `${node.name.value}__${i}` } }),
      FragmentDefinition: (node) => ({ ...node, name: { ...node.name, value: `${node.name.value}__${i}` } }),
    });
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.push(definition);
      else if (definition.kind === Kind.OPERATION_DEFINITION) {
        for (const v of definition.variableDefinitions ?? []) if (!variables.has(v.variable.name.value)) variables.set(v.variable.name.value, v);
        for (const selection of definition.selectionSet.selections) {
          if (selection.kind !== Kind.FIELD || selection.name.value !== '_entities') throw new UnsupportedPlan('entity fetch without _entities');
          selections.push({ ...selection, alias: { kind: Kind.NAME, value: `_e${i}` } });
        }
      }
    }
  });
  const operationName = fetches[0]!.operationName;
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: 'query' as OperationDefinitionNode['operation'],
    ...(operationName ? { name: { kind: Kind.NAME, value: operationName } } : {}),
    variableDefinitions: [...variables.values()],
    selectionSet: { kind: Kind.SELECTION_SET, selections },
  };
  return { query: print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] }), operationName };
}
