import type { Identity } from '../../gateway/src/auth/authenticator.js';
import { CredentialWatch, type CredentialEnd } from '../../gateway/src/auth/credential-watch.js';

const tenant = { id: 't1', slug: 'shop' };
const keyCaller = (apiKeyId: string): Identity => ({ tenant, roles: ['pos'], kind: 'api-key', subject: `key:${apiKeyId}`, apiKeyId });
const jwtCaller = (expiresAt: number): Identity => ({ tenant, roles: ['pos'], kind: 'jwt', subject: 'jwt:shop:u1', expiresAt });
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CredentialWatch: what ends the connections opened with a credential', () => {
  it("ends every connection of a revoked key, once each, and no other key's", async () => {
    const watch = new CredentialWatch();
    const ends: string[] = [];
    watch.watch(keyCaller('k1'), (why) => ends.push(`a:${why}`));
    watch.watch(keyCaller('k1'), (why) => ends.push(`b:${why}`));
    watch.watch(keyCaller('k2'), (why) => ends.push(`c:${why}`));
    watch.revoked('k1');
    watch.revoked('k1');
    await settle();
    expect(ends).toEqual(['a:revoked', 'b:revoked']);
  });

  it('ends a connection that starts watching just after its key was revoked (the event passed first)', async () => {
    const watch = new CredentialWatch();
    watch.revoked('k1');
    const ends: CredentialEnd[] = [];
    watch.watch(keyCaller('k1'), (why) => ends.push(why));
    // Never before the caller holds its unwatch function.
    expect(ends).toEqual([]);
    await settle();
    expect(ends).toEqual(['revoked']);
  });

  it('ends a JWT connection at exp (at once, but not synchronously, when exp has passed)', async () => {
    const watch = new CredentialWatch();
    const ends: CredentialEnd[] = [];
    watch.watch(jwtCaller(Date.now() - 1_000), (why) => ends.push(why));
    expect(ends).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ends).toEqual(['expired']);
  });

  it('stops watching when the connection closes first, and leaves anonymous callers alone', async () => {
    const watch = new CredentialWatch();
    const ends: string[] = [];
    const unwatchKey = watch.watch(keyCaller('k1'), (why) => ends.push(`key:${why}`));
    const unwatchJwt = watch.watch(jwtCaller(Date.now() + 20), (why) => ends.push(`jwt:${why}`));
    watch.watch({ tenant, roles: ['storefront'], kind: 'anonymous', subject: 'ip:1' }, (why) => ends.push(`anonymous:${why}`));
    unwatchKey();
    unwatchJwt();
    watch.revoked('k1');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(ends).toEqual([]);
  });
});
