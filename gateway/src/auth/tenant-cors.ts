import type { TenantDirectory } from './tenant-directory.js';

/** Yoga's CORS: browsers may call from a tenant's own domains only (any origin without tenancy). */
export function tenantCors(directory: TenantDirectory | undefined) {
  return async (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !directory) return { origin: origin ?? '*' };
    const host = URL.canParse(origin) ? new URL(origin).hostname : '';
    const tenant = host ? await directory.byHost(host).catch(() => null) : null;
    // No CORS headers at all for anyone else (an empty list would mean "any origin").
    return tenant ? { origin, credentials: true } : (false as unknown as { origin: string[] });
  };
}

/**
 * CORS answers echo the caller's origin (with credentials), so a shared cache must key them by
 * `Origin`: every answer naming an allowed origin carries `Vary: Origin`.
 */
export function useVaryOrigin() {
  return {
    onResponse({ response }: { response: Response }) {
      if (!response.headers.has('access-control-allow-origin')) return;
      const vary = response.headers.get('vary');
      if (vary && /(^|,)\s*(origin|\*)\s*(,|$)/i.test(vary)) return;
      try {
        response.headers.append('vary', 'Origin');
      } catch {
        // A response with immutable headers (proxied as received) keeps them.
      }
    },
  };
}
