import type { GraphQLArmorConfig } from '@escape.tech/graphql-armor-types';

/**
 * Operation limits (graphql-armor), with defaults that every operation of the demo, GraphiQL's
 * introspection and the POS subscriptions pass, and that refuse abuse: a query 50 levels deep,
 * 1,000 aliases, a flood of directives or tokens, or a cost past 5,000.
 */
export function operationLimits(overrides: GraphQLArmorConfig = {}, production = false): GraphQLArmorConfig {
  return {
    maxDepth: { n: 12, ignoreIntrospection: true, ...overrides.maxDepth },
    maxAliases: { n: 30, ...overrides.maxAliases },
    maxDirectives: { n: 50, ...overrides.maxDirectives },
    maxTokens: { n: 5000, ...overrides.maxTokens },
    costLimit: { maxCost: 5000, ignoreIntrospection: true, ...overrides.costLimit },
    // Suggestions ("did you mean …") reveal fields a caller may not see: off in production.
    blockFieldSuggestion: { enabled: production, ...overrides.blockFieldSuggestion },
  };
}
