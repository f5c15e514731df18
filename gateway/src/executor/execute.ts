import type { OperationContext } from '@apollo/gateway/dist/operationContext.js';
import { applyRewrites, isObjectOfType } from '@apollo/gateway/dist/dataRewrites.js';
import { deepMerge } from '@apollo/gateway/dist/utilities/deepMerge.js';
import { defineOwn } from '@apollo/gateway/dist/utilities/own.js';
import { isObject } from '@apollo/gateway/dist/utilities/predicates.js';
import { OpenTelemetrySpanNames, tracer } from '@apollo/gateway/dist/utilities/opentelemetry.js';
import { ERRORS, errorCodeDef, Operation, operationFromDocument, type Schema } from '@apollo/federation-internals';
import { evaluateCondition, getResponseName, type FetchNode, type PlanNode, type QueryPlan, type QueryPlanSelectionNode, type ResponsePath } from '@apollo/query-planner';
import { executeSync, GraphQLError, Kind, TypeNameMetaFieldDef, visit, type ExecutionResult, type FieldNode, type GraphQLFormattedError, type GraphQLSchema, type VariableDefinitionNode } from 'graphql';
import { scheduleOf, type Group, type Schedule, type Step } from './schedule.js';
import { computeResponseCompiled } from './shaping.js';

// Bound once: bundled (scripts/launch.cjs), each use of an imported binding is a getter call, and
// these are used for every entity and every merged value of every request.
const FIELD = Kind.FIELD;
const INLINE_FRAGMENT = Kind.INLINE_FRAGMENT;
const TYPENAME = TypeNameMetaFieldDef.name;
const responseNameOf = getResponseName;
const ofType = isObjectOfType;
const merge = deepMerge;
const rewrite = applyRewrites;
const own = defineOwn;
const objectLike = isObject;

