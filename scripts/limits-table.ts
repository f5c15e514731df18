import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { getNamedType, getNullableType, isInputObjectType, isIntrospectionType, isListType, isObjectType, type GraphQLInputType } from 'graphql';
import { intRangeOf, maxItemsOf, maxLengthOf } from '../lib/input-bounds.js';
import { extractScopes } from '../gateway/src/auth/scopes.js';

/**
 * Prints the rows of docs/limits.md's table of input bounds: every argument and input field of the
 * API schema with the bound lib/input-bounds.ts applies (`tsx scripts/limits-table.ts`).
 */
const root = join(__dirname, '..');
const fmt = (n: number) => n.toLocaleString('en-US');

/** The bound the code applies to one argument or input field, as docs/limits.md words it. */
function boundOf(coordinate: string, type: GraphQLInputType): string | undefined {
  const parts: string[] = [];
  const nullable = getNullableType(type);
  if (isListType(nullable)) parts.push(`at most ${fmt(maxItemsOf(coordinate))} items`);
  const named = getNamedType(type).name;
  if (named === 'String' || named === 'ID') parts.push(`at most ${fmt(maxLengthOf(coordinate))} characters, no NUL`);
  if (named === 'Int') parts.push(intRangeOf(coordinate).map(fmt).join(' to '));
  return parts.length > 0 ? parts.join('; each ') : undefined;
}

/** Every argument and input field a client can send, with its bound, sorted. */
export function limitsTableRows(): string[] {
  const schema = Supergraph.build(extractScopes(readFileSync(join(root, 'schema/supergraph.graphql'), 'utf8')).sdl).apiSchema().toGraphQLJSSchema({ includeDefer: true, includeStream: true });
  const rows: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type)) continue;
    if (isObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        for (const arg of field.args) {
          const coordinate = `${type.name}.${field.name}(${arg.name}:)`;
          const bound = boundOf(coordinate, arg.type);
          if (bound) rows.push(`| \`${coordinate}\` | \`${String(arg.type)}\` | ${bound} |`);
        }
      }
    }
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        const bound = boundOf(coordinate, field.type);
        if (bound) rows.push(`| \`${coordinate}\` | \`${String(field.type)}\` | ${bound} |`);
      }
    }
  }
  // The incremental delivery directives' arguments (the gateway checks them, gateway/src/executor/stream-fields.ts).
  for (const directive of schema.getDirectives()) {
    if (directive.name !== 'defer' && directive.name !== 'stream') continue;
    for (const arg of directive.args) {
      const coordinate = `@${directive.name}(${arg.name}:)`;
      const bound = boundOf(coordinate, arg.type);
      if (bound) rows.push(`| \`${coordinate}\` | \`${String(arg.type)}\` | ${bound} |`);
    }
  }
  return rows.sort();
}


if (process.argv[1]?.endsWith('limits-table.ts')) console.log(limitsTableRows().join('\n'));
