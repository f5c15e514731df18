/** `value` with every object's keys in sorted order, at every depth: equal data, equal JSON. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** JSON in which key order does not matter (what idempotency hashes and subscription groups key on). */
export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value));