/** A subgraph's answer to one request, as it sent it. */
export interface SubgraphResponse {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * Sends one operation to a subgraph for the client request (signed for its caller, shared with
 * identical requests in flight). Throws when the subgraph cannot be reached.
 */
export type SendToSubgraph = (
  service: string,
  request: { query: string; variables: Record<string, unknown>; operationName: string | undefined },
  path: ResponsePath,
) => Promise<SubgraphResponse>;

export interface ExecuteOptions {
  plan: QueryPlan;
  operationContext: OperationContext;
  variables: Record<string, unknown> | undefined;
  supergraphSchema: GraphQLSchema;
  apiSchema: Schema;
  send: SendToSubgraph;
  /** Counts the requests sent to subgraphs (the bench and the subscription hub report it). */
  onRequest?: (service: string) => void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response data of any shape, read and merged in place
export type Json = Record<string, any>;

export interface Run {
  fullResult: Json;
  errors: GraphQLError[];
  variables: Record<string, unknown> | undefined;
  supergraphSchema: GraphQLSchema;
  send: SendToSubgraph;
  onRequest?: (service: string) => void;
}

const operations = new WeakMap<object, Operation>();

/**
 * Runs a query plan of Apollo's query planner. The same answer as Apollo's `executeQueryPlan`
 * (its result shaping does the last step, so nullability and errors are Apollo's), with fewer
 * subgraph requests: entity fetches to one subgraph at one level of the plan go as one request,
 * each entity's representation sent once, and each group starts as soon as the groups it needs
 * have finished. Results are merged into one tree in place.
 *
 * A subgraph answer shared with other requests (identical fetches in flight together) is parsed
 * once and frozen (`SubgraphDataSource.send`): it goes into this request's tree as it is, and a
 * frozen object is copied (shallowly, keeping its frozen children) only where this request must
 * write into it: on the way to the entities of a later fetch, and where a merge meets it.
 */
export async function executePlan(options: ExecuteOptions): Promise<ExecutionResult> {
  const operation = operationOf(options);
  if (!(operation instanceof Operation)) return operation;
  const schedule = scheduleOf(options.plan, conditionsOf(operation, options.variables));
  const run = newRun(options, Object.create(null));
  await runSchedule(run, schedule);
  return shape(options, operation, run.fullResult, run.errors);
}

/** The client's operation over the API schema (for result shaping), built once per document. */
export function operationOf(options: Pick<ExecuteOptions, 'operationContext' | 'apiSchema'>): Operation | ExecutionResult {
  const { operationContext, apiSchema } = options;
  let operation = operations.get(operationContext.operation);
  if (!operation) {
    try {
      operation = operationFromDocument(
        apiSchema,
        { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...Object.values(operationContext.fragments)] },
        { validate: false },
      );
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      throw error;
    }
    operations.set(operationContext.operation, operation);
  }
  return operation;
}

/** Decides each Condition node of a plan from the client's variables. */
export const conditionsOf = (operation: Operation, variables: Record<string, unknown> | undefined) => (node: Extract<PlanNode, { kind: 'Condition' }>) =>
  evaluateCondition(node, operation.variableDefinitions, variables);

/** What one run of (part of) a plan fills: the response tree (shared by the blocks of a deferred plan), its errors. */
export function newRun(options: ExecuteOptions, fullResult: Json): Run {
  return { fullResult, errors: [], variables: options.variables, supergraphSchema: options.supergraphSchema, send: options.send, onRequest: options.onRequest };
}

/** Runs a schedule's groups, each as soon as the groups it needs have finished. */
export async function runSchedule(run: Run, schedule: Schedule): Promise<void> {
  const done = new Map<Group, Promise<void>>();
  for (const group of schedule.groups) {
    const after = group.deps.map((dep) => done.get(dep)!);
    done.set(group, (after.length === 0 ? Promise.resolve() : Promise.all(after)).then(() => runGroup(run, group)));
  }
  await Promise.all(done.values());
}

/**
 * The client's answer from the merged tree: Apollo's result shaping of `operation` (nullability,
 * aliases, `__typename`, introspection), the subgraphs' `errors`, else `valueCompletion`.
 */
export function shape(options: Pick<ExecuteOptions, 'operationContext' | 'variables'>, operation: Operation, input: Json, errors: GraphQLError[]): ExecutionResult {
  const { operationContext, variables } = options;
  return tracer.startActiveSpan(OpenTelemetrySpanNames.POST_PROCESSING, (span) => {
    try {
      const { data, errors: postProcessingErrors } = computeResponseCompiled({
        operation,
        variables,
        input,
        introspectionHandling: (field) =>
          executeIntrospection(operationContext.schema, field.expandFragments().toSelectionNode(), operationContext.operation.variableDefinitions, variables),
      });
      if (errors.length === 0 && postProcessingErrors.length > 0) return { extensions: { valueCompletion: postProcessingErrors }, data } as ExecutionResult;
      return errors.length === 0 ? { data } : { errors, data };
    } catch (error) {
      if (error instanceof GraphQLError) return { errors: [error] };
      return { errors: [new GraphQLError((error as Error).message ?? 'Unexpected error during query plan execution', { originalError: error as Error })] };
    } finally {
      span.end();
    }
  });
}

/** What one step of a group asks: its entities, their representations (each sent once). */
interface Prepared {
  step: Step;
  path: ResponsePath;
  entities: Json[];
  /** Representations as sent (distinct). */
  representations: Json[];
  /** For each entity with a representation: its index in `entities` and in `representations`. */
  entityOf: number[];
  sentAs: number[];
}

async function runGroup(run: Run, group: Group): Promise<void> {
  const prepared: Prepared[] = [];
  for (const step of group.steps) {
    try {
      const ready = prepare(run, step);
      if (ready) prepared.push(ready);
    } catch (error) {
      run.errors.push(error as GraphQLError);
    }
  }
  if (prepared.length === 0) return;
  await tracer.startActiveSpan(OpenTelemetrySpanNames.FETCH, { attributes: { service: group.service } }, async (span) => {
    try {
      if (prepared.length === 1 || !group.merged) {
        await Promise.all(prepared.map((one) => sendOne(run, group.service, one)));
      } else await sendMerged(run, group, prepared);
    } finally {
      span.end();
    }
  });
}

function prepare(run: Run, step: Step): Prepared | null {
  const data = flattenResultsAtPath(run.fullResult, step.path);
  // The entities are merged into: they, and everything on the way to them, must be this run's.
  if (data === undefined || data === null) return null;
  const entities: Json[] = Array.isArray(data) ? data.filter((e) => e !== null && e !== undefined) : [data];
  if (entities.length < 1) return null;
  const { requires } = step.fetch;
  if (!requires) return { step, path: step.path, entities, representations: [], entityOf: [], sentAs: [] };
  const representations: Json[] = [];
  const entityOf: number[] = [];
  const sentAs: number[] = [];
  const seen = new Map<string, number>();
  entities.forEach((entity, index) => {
    const representation = executeSelectionSet(run.supergraphSchema, entity, requires);
    if (representation && representation[TYPENAME]) {
      rewrite(run.supergraphSchema, step.fetch.inputRewrites, representation);
      const key = representationKey(representation);
      let at = seen.get(key);
      if (at === undefined) {
        seen.set(key, (at = representations.length));
        representations.push(representation);
      }
      entityOf.push(index);
      sentAs.push(at);
    }
  });
  if (entityOf.length < 1) return null;
  return { step, path: step.path, entities, representations, entityOf, sentAs };
}

/**
 * Equal representations get equal keys: for the usual flat ones (`__typename` and key fields of
 * scalar values) the fields joined with each value's type, else the JSON text.
 */
function representationKey(representation: Json): string {
  let key = '';
  for (const name in representation) {
    const value = representation[name];
    const type = typeof value;
    if (value !== null && type === 'object') return JSON.stringify(representation);
    const text = String(value);
    // Lengths first: no value can pass for the end of a field and the start of the next.
    key += `${name.length}:${name}${type[0]}${text.length}:${text}`;
  }
  return key;
}

function variablesFor(run: Run, fetch: FetchNode, into: Json = Object.create(null)): Json {
  const provided = run.variables;
  if (fetch.variableUsages && provided) {
    for (const name of fetch.variableUsages) {
      if (Object.prototype.hasOwnProperty.call(provided, name) && provided[name] !== undefined) into[name] = provided[name];
    }
  }
  return into;
}

async function sendOne(run: Run, service: string, one: Prepared): Promise<void> {
  const { fetch } = one.step;
  try {
    const variables = variablesFor(run, fetch);
    if (fetch.requires && 'representations' in variables) throw new Error('Variables cannot contain key "representations"');
    if (fetch.requires) variables.representations = one.representations;
    run.onRequest?.(service);
    const response = await run.send(service, { query: fetch.operation, variables, operationName: fetch.operationName }, one.path);
    if (response.errors) run.errors.push(...response.errors.flatMap((error) => downstreamErrors(run, one, error, error.path)));
    mergeInto(run, one, response.data, '_entities');
  } catch (error) {
    run.errors.push(error as GraphQLError);
  }
}

async function sendMerged(run: Run, group: Group, prepared: Prepared[]): Promise<void> {
  const index = new Map(prepared.map((one) => [one.step, group.steps.indexOf(one.step)]));
  const variables: Json = Object.create(null);
  for (const one of prepared) {
    variablesFor(run, one.step.fetch, variables);
    variables[`_r${index.get(one.step)}`] = one.representations;
  }
  // Steps without entities this time still have their alias in the operation: an empty list.
  for (let i = 0; i < group.steps.length; i++) if (!(`_r${i}` in variables)) variables[`_r${i}`] = [];
  let response: SubgraphResponse;
  try {
    run.onRequest?.(group.service);
    response = await run.send(group.service, { query: group.merged!.query, variables, operationName: group.merged!.operationName }, prepared[0]!.path);
  } catch (error) {
    // Each fetch would have failed on its own: one error each, as Apollo reports them.
    for (let i = 0; i < prepared.length; i++) run.errors.push(error as GraphQLError);
    return;
  }
  const byStep = new Map(prepared.map((one) => [index.get(one.step)!, one]));
  for (const error of response.errors ?? []) {
    const head = error.path?.[0];
    const match = typeof head === 'string' ? /^_e(\d+)$/.exec(head) : null;
    const owner = match ? byStep.get(Number(match[1])) : undefined;
    if (owner) run.errors.push(...downstreamErrors(run, owner, error, ['_entities', ...error.path!.slice(1)]));
    // Not about one fetch's entities (the whole request failed): each fetch reports it.
    else for (const one of prepared) run.errors.push(...downstreamErrors(run, one, error, error.path));
  }
  for (const one of prepared) {
    try {
      mergeInto(run, one, response.data, `_e${index.get(one.step)}`);
    } catch (error) {
      run.errors.push(error as GraphQLError);
    }
  }
}

/** Puts what a subgraph answered for one fetch into the entities it was asked about (in place). */
function mergeInto(run: Run, one: Prepared, data: Json | null | undefined, field: string): void {
  const { fetch } = one.step;
  if (!fetch.requires) {
    if (data && fetch.outputRewrites?.length) applyRewrites(run.supergraphSchema, fetch.outputRewrites, (data = writable(data)));
    for (const entity of one.entities) mergeOwned(entity, data);
    return;
  }
  if (!data) return;
  const received = data[field] as Json[] | undefined;
  if (!(received && Array.isArray(received))) throw new Error('Expected "data._entities" in response to be an array');
  if (received.length !== one.representations.length) throw new Error(`Expected "data._entities" to contain ${one.entityOf.length} elements`);
  for (let i = 0; i < one.entityOf.length; i++) {
    const entity = one.entities[one.entityOf[i]!]!;
    let answer = received[one.sentAs[i]!] as Json | null | undefined;
    if (answer && !answer.__typename) {
      if (Object.isFrozen(answer)) answer = { ...answer };
      answer.__typename = entity.__typename;
    }
    if (fetch.outputRewrites?.length && answer) applyRewrites(run.supergraphSchema, fetch.outputRewrites, (answer = writable(answer)));
    mergeOwned(entity, answer);
  }
}

/**
 * Apollo's `deepMerge` into a tree of this run's, where the source may be frozen (shared with
 * other requests): the source's objects go into the tree as they are, and a frozen object of the
 * tree is replaced by a shallow copy before anything is merged into it. The same result as
 * `deepMerge` (the same cases, the same order of keys).
 */
function mergeOwned(target: Json, source: Json | null | undefined): void {
  if (source === undefined || source === null) return;
  // for-in, not Object.keys (an array per merged object): sources are parsed JSON or copies of it,
  // with nothing enumerable inherited.
  for (const key in source) {
    const from = source[key];
    if (from === undefined) continue;
    own(target, key);
    const to = target[key];
    if (to && objectLike(from)) mergeOwned(ownAt(target, key) as Json, from);
    else if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
      const list = ownAt(target, key) as unknown[];
      for (let i = 0; i < from.length; i++) {
        if (objectLike(list[i]) && objectLike(from[i])) mergeOwned(ownAt(list, i) as Json, from[i]);
        else list[i] = from[i];
      }
    } else target[key] = from;
  }
}

