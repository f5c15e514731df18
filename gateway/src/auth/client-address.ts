import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** The client address of a request, as rate limits and the failed-authentication limit key it. */
export type ClientAddressOf = (req: Pick<IncomingMessage, 'headers'> & { socket?: { remoteAddress?: string } } | undefined) => string;

/** Parses proxy addresses and CIDRs (`10.0.0.0/8`, `::1`); throws naming the first bad entry. */
export function trustedProxyList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim();
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family === 0) throw new Error(`"${entry}" is not an IP address or CIDR`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d+$/.test(prefix) || bits > (family === 6 ? 128 : 32)) throw new Error(`"${entry}" has a bad prefix length`);
    list.addSubnet(address, bits, type);
  }
  return list;
}

/**
 * The peer's address, unless the peer is one of `trustedProxies`: then the address its
 * `Forwarded` (RFC 7239 `for=`) or else `X-Forwarded-For` header names, read from the right and
 * skipping further trusted proxies. Headers from any other peer are ignored (anyone can send them).
 */
export function createClientAddress(trustedProxies: readonly string[] = []): ClientAddressOf {
  const trusted = trustedProxies.length > 0 ? trustedProxyList(trustedProxies) : undefined;
  const isTrusted = (address: string) => trusted !== undefined && trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return (req) => {
    const peer = normalise(req?.socket?.remoteAddress) ?? 'unknown';
    if (!req || !isTrusted(peer)) return peer;
    const hops = forwardedFor(req.headers);
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalise(hops[i]);
      // An obfuscated or malformed hop: the last proxy that named it is as far as we can trust.
      if (!hop) break;
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return client;
  };
}

/** The `for=` addresses of `Forwarded`, else the entries of `X-Forwarded-For`, leftmost first. */
function forwardedFor(headers: IncomingMessage['headers']): string[] {
  const forwarded = headers.forwarded;
  if (forwarded) {
    return forwarded
      .split(',')
      .map((element) => /(?:^|;)\s*for=("[^"]*"|[^;,\s]*)/i.exec(element)?.[1]?.replace(/"/g, '') ?? '')
      .filter((value) => value !== '');
  }
  const header = headers['x-forwarded-for'];
  const value = Array.isArray(header) ? header.join(',') : header;
  return value ? value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '') : [];
}

/** A bare IP address from `::ffff:1.2.3.4`, `[2001:db8::1]:4711` or `1.2.3.4:5678`; undefined when it is none. */
function normalise(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let address = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address);
  if (bracketed) address = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'));
  if (address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  return isIP(address) === 0 ? undefined : address;
}
