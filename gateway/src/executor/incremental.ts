import { Operation, operationFromDocument } from '@apollo/federation-internals';
import type { DeferNode, DeferredNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import { GraphQLError, Kind, parse, type ExecutionResult, type FieldNode, type SelectionNode, type SelectionSetNode } from 'graphql';
import { conditionsOf, executePlan, newRun, operationOf, runSchedule, shape, type ExecuteOptions, type Json } from './execute.js';
import { scheduleOf } from './schedule.js';
import type { StreamField } from './stream-fields.js';

type Path = (string | number)[];

/** A deferred fragment at one place, or a streamed list, announced to the client (`pending`). */
export interface PendingEntry {
  id: string;
  path: Path;
  label?: string;
}

/** Data for a pending fragment, or streamed items (`start`: the index of the first one). */
export interface IncrementalEntry {
  id: string;
  data?: Json;
  items?: unknown[];
  start?: number;
  errors?: GraphQLError[];
}

/** A pending entry done; with `errors` when its data could not be delivered (a null it could not hold). */
export interface CompletedEntry {
  id: string;
  errors?: GraphQLError[];
}

/**
 * One payload of an incremental result, in the shape of graphql-js 17 alpha 9 (the multipart
 * writer turns it into that format or into the 2022-08-24 one). The first has `data`.
 */
export interface IncrementalPayload extends ExecutionResult {
  pending?: PendingEntry[];
  incremental?: IncrementalEntry[];
  completed?: CompletedEntry[];
  hasNext: boolean;
}

/** A deferred block's operation for result shaping: the path down to it, then its selection. */
interface DeferredShape {
  operation: Operation;
  /** The response names its selection delivers at its path. */
  keys: Set<string>;
  /** Its queryPath without type conditions. */
  path: string[];
}

interface DeferShapes {
  primary: Operation | undefined;
  deferred: Map<DeferredNode, DeferredShape>;
}

/** A selection tree by response name: the fields on the path to a deferred block, with their arguments. */
interface Shape {
  children: Map<string, { field: FieldNode; typeCondition?: string; shape: Shape }>;
}

const shapes = new WeakMap<DeferNode, DeferShapes>();
const plans = new WeakMap<PlanNode, QueryPlan>();
const planOf = (node: PlanNode): QueryPlan => {
  let plan = plans.get(node);
  if (!plan) plans.set(node, (plan = { kind: 'QueryPlan', node }));
  return plan;
};

/**
 * Runs a plan for a client that takes incremental delivery: the primary block of its `@defer`
 * node first (its payload with the deferred fragments announced), then each deferred block as
 * its own payload as soon as its fetches are done (nested ones after their parent), and the
 * items of `@stream`ed lists past `initialCount`, one payload each, after the payload that held
 * the list. A plan with no `@defer` node at its root (after its conditions) and no streams runs
 * as usual, answered at once.
 */
export async function executeIncremental(options: ExecuteOptions, streams: StreamField[]): Promise<ExecutionResult | AsyncIterable<IncrementalPayload>> {
  const operation = operationOf(options);
  if (!(operation instanceof Operation)) return operation;
  const decide = conditionsOf(operation, options.variables);
  let root = options.plan.node as PlanNode | undefined;
  while (root?.kind === 'Condition') root = (decide(root) ? root.ifClause : root.elseClause) ?? undefined;
  const streamed = new Map(streams.map((s) => [s.key, s]));
  // A `Defer` node anywhere but the root or the top of a deferred block runs flattened, answered at once.
  if (root?.kind !== 'Defer' || !deliverable(root)) {
    const result = await executePlan(options);
    if (streamed.size === 0) return result;
    return deliver(streamed, async (emit) => emit.initial(result, [], []));
  }
  const defer = root;
  const fullResult: Json = Object.create(null);
  const known = deferShapes(options, defer);
  return deliver(streamed, async (emit) => {
    const run = newRun(options, fullResult);
    if (defer.primary.node) await runSchedule(run, scheduleOf(planOf(defer.primary.node), decide));
    const result: ExecutionResult = known.primary ? shape(options, known.primary, fullResult, run.errors) : { data: Object.create(null), ...(run.errors.length > 0 ? { errors: run.errors } : {}) };
    for (const deferred of defer.deferred) if (result.data) skeleton(result.data, fullResult, known.deferred.get(deferred)!.path);
    // Each deferred block as soon as its fetches are done; those it holds after it.
    const runDeferred = async (deferred: DeferredNode, places: Place[]): Promise<BlockResult> => {
      const own = newRun(options, fullResult);
      const nested = deferred.node?.kind === 'Defer' ? deferred.node : undefined;
      const node = nested ? nested.primary.node : deferred.node;
      try {
        if (node) await runSchedule(own, scheduleOf(planOf(node), decide));
      } catch (error) {
        own.errors.push(error as GraphQLError);
      }
      const { operation: blockOperation, keys, path: ownPath } = known.deferred.get(deferred)!;
      const incremental: IncrementalEntry[] = [];
      const completed: CompletedEntry[] = [];
      const children: { deferred: DeferredNode; places: Omit<Place, 'id'>[] }[] = (nested?.deferred ?? []).map((child) => ({ deferred: child, places: [] }));
      for (const place of places) {
        const errors = own.errors.filter((error) => startsWith(error.path, place.path));
        // Shaped alone, so a null it cannot hold stops at this place (its own payload), not at its siblings.
        const shaped = shape(options, blockOperation, alongPath(fullResult, place.path), []);
        const at = valueAt(shaped.data, place.path.map((segment) => (typeof segment === 'number' ? 0 : segment)));
        if (at === null || typeof at !== 'object') {
          const reasons = errors.length > 0 ? errors : (shaped.errors ?? (shaped.extensions?.valueCompletion as GraphQLError[] | undefined) ?? []);
          completed.push({ id: place.id, errors: reasons.length > 0 ? [...reasons] : [new GraphQLError('A deferred fragment could not be completed.', { path: place.path })] });
          continue;
        }
        const data: Json = Object.create(null);
        for (const key of Object.keys(at)) if (keys.has(key)) data[key] = (at as Json)[key];
        for (const child of children) skeleton(data, valueAt(fullResult, place.path), known.deferred.get(child.deferred)!.path.slice(ownPath.length));
        for (const child of children) child.places.push(...placesOf(data, known.deferred.get(child.deferred)!.path.slice(ownPath.length), place.path));
        incremental.push({ id: place.id, data, ...(errors.length > 0 ? { errors } : {}) });
        completed.push({ id: place.id });
      }
      // Errors not under any place (a whole request failed): with the first entry.
      const placed = new Set(places.flatMap((place) => own.errors.filter((error) => startsWith(error.path, place.path))));
      const rest = own.errors.filter((error) => !placed.has(error));
      if (rest.length > 0) {
        const first = incremental[0] ?? completed[0];
        if (first) first.errors = [...(first.errors ?? []), ...rest];
      }
      return { incremental, completed, deferred: children };
    };
    emit.onDeferred = runDeferred;
    emit.initial(result, [], defer.deferred.map((deferred) => ({ deferred, places: placesOf(result.data, known.deferred.get(deferred)!.path) })));
  });
}

/** Whether `Defer` nodes appear only where `executeIncremental` delivers them: at the root and at the top of deferred blocks. */
function deliverable(defer: DeferNode): boolean {
  const has = (node: PlanNode | undefined): boolean => {
    if (!node) return false;
    switch (node.kind) {
      case 'Defer':
        return true;
      case 'Sequence':
      case 'Parallel':
        return node.nodes.some(has);
      case 'Flatten':
        return has(node.node);
      case 'Condition':
        return has(node.ifClause) || has(node.elseClause);
      default:
        return false;
    }
  };
  return !has(defer.primary.node) && defer.deferred.every((deferred) => (deferred.node?.kind === 'Defer' ? deliverable(deferred.node) : !has(deferred.node)));
}

interface Place {
  id: string;
  path: Path;
  label?: string;
}

/** What the block running a plan tells the delivery: the first result, each block's, the blocks it announces. */
interface Emitter {
  initial(result: ExecutionResult, incremental: IncrementalEntry[], deferred: { deferred: DeferredNode; places: Omit<Place, 'id'>[] }[]): void;
  subsequent(incremental: IncrementalEntry[], completed: CompletedEntry[], deferred: { deferred: DeferredNode; places: Omit<Place, 'id'>[] }[]): void;
  /** Runs a deferred block; what it resolves to is its payload. */
  onDeferred?: (deferred: DeferredNode, places: Place[]) => Promise<BlockResult>;
}

interface BlockResult {
  incremental: IncrementalEntry[];
  completed: CompletedEntry[];
  deferred: { deferred: DeferredNode; places: Omit<Place, 'id'>[] }[];
}

/**
 * The payloads, in the order they are ready: a block's payload announces (`pending`) the deferred
 * fragments it holds and starts their blocks, and is followed by the items of the lists it holds
 * that are streamed. `hasNext` is false on the last.
 */
function deliver(streamed: Map<string, StreamField>, start: (emit: Emitter) => Promise<void>): AsyncIterable<IncrementalPayload> {
  const queue: Omit<IncrementalPayload, 'hasNext'>[] = [];
  /** Deferred blocks announced and not yet delivered. */
  let running = 0;
  let initialSent = false;
  let wake: (() => void) | undefined;
  let nextId = 0;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let failure: unknown;
  // Where each deferred entry is (for the lists streamed inside it).
  const placeOf = new Map<string, Path>();
  const announce = (blocks: { deferred: DeferredNode; places: Omit<Place, 'id'>[] }[]): PendingEntry[] => {
    const pending: PendingEntry[] = [];
    for (const { deferred, places } of blocks) {
      if (places.length === 0) continue;
      const withIds = places.map((place) => ({ ...place, id: String(nextId++), ...(deferred.label !== undefined ? { label: deferred.label } : {}) }));
      pending.push(...withIds.map(({ id, path, label }) => ({ id, path, ...(label !== undefined ? { label } : {}) })));
      for (const { id, path } of withIds) placeOf.set(id, path);
      running++;
      // The block's payload goes out in the same turn as it stops counting as running: hasNext is exact.
      emit.onDeferred!(deferred, withIds).then(
        (result) => {
          emit.subsequent(result.incremental, result.completed, result.deferred);
          running--;
          notify();
        },
        (error: unknown) => {
          queue.push({ completed: withIds.map(({ id }) => ({ id, errors: [error instanceof GraphQLError ? error : new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] })) });
          running--;
          notify();
        },
      );
    }
    return pending;
  };
  /** Cuts streamed lists in `data` (at `base`) to their initial count; their other items as later payloads. */
  const cut = (data: unknown, base: Path): { pending: PendingEntry[]; later: Omit<IncrementalPayload, 'hasNext'>[] } => {
    const pending: PendingEntry[] = [];
    const later: Omit<IncrementalPayload, 'hasNext'>[] = [];
    if (streamed.size === 0) return { pending, later };
    const walk = (value: unknown, path: Path, names: string[]) => {
      if (Array.isArray(value)) {
        const stream = streamed.get(names.join('.'));
        if (stream && value.length > stream.initialCount) {
          const id = String(nextId++);
          pending.push({ id, path: [...path], ...(stream.label !== undefined ? { label: stream.label } : {}) });
          const items = value.splice(stream.initialCount);
          items.forEach((item, i) =>
            later.push({ incremental: [{ id, items: [item], start: stream.initialCount + i }], ...(i === items.length - 1 ? { completed: [{ id }] } : {}) }),
          );
        }
        value.forEach((item, i) => walk(item, [...path, i], names));
      } else if (value !== null && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) walk(inner, [...path, key], [...names, key]);
      }
    };
    walk(data, base, base.filter((s): s is string => typeof s === 'string'));
    return { pending, later };
  };
  const emit: Emitter = {
    initial(result, _incremental, deferred) {
      initialSent = true;
      const pending = announce(deferred);
      const { pending: streams, later } = cut(result.data, []);
      queue.push({ ...result, pending: [...pending, ...streams] }, ...later);
      notify();
    },
    subsequent(incremental, completed, deferred) {
      const pending = announce(deferred);
      const later: Omit<IncrementalPayload, 'hasNext'>[] = [];
      for (const entry of incremental) {
        const place = placeOf.get(entry.id);
        const streams = cut(entry.data, place ?? []);
        pending.push(...streams.pending);
        later.push(...streams.later);
      }
      queue.push({ ...(pending.length > 0 ? { pending } : {}), incremental, completed }, ...later);
      notify();
    },
  };
  return {
    [Symbol.asyncIterator]() {
      let started = false;
      return {
        async next(): Promise<IteratorResult<IncrementalPayload>> {
          if (!started) {
            started = true;
            start(emit).catch((error: unknown) => {
              failure = error;
              notify();
            });
          }
          while (queue.length === 0) {
            if (failure !== undefined) {
              const error = failure;
              failure = undefined;
              throw error;
            }
            if (initialSent && running === 0) return { done: true, value: undefined };
            await new Promise<void>((resolve) => (wake = resolve));
          }
          const payload = queue.shift()!;
          return { done: false, value: { ...payload, hasNext: queue.length > 0 || running > 0 } };
        },
        async return(): Promise<IteratorResult<IncrementalPayload>> {
          queue.length = 0;
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/**
 * Makes sure shaped `data` reaches down a deferred block's path where the merged tree does: a field
 * whose selection is all deferred is in no subselection, yet the client needs it (`{}`, a list of
 * `{}`, or null) to put the deferred data in.
 */
function skeleton(data: Json, raw: unknown, path: string[]): void {
  if (path.length === 0 || raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
  const [key, ...rest] = path as [string, ...string[]];
  const value = (raw as Json)[key];
  if (data[key] === undefined) {
    if (value === undefined) return;
    data[key] = value === null ? null : Array.isArray(value) ? value.map((item) => (item === null ? null : Object.create(null))) : Object.create(null);
  }
  const shaped = data[key];
  if (Array.isArray(shaped) && Array.isArray(value)) shaped.forEach((item, i) => item && skeleton(item, value[i], rest));
  else if (shaped && typeof shaped === 'object') skeleton(shaped, value, rest);
}

/** The places (concrete paths, through every list) where a deferred block's path leads in shaped `data`. */
function placesOf(data: unknown, path: string[], base: Path = []): Omit<Place, 'id'>[] {
  const places: Omit<Place, 'id'>[] = [];
  const walk = (value: unknown, rest: string[], at: Path) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => walk(item, rest, [...at, i]));
      return;
    }
    if (typeof value !== 'object') return;
    if (rest.length === 0) {
      places.push({ path: at });
      return;
    }
    walk((value as Json)[rest[0]!], rest.slice(1), [...at, rest[0]!]);
  };
  walk(data, path, base);
  return places;
}

const startsWith = (path: readonly (string | number)[] | undefined, prefix: Path) => !!path && prefix.every((segment, i) => path[i] === segment);

function valueAt(data: unknown, path: Path): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Json)[segment as string];
  }
  return value;
}