/** `parent[key]`, made this run's: a frozen object or list (a shared answer) replaced in `parent` by a shallow copy. */
function ownAt(parent: Json | unknown[], key: string | number): unknown {
  const value = (parent as Json)[key];
  if (value === null || typeof value !== 'object' || !Object.isFrozen(value)) return value;
  const copy = Array.isArray(value) ? value.slice() : { ...value };
  (parent as Json)[key] = copy;
  return copy;
}

/** A value that may be written to throughout (for rewrites, which reach anywhere): frozen parts copied. */
function writable<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const list = Object.isFrozen(value) ? value.slice() : value;
    for (let i = 0; i < list.length; i++) list[i] = writable(list[i]);
    return list as T;
  }
  const object = (Object.isFrozen(value) ? { ...value } : value) as Json;
  for (const key of Object.keys(object)) object[key] = writable(object[key]);
  return object as T;
}

/**
 * A subgraph error as Apollo reports it: its path in the client's response (an entity's error
 * once for each entity that was sent as that representation), `serviceName`, its code.
 */
function downstreamErrors(run: Run, one: Prepared, error: GraphQLFormattedError, errorPath: readonly (string | number)[] | undefined): GraphQLError[] {
  if (one.step.fetch.requires && typeof errorPath?.[1] === 'number') {
    const hydrated = hydratedPaths(run, one);
    const sent = errorPath[1];
    const paths: (string | number)[][] = [];
    for (let i = 0; i < one.sentAs.length; i++) if (one.sentAs[i] === sent) paths.push([...(hydrated[i] ?? []), ...errorPath.slice(2)]);
    return paths.map((path) => downstreamServiceError(error, one.step.fetch.serviceName, path));
  }
  return [downstreamServiceError(error, one.step.fetch.serviceName, errorPath ? [...one.path, ...errorPath] : undefined)];
}

