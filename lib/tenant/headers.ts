/** Headers by which the gateway tells a subgraph whom a request is for. Clients never set them. */
export const TENANT_HEADER = 'x-commerce-tenant';
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a subgraph knows of the caller. */
export interface RequestContext {
  tenantId: string | undefined;
  requestId: string;
}

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(source: HeaderSource, name: string): string | undefined {
  if (typeof (source as { get?: unknown }).get === 'function') {
    return (source as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const value = (source as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

export function readRequestContext(headers: HeaderSource): RequestContext {
  return {
    tenantId: header(headers, TENANT_HEADER) || undefined,
    requestId: header(headers, REQUEST_ID_HEADER) || crypto.randomUUID(),
  };
}
