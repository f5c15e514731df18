import { decodeCursor, encodeCursor, pageSize, toConnection } from './pagination.js';

describe('cursor pagination', () => {
  it('round-trips cursors and refuses foreign ones', () => {
    expect(decodeCursor(encodeCursor('42'))).toBe('42');
    expect(decodeCursor(null)).toBeUndefined();
    expect(() => decodeCursor('bm9wZQ')).toThrow('after is not a valid cursor');
  });

  it('bounds the page size', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(100)).toBe(100);
    expect(() => pageSize(0)).toThrow();
    expect(() => pageSize(101)).toThrow();
  });

  it('builds a connection from one row more than the page', () => {
    const connection = toConnection(['a', 'b', 'c'], 2, (s) => s);
    expect(connection).toEqual({
      edges: [{ cursor: encodeCursor('a'), node: 'a' }, { cursor: encodeCursor('b'), node: 'b' }],
      pageInfo: { hasNextPage: true, endCursor: encodeCursor('b') },
    });
    expect(toConnection([], 2, (s: string) => s).pageInfo).toEqual({ hasNextPage: false, endCursor: null });
  });
});
