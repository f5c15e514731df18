import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { createMemoryPersistedQueryStore, createRedisPersistedQueryStore } from '../../gateway/src/persisted-queries/persisted-query-store.js';

describe('persisted query store', () => {
  it('keeps each tenant within its count and bytes, least recently used out first', async () => {
    const store = createMemoryPersistedQueryStore({ maxDocumentsPerTenant: 3, maxBytesPerTenant: 1_000, maxBytesInMemory: 10_000 });
    for (const hash of ['a', 'b', 'c']) await store.set('t1', hash, `{ ${hash} }`);
    expect(await store.get('t1', 'a')).toBe('{ a }'); // a is now the most recent
    await store.set('t1', 'd', '{ d }');
    expect(await store.get('t1', 'b')).toBeUndefined();
    expect(await store.get('t1', 'a')).toBe('{ a }');
    expect(await store.get('t2', 'a')).toBeUndefined();
    await store.set('t1', 'big', 'x'.repeat(996));
    expect(store.stats()).toEqual({ scopes: 1, documents: 1, bytes: 996 });
  });

  it('keeps all tenants within the memory bound, the least recently used tenant giving up first', async () => {
    const store = createMemoryPersistedQueryStore({ maxDocumentsPerTenant: 100, maxBytesPerTenant: 1_000, maxBytesInMemory: 1_500 });
    await store.set('old', 'a', 'x'.repeat(800));
    await store.set('new', 'b', 'y'.repeat(800));
    expect(await store.get('old', 'a')).toBeUndefined();
    expect(await store.get('new', 'b')).toBe('y'.repeat(800));
    expect(store.stats().bytes).toBe(800);
  });

  (process.env.REDIS_URL ? it : it.skip)('shares documents through Redis within the same bounds', async () => {
    const prefix = `apq-test:${randomBytes(4).toString('hex')}`;
    const bounds = { maxDocumentsPerTenant: 2, maxBytesPerTenant: 1_000 };
    const one = await createRedisPersistedQueryStore(process.env.REDIS_URL!, { prefix, bounds });
    const two = await createRedisPersistedQueryStore(process.env.REDIS_URL!, { prefix, bounds });
    const redis = createClient({ url: process.env.REDIS_URL! });
    await redis.connect();
    try {
      await one.set('t1', 'a', '{ a }');
      expect(await two.get('t1', 'a')).toBe('{ a }');
      expect(await two.get('t2', 'a')).toBeUndefined();
      await one.set('t1', 'b', '{ b }');
      await one.set('t1', 'c', '{ c }');
      expect(await redis.hKeys(`${prefix}:{t1}:documents`)).toEqual(expect.arrayContaining(['b', 'c']));
      expect(await redis.hLen(`${prefix}:{t1}:documents`)).toBe(2);
      await one.set('t1', 'd', 'x'.repeat(996));
      expect(await redis.hKeys(`${prefix}:{t1}:documents`)).toEqual(['d']);
      expect(Number(await redis.get(`${prefix}:{t1}:bytes`))).toBe(996);
    } finally {
      await redis.del([`${prefix}:{t1}:documents`, `${prefix}:{t1}:used`, `${prefix}:{t1}:bytes`]);
      await redis.quit();
      await one.close();
      await two.close();
    }
  });
});
