import { Supergraph } from '@apollo/federation-internals';
import { MapperKind, mapSchema, pruneSchema } from '@graphql-tools/utils';
import { Kind, parse, type ConstDirectiveNode, type GraphQLSchema } from 'graphql';

/**
 * A contract of a supergraph: its API schema with only the elements tagged `@tag(name: tag)`.
 * A tagged field is kept; a tagged type keeps all its fields; root fields must be tagged; types
 * no kept field reaches are dropped. The result is what a partner may see and query.
 */
export function buildContractSchema(supergraphSdl: string, tag: string): GraphQLSchema {
  const tagged = new Set<string>();
  const hasTag = (directives: readonly ConstDirectiveNode[] | undefined) =>
    directives?.some((d) => d.name.value === 'tag' && d.arguments?.some((a) => a.value.kind === Kind.STRING && a.value.value === tag)) ?? false;
  for (const definition of parse(supergraphSdl).definitions) {
    if (!('name' in definition) || !definition.name || !('directives' in definition)) continue;
    const typeName = definition.name.value;
    if (hasTag(definition.directives as readonly ConstDirectiveNode[])) tagged.add(typeName);
    if ('fields' in definition && definition.fields) {
      for (const field of definition.fields) {
        if (hasTag(field.directives)) tagged.add(`${typeName}.${field.name.value}`);
      }
    }
  }
  // With @defer and @stream, as the gateway serves them to everyone.
  const apiSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema({ includeDefer: true, includeStream: true });
  const keepField = (typeName: string, fieldName: string) => tagged.has(`${typeName}.${fieldName}`) || tagged.has(typeName);
  const filtered = mapSchema(apiSchema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => (keepField(typeName, fieldName) ? config : null),
    [MapperKind.INTERFACE_FIELD]: (config, fieldName, typeName) => (keepField(typeName, fieldName) ? config : null),
  });
  return pruneSchema(filtered);
}
