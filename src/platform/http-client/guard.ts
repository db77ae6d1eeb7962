// What outgoing requests may contact (URL and address rules), and the error they fail with.
import { BlockList, isIP } from 'node:net';

// Everything that is not a public unicast IPv4 address: "this network", private
// (RFC 1918), CGNAT, loopback, link-local (cloud metadata lives at 169.254.169.254),
// IETF protocol assignments, documentation and benchmarking nets, multicast, reserved
// and broadcast. Any of these can reach the host itself or its private network.
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
  ['255.255.255.255', 32],
];

// IPv6 is judged by allow-list: only global unicast (2000::/3) can be public. That alone
// refuses ::, ::1, fc00::/7 (unique local), fe80::/10 (link-local), ff00::/8 (multicast),
// 64:ff9b::/96 (NAT64, which would reach any IPv4 address) and 100::/64 (discard).
const V6_PUBLIC: [string, number][] = [['2000::', 3]];
// Holes inside 2000::/3: 2001::/23 holds IETF special-purpose blocks (Teredo, ORCHID,
// benchmarking), 2001:db8::/32 and 3fff::/20 are for documentation only.
const V6_BLOCKED: [string, number][] = [
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
];

function blockList(ranges: [string, number][], family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of ranges) list.addSubnet(network, prefix, family);
  return list;
}

const v4Blocked = blockList(V4_BLOCKED, 'ipv4');
const v6Public = blockList(V6_PUBLIC, 'ipv6');
const v6Blocked = blockList(V6_BLOCKED, 'ipv6');

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted quad becomes two groups). */
function ipv6Groups(ip: string): number[] {
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  let text = ip;
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${ip.slice(0, quad.index) + ((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  if (tail === undefined) return left;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/**
 * The IPv4 address carried inside an IPv6 one, where the packet would really go there:
 * IPv4-mapped (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), the deprecated
 * IPv4-compatible form (::a.b.c.d, which also covers :: and ::1) and 6to4 (2002:aabb:ccdd::).
 */
function embeddedIPv4(groups: number[]): string | undefined {
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return quad(groups[6], groups[7]);
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return quad(groups[6], groups[7]);
  if (groups[0] === 0x2002) return quad(groups[1], groups[2]);
  return undefined;
}

/** True if the address may be contacted (public unicast); exported for tests and the crawler. */
export function isPublicAddress(ip: string): boolean {
  // A zone id (fe80::1%eth0) only ever qualifies link-local addresses; judge the address.
  const bare = ip.replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return !v4Blocked.check(bare, 'ipv4');
  if (family !== 6) return false;
  const inner = embeddedIPv4(ipv6Groups(bare));
  if (inner !== undefined) return !v4Blocked.check(inner, 'ipv4');
  return v6Public.check(bare, 'ipv6') && !v6Blocked.check(bare, 'ipv6');
}

/** Why an outgoing request was refused or failed. */
export type OutboundErrorCode = 'blocked' | 'timeout' | 'too_many_redirects' | 'bad_url' | 'network';

/** An outgoing request that was refused or failed; `url` is the hop it happened on, never with credentials. */
export class OutboundError extends Error {
  readonly code: OutboundErrorCode;
  readonly url: string;

  constructor(code: OutboundErrorCode, url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboundError';
    this.code = code;
    this.url = url;
  }
}

/** A URL for error messages and logs: credentials removed, length capped. */
function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    const bare = raw.replace(/\/\/[^/?#]*@/, '//');
    return bare.length > 200 ? `${bare.slice(0, 200)}…` : bare;
  }
}

/** Parses and vets a URL (relative to `base` for a Location header); throws 'bad_url'. */
export function parseTarget(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new OutboundError('bad_url', displayUrl(raw), 'Not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OutboundError('bad_url', displayUrl(url.href), `Only http and https URLs may be fetched, not ${url.protocol}`);
  // user:pass@ would be sent as Basic auth to whoever answers, and hides the real host from readers.
  if (url.username || url.password) throw new OutboundError('bad_url', displayUrl(url.href), 'URLs with credentials are refused');
  if (!url.hostname) throw new OutboundError('bad_url', url.href, 'The URL has no host');
  return url;
}
