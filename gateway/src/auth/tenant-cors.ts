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
