/**
 * The two formats of incremental delivery (`@defer`, `@stream`) over `multipart/mixed` that
 * Apollo Client 4 reads, each asked for by its own media type parameter:
 * - `2022-08-24`: `Defer20220824Handler` sends `multipart/mixed;deferSpec=20220824`
 *   (`incremental: [{ data | items, path, label }]`, `hasNext`);
 * - `alpha9`: `GraphQL17Alpha9Handler` sends `multipart/mixed;incrementalSpec=v0.2`
 *   (`pending`, `incremental: [{ id, data | items }]`, `completed`, `hasNext`).
 */
export type IncrementalFormat = '2022-08-24' | 'alpha9';

/**
 * The format a request's Accept header asks for, the first it names: `incrementalSpec=v0.2`,
 * `deferSpec=20220824`, or a bare `multipart/mixed` (the 2022-08-24 format, which clients of that
 * time read). Undefined when it takes no multipart incremental result (then the whole result comes
 * at once, as JSON); `subscriptionSpec` alone is the multipart subscription protocol, not this.
 */
export function incrementalFormat(accept: string | null | undefined): IncrementalFormat | undefined {
  for (const type of (accept ?? '').split(',')) {
    const [media, ...params] = type.toLowerCase().replace(/[\s"']/g, '').split(';');
    if (media !== 'multipart/mixed') continue;
    if (params.includes('incrementalspec=v0.2')) return 'alpha9';
    if (params.includes('deferspec=20220824')) return '2022-08-24';
    if (!params.some((p) => p.startsWith('subscriptionspec=') || p.startsWith('incrementalspec=') || p.startsWith('deferspec='))) return '2022-08-24';
  }
  return undefined;
}
