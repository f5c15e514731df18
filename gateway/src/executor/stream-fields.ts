import {
  getDirectiveValues,
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  visit,
  type DirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { INPUT_BOUNDS } from '../../../lib/input-bounds.js';

/** A list field the client asked to `@stream`: where it is (response names from the root), how many items come at once. */
export interface StreamField {
  /** Response names from the root joined by `.` (list indices left out), e.g. `product.variants`. */
  key: string;
  initialCount: number;
  label?: string;
}

const LABEL_LENGTH = INPUT_BOUNDS.maxLength['@defer(label:)']!;
const [MIN_INITIAL, MAX_INITIAL] = INPUT_BOUNDS.intRange['@stream(initialCount:)']!;

const withoutStream = new WeakMap<DocumentNode, DocumentNode>();
const incremental = new WeakSet<DocumentNode>();

/** Whether a document (as the client sent it) uses `@defer` or `@stream` (known once `stripStream` saw it). */
export const usesIncrementalDelivery = (document: DocumentNode) => incremental.has(document);

/**
 * The document with its `@stream` directives removed (the query planner does not know them: the
 * gateway streams the items of a list it has whole, in the response shaping), the same document
 * when it has none. Kept per document.
 */
export function stripStream(document: DocumentNode): DocumentNode {
  let stripped = withoutStream.get(document);
  if (!stripped) {
    let found = false;
    stripped = visit(document, {
      Directive: (node) => {
        if (node.name.value === 'defer') incremental.add(document);
        if (node.name.value !== 'stream') return undefined;
        found = true;
        incremental.add(document);
        return null;
      },
    });
    if (!found) stripped = document;
    withoutStream.set(document, stripped);
  }
  return stripped;
}

const badInput = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/**
 * The `@stream` fields of an operation (their `if` decided by the variables), and the checks
 * graphql-js 17 makes of `@defer`/`@stream` that graphql 16 does not: `@stream` only on a list
 * field, `initialCount` and `label` within their bounds (docs/limits.md), labels unique.
 */
export function streamFieldsOf(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown> | undefined,
): { streams: StreamField[] } | { error: GraphQLError } {
  const streamDirective = schema.getDirective('stream');
  const deferDirective = schema.getDirective('defer');
  const streams: StreamField[] = [];
  const labels = new Set<string>();
  const checkLabel = (label: unknown): GraphQLError | undefined => {
    if (typeof label !== 'string') return undefined;
    if (label.includes('\u0000')) return badInput('A @defer or @stream label may not contain U+0000.');
    if (label.length > LABEL_LENGTH) return badInput(`A @defer or @stream label may be at most ${LABEL_LENGTH} characters long.`);
    if (labels.has(label)) return badInput(`The label "${label}" is used by more than one @defer or @stream.`);
    labels.add(label);
    return undefined;
  };
  const deferLabel = (directives: readonly DirectiveNode[] | undefined): GraphQLError | undefined => {
    const node = directives?.find((d) => d.name.value === 'defer');
    if (!node || !deferDirective) return undefined;
    return checkLabel(getDirectiveValues(deferDirective, { directives: [node] }, variables)?.label);
  };
  const visited = new Set<string>();
  const walk = (selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, prefix: string): GraphQLError | undefined => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        const key = prefix ? `${prefix}.${name}` : name;
        const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined;
        const node = selection.directives?.find((d) => d.name.value === 'stream');
        if (node && streamDirective) {
          const values = getDirectiveValues(streamDirective, { directives: [node] }, variables) as { if?: boolean; initialCount?: number; label?: string } | undefined;
          if (values && values.if !== false) {
            if (!field || !isListType(getNullableType(field.type))) return badInput(`@stream is only for list fields; "${key}" is not a list.`);
            const initialCount = values.initialCount ?? 0;
            if (initialCount < MIN_INITIAL || initialCount > MAX_INITIAL) return badInput(`@stream(initialCount:) must be between ${MIN_INITIAL} and ${MAX_INITIAL}.`);
            const error = checkLabel(values.label);
            if (error) return error;
            streams.push({ key, initialCount, ...(values.label !== undefined ? { label: values.label } : {}) });
          }
        }
        if (selection.selectionSet) {
          const error = walk(selection.selectionSet, field ? getNamedType(field.type) : undefined, key);
          if (error) return error;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const error = deferLabel(selection.directives) ?? walk(selection.selectionSet, selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent, prefix);
        if (error) return error;
      } else {
        const fragment = fragments[selection.name.value];
        const error = deferLabel(selection.directives);
        if (error) return error;
        // A fragment spread twice at one place adds nothing new.
        const at = `${prefix}\n${selection.name.value}`;
        if (!fragment || visited.has(at)) continue;
        visited.add(at);
        const inner = walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), prefix);
        if (inner) return inner;
      }
    }
    return undefined;
  };
  const root = schema.getRootType(operation.operation) ?? undefined;
  const error = walk(operation.selectionSet, root, '');
  return error ? { error } : { streams };
}
