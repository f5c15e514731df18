import type { Plugin } from '@envelop/core';
import { getOperationAST, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/**
 * Documents compiled per schema and operation name. A document yoga parsed once is the same
 * object on every request; the keys are weak, so what is kept is bounded by yoga's own cache of
 * parsed documents (1,024, LRU) and goes when it does (docs/limits.md).
 */
const compiled = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, CompiledQuery | null>>>();

/**
 * Executes the queries whose root fields are all in `rootFields` (say `quote`) with a compiled
 * function (graphql-jit) instead of graphql-tools' interpreter: a 20-line quote's answer is about
 * 600 fields, each resolved, checked and completed one at a time by the interpreter (decision
 * 0050). Only a query (never a mutation or subscription) whose top-level selections are plain
 * fields of that list is compiled, once per document; whatever does not compile runs as before.
 * An answer with any error is thrown away and the operation runs again interpreted, so every
 * error (its message, locations, path, masking) is exactly the interpreter's; a query's resolvers
 * only read, so running it twice changes nothing but the time. Put it first among the plugins:
 * the ones after it (metrics, tracing) wrap what it sets.
 */
export function useCompiledQueries(rootFields: readonly string[]): Plugin {
  const allowed = new Set(rootFields);
  const compile = (schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): CompiledQuery | null => {
    let bySchema = compiled.get(schema);
    if (!bySchema) compiled.set(schema, (bySchema = new WeakMap()));
    let byName = bySchema.get(document);
    if (!byName) bySchema.set(document, (byName = new Map()));
    const key = operationName ?? '';
    const known = byName.get(key);
    if (known !== undefined) return known;
    let result: CompiledQuery | null = null;
    const operation = getOperationAST(document, operationName);
    const eligible = operation?.operation === 'query' && operation.selectionSet.selections.every((s) => s.kind === 'Field' && allowed.has(s.name.value));
    if (eligible) {
      try {
        const attempt = compileQuery(schema, document, operationName);
        if (isCompiledQuery(attempt)) result = attempt;
      } catch {
        result = null;
      }
    }
    byName.set(key, result);
    return result;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const query = compile(args.schema, args.document, args.operationName ?? undefined);
      if (!query) return;
      const interpreted = executeFn;
      setExecuteFn(async (executeArgs) => {
        const result = (await query.query(executeArgs.rootValue, executeArgs.contextValue, executeArgs.variableValues ?? {})) as ExecutionResult;
        return result.errors?.length ? interpreted(executeArgs) : result;
      });
    },
  };
}
