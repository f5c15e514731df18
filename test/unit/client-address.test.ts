import { createClientAddress } from '../../gateway/src/auth/client-address.js';
import { readTrustedProxies } from '../../gateway/src/config.js';

const request = (peer: string, headers: Record<string, string> = {}) => ({ socket: { remoteAddress: peer }, headers });

describe('the client address behind trusted proxies', () => {
  const addressOf = createClientAddress(['10.0.0.0/8', '::1', '192.0.2.7']);

  it('ignores forwarding headers from any peer that is not a trusted proxy', () => {
    expect(addressOf(request('203.0.113.5', { 'x-forwarded-for': '198.51.100.1' }))).toBe('203.0.113.5');
    expect(addressOf(request('::ffff:203.0.113.5', { forwarded: 'for=198.51.100.1' }))).toBe('203.0.113.5');
    expect(createClientAddress()(request('10.1.2.3', { 'x-forwarded-for': '198.51.100.1' }))).toBe('10.1.2.3');
  });

  it('reads X-Forwarded-For from the right, skipping trusted proxies, from a trusted peer', () => {
    expect(addressOf(request('10.0.0.2', { 'x-forwarded-for': '198.51.100.1' }))).toBe('198.51.100.1');
    // The client can prepend anything: only the hop our proxies appended counts.
    expect(addressOf(request('::ffff:10.0.0.2', { 'x-forwarded-for': '1.1.1.1, 198.51.100.1, 10.9.9.9' }))).toBe('198.51.100.1');
    expect(addressOf(request('10.0.0.2', { 'x-forwarded-for': '198.51.100.1:5123' }))).toBe('198.51.100.1');
    // Every hop trusted: the leftmost.
    expect(addressOf(request('10.0.0.2', { 'x-forwarded-for': '192.0.2.7, 10.3.3.3' }))).toBe('192.0.2.7');
    // Nothing forwarded: the proxy itself.
    expect(addressOf(request('10.0.0.2'))).toBe('10.0.0.2');
  });

  it('prefers Forwarded (RFC 7239) with quoted IPv6 and ports, and stops at an obfuscated hop', () => {
    expect(addressOf(request('::1', { forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.9', 'x-forwarded-for': '198.51.100.1' }))).toBe(
      '2001:db8:cafe::17',
    );
    expect(addressOf(request('::1', { forwarded: 'for=198.51.100.2, for=_hidden' }))).toBe('::1');
  });

  it('refuses a malformed TRUSTED_PROXIES at start-up, naming the entry', () => {
    expect(readTrustedProxies({ TRUSTED_PROXIES: ' 10.0.0.0/8 , ::1 ' })).toEqual(['10.0.0.0/8', '::1']);
    expect(readTrustedProxies({})).toEqual([]);
    expect(() => readTrustedProxies({ TRUSTED_PROXIES: '10.0.0.0/8,proxy.internal' })).toThrow('TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR');
    expect(() => readTrustedProxies({ TRUSTED_PROXIES: '10.0.0.0/40' })).toThrow('TRUSTED_PROXIES: "10.0.0.0/40" has a bad prefix length');
  });
});