/** The merged tree cut down to one place: the objects on its path (each list as its one item there), the place's object whole. */
function alongPath(fullResult: Json, path: Path): Json {
  const build = (value: unknown, rest: Path): unknown => {
    if (rest.length === 0 || value === null || value === undefined) return value;
    const [head, ...tail] = rest;
    if (typeof head === 'number') return Array.isArray(value) ? [build(value[head], tail)] : undefined;
    const object = value as Json;
    const out: Json = Object.create(null);
    if (object.__typename !== undefined) out.__typename = object.__typename;
    out[head!] = build(object[head!], tail);
    return out;
  };
  return build(fullResult, path) as Json;
}

/**
 * The operations that shape a `@defer` node's payloads, built once per node: the primary block's
 * selection, and for each deferred block (nested ones too) the fields on its path (with their
 * arguments and aliases, from the blocks before it) down to its selection.
 */
function deferShapes(options: ExecuteOptions, defer: DeferNode): DeferShapes {
  const known = shapes.get(defer);
  if (known) return known;
  const { operationContext, apiSchema } = options;
  const variableDefinitions = operationContext.operation.variableDefinitions ?? [];
  const toOperation = (selectionSet: SelectionSetNode) =>
    operationFromDocument(
      apiSchema,
      { kind: Kind.DOCUMENT, definitions: [{ kind: Kind.OPERATION_DEFINITION, operation: operationContext.operation.operation, variableDefinitions, selectionSet }] },
      { validate: false },
    );
  const selectionOf = (text: string) => (parse(`query ${text}`).definitions[0] as { selectionSet: SelectionSetNode }).selectionSet;
  const tree: Shape = { children: new Map() };
  const spread = new Set<object>();
  const graft = (shape: Shape, selectionSet: SelectionSetNode, typeCondition?: string) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        let entry = shape.children.get(key);
        if (!entry) shape.children.set(key, (entry = { field: selection, ...(typeCondition ? { typeCondition } : {}), shape: { children: new Map() } }));
        if (selection.selectionSet) graft(entry.shape, selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) graft(shape, selection.selectionSet, selection.typeCondition?.name.value ?? typeCondition);
      else {
        const fragment = operationContext.fragments[selection.name.value];
        if (fragment && !spread.has(fragment)) {
          spread.add(fragment);
          graft(shape, fragment.selectionSet, fragment.typeCondition.name.value);
          spread.delete(fragment);
        }
      }
    }
  };
  // The path to each deferred block is in the client's operation (not always in a subselection: a field whose selection is all deferred has none).
  graft(tree, operationContext.operation.selectionSet);
  const primarySelection = defer.primary.subselection ? selectionOf(defer.primary.subselection) : undefined;
  const result: DeferShapes = { primary: primarySelection ? toOperation(primarySelection) : undefined, deferred: new Map() };
  const visit = (deferred: DeferredNode) => {
    const nested = deferred.node?.kind === 'Defer' ? deferred.node : undefined;
    const text = deferred.subselection ?? nested?.primary.subselection;
    // A block whose fields are all deferred further has no selection of its own: its payload is the way to them.
    const selection = selectionOf(text ?? '{ __typename }');
    const path = deferred.queryPath.filter((segment) => !segment.startsWith('...'));
    // The path's fields from the tree, innermost last; the block's selection at the end.
    const entries: { field: FieldNode; typeCondition?: string }[] = [];
    let at: Shape | undefined = tree;
    for (const segment of path) {
      const entry: Shape['children'] extends Map<string, infer E> ? E | undefined : never = at?.children.get(segment);
      if (!entry) throw new Error(`deferred block at ${deferred.queryPath.join('/')}: no field ${segment} before it`);
      entries.push(entry);
      at = entry.shape;
    }
    let inner: SelectionSetNode = selection;
    for (const entry of [...entries].reverse()) {
      let node: SelectionNode = { ...entry.field, selectionSet: inner };
      if (entry.typeCondition) node = { kind: Kind.INLINE_FRAGMENT, typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: entry.typeCondition } }, selectionSet: { kind: Kind.SELECTION_SET, selections: [node] } };
      inner = { kind: Kind.SELECTION_SET, selections: [node] };
    }
    const keys = new Set<string>();
    const collect = (set: SelectionSetNode) => {
      for (const s of set.selections) {
        if (s.kind === Kind.FIELD) keys.add(s.alias?.value ?? s.name.value);
        else if (s.kind === Kind.INLINE_FRAGMENT) collect(s.selectionSet);
      }
    };
    if (text) collect(selection);
    result.deferred.set(deferred, { operation: toOperation(inner), keys, path });
    for (const child of nested?.deferred ?? []) visit(child);
  };
  for (const deferred of defer.deferred) visit(deferred);
  shapes.set(defer, result);
  return result;
}
