import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { MAX_PAGE } from '../../../lib/graphql/pagination.js';

/**
 * `first` outside 1–100 is BAD_USER_INPUT with the subgraphs' own message, already at the
 * gateway: otherwise the cost limit, which multiplies by `first`, refuses `first: 500` first with
 * a message about cost. Registered before the operation limits, whose rules it precedes.
 */
export function usePageSizeBounds(): Plugin {
  const rule = () => ({
    Document(document: DocumentNode) {
      visit(document, {
        Argument(argument) {
          if (argument.name.value !== 'first' || argument.value.kind !== Kind.INT) return;
          const first = Number(argument.value.value);
          if (first < 1 || first > MAX_PAGE) {
            throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}`, { nodes: argument, extensions: { code: 'BAD_USER_INPUT', field: 'first' } });
          }
        },
      });
    },
  });
  return { onValidate: ({ addValidationRule }) => addValidationRule(rule) };
}
