import { badInput } from '../errors.js';

/** Relay cursor pagination over a stable sort key (opaque base64 cursors). */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount?: number;
}

export const DEFAULT_PAGE = 20;
export const MAX_PAGE = 100;

export function encodeCursor(key: string): string {
  return Buffer.from(`c:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith('c:')) throw badInput('after is not a valid cursor', 'after');
  return text.slice(2);
}

/** Validates `first` (1..100, default 20). */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) {
    throw badInput(`first must be between 1 and ${MAX_PAGE}`, 'first');
  }
  return first;
}

/** Builds a connection from `limit + 1` rows fetched after the cursor. */
export function toConnection<T>(rows: T[], limit: number, keyOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > limit, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
