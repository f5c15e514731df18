/** A minimal GraphQL-over-HTTP client for scripts, tests and benchmarks. */
// The default data type is `any` on purpose: callers read the JSON they asked for, or name its type.
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface GraphQLResponse<D = Record<string, any>> {
  data?: D | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export async function graphqlRequest<D = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<D>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  try {
    return JSON.parse(text) as GraphQLResponse<D>;
  } catch {
    throw new Error(`${response.status} from ${url}: ${text.slice(0, 200)}`);
  }
}

/** Like `graphqlRequest`, but any error is thrown (for set-up steps that must succeed). */
export async function graphqlOk<D = Record<string, any>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<D> {
  const result = await graphqlRequest<D>(url, query, variables, headers);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors ?? result)}`);
  }
  return result.data;
}