function hydratedPaths(run: Run, one: Prepared): (string | number)[][] {
  const result: (string | number)[][] = [];
  generateHydratedPaths([], one.path, run.fullResult, result);
  return result;
}

function generateHydratedPaths(parent: (string | number)[], path: ResponsePath, data: unknown, result: (string | number)[][]): void {
  const head = path[0];
  if (data === null || data === undefined) return;
  if (head === undefined) result.push(parent.slice());
  else if (head === '@') {
    (data as unknown[]).forEach((value, i) => {
      parent.push(i);
      generateHydratedPaths(parent, path.slice(1), value, result);
      parent.pop();
    });
  } else if (Array.isArray(data)) {
    data.forEach((value, i) => {
      parent.push(i);
      generateHydratedPaths(parent, path, value, result);
      parent.pop();
    });
  } else if (Object.prototype.hasOwnProperty.call(data, head)) {
    parent.push(head);
    generateHydratedPaths(parent, path.slice(1), (data as Json)[head as string], result);
    parent.pop();
  }
}

function downstreamServiceError(original: GraphQLFormattedError, serviceName: string, path: readonly (string | number)[] | undefined): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const options = { originalError: original as Error, path, extensions: { ...original.extensions, serviceName } };
  const codeDef = errorCodeDef(original as never);
  if (!codeDef && original.extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

/**
 * Apollo's `flattenResultsAtPath` without its copies: the entities at `path` (every element of a
 * list at `@`), gathered into one array as the path is walked instead of a slice and a flatMap per
 * step. Everything on the way and the entities themselves are made the run's (`ownAt`): a later
 * fetch's answer is merged into them.
 */
function flattenResultsAtPath(value: unknown, path: ResponsePath): unknown {
  const at = path.indexOf('@');
  if (at < 0) {
    const found = walk(value, path, 0, path.length);
    if (Array.isArray(found)) for (let i = 0; i < found.length; i++) ownAt(found, i);
    return found;
  }
  const list = walk(value, path, 0, at);
  if (list === undefined || list === null) return list;
  const out: unknown[] = [];
  gather(list, path, at, out);
  return out;
}

/** Follows the field names of `path` from `from` to `to` (no `@` among them). */
function walk(value: unknown, path: ResponsePath, from: number, to: number): unknown {
  for (let i = from; i < to; i++) {
    if (value === undefined || value === null) return value;
    if (Array.isArray(value)) throw new Error(`Unexpected array in result for path element ${String(path[i])}`);
    const name = path[i] as string;
    value = Object.prototype.hasOwnProperty.call(value, name) ? ownAt(value as Json, name) : undefined;
  }
  return value;
}

/** `list` is what stands at `path[at]` (an `@`): what each element has at the rest of the path, flattened into `out`. */
function gather(list: unknown, path: ResponsePath, at: number, out: unknown[]): void {
  if (list === undefined || list === null) return void out.push(list);
  const next = path.indexOf('@', at + 1);
  const end = next < 0 ? path.length : next;
  const elements = list as unknown[];
  for (let i = 0; i < elements.length; i++) {
    const value = walk(ownAt(elements, i), path, at + 1, end);
    if (next < 0) {
      if (Array.isArray(value)) for (let j = 0; j < value.length; j++) out.push(ownAt(value, j));
      else out.push(value);
    } else gather(value, path, next, out);
  }
}

/**
 * Apollo's representation of an entity (`executeSelectionSet` of its executor). The object is a
 * plain one, not Apollo's `Object.create(null)`: its keys are the planner's (schema field names,
 * never `__proto__`), and a prototype-less object is a dictionary in V8, about three times the
 * memory and several times the time to build (the largest allocation per request at 50
 * connections, kept while the fetch is in flight).
 */
function executeSelectionSet(schema: GraphQLSchema, source: Json | null, selections: readonly QueryPlanSelectionNode[]): Json | null {
  if (source === null) return null;
  const result: Json = {};
  for (const selection of selections) {
    if (selection.kind === FIELD) {
      const name = responseNameOf(selection);
      const inner = selection.selections;
      if (!Object.prototype.hasOwnProperty.call(source, name) || source[name] === undefined) return null;
      const value = source[name];
      if (Array.isArray(value)) result[name] = value.map((item) => (inner ? executeSelectionSet(schema, item, inner) : item));
      else result[name] = inner ? executeSelectionSet(schema, value, inner) : value;
    } else if (selection.kind === INLINE_FRAGMENT) {
      if (!selection.typeCondition || !source) continue;
      if (ofType(schema, source, selection.typeCondition)) merge(result, executeSelectionSet(schema, source, selection.selections));
    }
  }
  return result;
}

function executeIntrospection(
  schema: GraphQLSchema,
  selection: FieldNode,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
  variableValues: Record<string, unknown> | undefined,
): unknown {
  const used = new Set<string>();
  visit(selection, { Variable: ({ name }) => void used.add(name.value) });
  const { data, errors } = executeSync({
    schema,
    document: {
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: 'query' as never,
          variableDefinitions: variableDefinitions?.filter((d) => used.has(d.variable.name.value)),
          selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] },
        },
      ],
    },
    rootValue: {},
    variableValues,
  });
  if (errors?.length || !data) throw new Error(`Introspection query should not have failed but got ${JSON.stringify(errors)}`);
  return data[selection.alias?.value ?? selection.name.value];
}
