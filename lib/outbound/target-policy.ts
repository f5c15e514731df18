import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Where outbound webhooks may go. Private, loopback, link-local, shared (CGNAT), multicast and
 * reserved ranges are refused unless a range of `allowedCidrs` contains the address (tests allow
 * loopback); plain HTTP only outside production.
 */
export interface TargetPolicy {
  /** Refuse `http:` URLs (NODE_ENV=production). */
  requireHttps: boolean;
  /** WEBHOOK_ALLOWED_CIDRS: ranges allowed although blocked by default, e.g. `127.0.0.0/8`. */
  allowedCidrs: readonly string[];
}

export type Lookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** The operating system's resolver, every address of the name. */
export const systemLookup: Lookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Why a target was refused: `code` is the GraphQL error code at creation, the delivery's error after. */
export class TargetRefused extends Error {
  constructor(
    readonly code: 'WEBHOOK_URL_INVALID' | 'WEBHOOK_TARGET_FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}

const BLOCKED: [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'], ['10.0.0.0', 8, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.0.0.0', 24, 'ipv4'], ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'], ['198.18.0.0', 15, 'ipv4'], ['198.51.100.0', 24, 'ipv4'], ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'], ['::1', 128, 'ipv6'], ['64:ff9b::', 96, 'ipv6'], ['100::', 64, 'ipv6'], ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'], ['fe80::', 10, 'ipv6'], ['ff00::', 8, 'ipv6'],
];
const blocked = new BlockList();
for (const [network, prefix, type] of BLOCKED) blocked.addSubnet(network, prefix, type);

function parseCidrs(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, bits] = cidr.split('/');
    const type = isIP(network ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(network ?? '')) throw new Error(`not an address range: ${cidr}`);
    list.addSubnet(network!, bits === undefined ? (type === 'ipv6' ? 128 : 32) : Number(bits), type);
  }
  return list;
}

/** The policy's checks, compiled once. */
export function targetGuard(policy: TargetPolicy, lookup: Lookup = systemLookup) {
  const allowed = parseCidrs(policy.allowedCidrs);

  /** An IPv4 address written as IPv6 (`::ffff:10.0.0.1`) is judged as the IPv4 one. */
  const isForbidden = (address: string): boolean => {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    return blocked.check(ip, type) && !allowed.check(ip, type);
  };

  /** Checks the URL's form; throws TargetRefused. */
  const checkUrl = (raw: string): URL => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new TargetRefused('WEBHOOK_URL_INVALID', 'url is not an absolute URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetRefused('WEBHOOK_URL_INVALID', 'url must be https (or http outside production)');
    if (url.protocol === 'http:' && policy.requireHttps) throw new TargetRefused('WEBHOOK_URL_INVALID', 'url must be https in production');
    if (url.username || url.password) throw new TargetRefused('WEBHOOK_URL_INVALID', 'url must not carry credentials');
    return url;
  };

  /**
   * Resolves the URL's host now and returns the one address to connect to; every address the
   * name has must be allowed (a name with one private address is refused whole).
   */
  const resolve = async (url: URL): Promise<{ address: string; family: 4 | 6 }> => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: { address: string; family: number }[];
    if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
    else {
      try {
        addresses = await lookup(host);
      } catch (error) {
        throw new TargetRefused('WEBHOOK_TARGET_FORBIDDEN', `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    if (addresses.length === 0) throw new TargetRefused('WEBHOOK_TARGET_FORBIDDEN', `${host} does not resolve`);
    const refused = addresses.find((a) => isForbidden(a.address));
    if (refused) throw new TargetRefused('WEBHOOK_TARGET_FORBIDDEN', `${host} resolves to ${refused.address}, a private, loopback, link-local or reserved address`);
    const first = addresses[0]!;
    return { address: first.address, family: first.family === 6 ? 6 : 4 };
  };

  return { checkUrl, resolve, isForbidden };
}

export type TargetGuard = ReturnType<typeof targetGuard>;

/** WEBHOOK_ALLOWED_CIDRS and NODE_ENV: the target policy of outbound webhooks and decision hooks. */
export function readTargetPolicy(env: Record<string, string | undefined> = process.env): TargetPolicy {
  const allowedCidrs = (env.WEBHOOK_ALLOWED_CIDRS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const cidr of allowedCidrs) {
    if (!/^[0-9a-f:.]+(\/\d{1,3})?$/i.test(cidr)) throw new Error(`WEBHOOK_ALLOWED_CIDRS: "${cidr}" is not an address range like 127.0.0.0/8`);
  }
  return { requireHttps: env.NODE_ENV === 'production', allowedCidrs };
}
