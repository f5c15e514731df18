import {
  GraphQLError,
  Kind,
  TypeInfo,
  getNamedType,
  parse,
  print,
  visit,
  visitWithTypeInfo,
  type ConstDirectiveNode,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

const SCOPES_SPEC = 'https://specs.apollo.dev/requiresScopes/';

/** `Type.field` (or `Type`) → the scope sets of which the caller must hold one in full. */
export type ScopeRules = Map<string, string[][]>;

function scopesOf(directives: readonly ConstDirectiveNode[] | undefined): string[][] | undefined {
  const directive = directives?.find((d) => d.name.value === 'requiresScopes');
  const arg = directive?.arguments?.find((a) => a.name.value === 'scopes');
  if (!arg || arg.value.kind !== Kind.LIST) return undefined;
  return arg.value.values.map((set) => (set.kind === Kind.LIST ? set.values.map((v) => (v.kind === Kind.STRING ? v.value : '')) : []));
}

/**
 * Reads `@requiresScopes` from a supergraph and returns the rules together with the supergraph
 * without them: `@apollo/gateway` refuses SECURITY features it does not implement, and this
 * gateway enforces these itself (see `checkScopes`).
 */
export function extractScopes(supergraphSdl: string): { sdl: string; rules: ScopeRules } {
  const rules: ScopeRules = new Map();
  const document = parse(supergraphSdl);
  if (!supergraphSdl.includes(SCOPES_SPEC)) return { sdl: supergraphSdl, rules };
  let typeName = '';
  const stripped = visit(document, {
    SchemaDefinition: (node) => ({
      ...node,
      directives: node.directives?.filter(
        (d) => !(d.name.value === 'link' && d.arguments?.some((a) => a.value.kind === Kind.STRING && a.value.value.startsWith(SCOPES_SPEC))),
      ),
    }),
    DirectiveDefinition: (node) => (node.name.value === 'requiresScopes' ? null : undefined),
    ScalarTypeDefinition: (node) => (node.name.value === 'requiresScopes__Scope' ? null : undefined),
    ObjectTypeDefinition: {
      enter(node) {
        typeName = node.name.value;
        const scopes = scopesOf(node.directives);
        if (scopes) rules.set(typeName, scopes);
      },
    },
    InterfaceTypeDefinition: { enter: (node) => void (typeName = node.name.value) },
    FieldDefinition(node) {
      const scopes = scopesOf(node.directives);
      if (scopes) rules.set(`${typeName}.${node.name.value}`, scopes);
    },
    Directive: (node) => (node.name.value === 'requiresScopes' ? null : undefined),
  });
  return { sdl: print(stripped as DocumentNode), rules };
}

/**
 * FORBIDDEN errors for every field (or type) of the operation that the caller's roles do not
 * open. A field with no rule is open to every caller that reached the gateway.
 */
export function checkScopes(schema: GraphQLSchema, rules: ScopeRules, document: DocumentNode, roles: readonly string[]): GraphQLError[] {
  if (rules.size === 0) return [];
  // What passed once passes again: the same schema, rules, document (the parser's cache gives a
  // repeated query the same one) and roles. Refusals are built anew each time (their errors).
  let byDocument = passed.get(schema)?.get(rules);
  if (!byDocument) {
    let byRules = passed.get(schema);
    if (!byRules) passed.set(schema, (byRules = new WeakMap()));
    byRules.set(rules, (byDocument = new WeakMap()));
  }
  const rolesKey = roles.join(',');
  const passedRoles = byDocument.get(document);
  if (passedRoles?.has(rolesKey)) return [];
  const errors = walkScopes(schema, rules, document, roles);
  if (errors.length === 0) {
    if (passedRoles) passedRoles.add(rolesKey);
    else byDocument.set(document, new Set([rolesKey]));
  }
  return errors;
}

/** The role sets (joined) each document passed with, by schema and rules. */
const passed = new WeakMap<GraphQLSchema, WeakMap<ScopeRules, WeakMap<DocumentNode, Set<string>>>>();

function walkScopes(schema: GraphQLSchema, rules: ScopeRules, document: DocumentNode, roles: readonly string[]): GraphQLError[] {
  const errors: GraphQLError[] = [];
  const allowed = (sets: string[][] | undefined) => !sets || sets.some((set) => set.every((scope) => roles.includes(scope)));
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const fieldType = typeInfo.getType();
        if (!parent) return;
        const fieldRule = rules.get(`${parent.name}.${node.name.value}`);
        const typeRule = fieldType ? rules.get(getNamedType(fieldType).name) : undefined;
        if (!allowed(fieldRule) || !allowed(typeRule)) {
          const needed = [...(fieldRule ?? []), ...(typeRule ?? [])].map((set) => set.join('+')).join(' or ');
          errors.push(
            new GraphQLError(`${parent.name}.${node.name.value} needs the role ${needed}.`, {
              nodes: [node],
              extensions: { code: roles.length === 0 ? 'UNAUTHENTICATED' : 'FORBIDDEN' },
            }),
          );
        }
      },
    }),
  );
  return errors;
}
