/**
 * Client addresses as keys for per-client limits: IPv4-mapped IPv6 addresses folded to IPv4, and IPv6
 * addresses grouped by prefix, because one host usually owns a whole /64 and could otherwise rotate
 * through its addresses to get a fresh bucket for each connection.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

const MAPPED_PREFIX = '::ffff:';

/**
 * The canonical text of an address for comparisons: lowercase, zone index removed, and an IPv4-mapped
 * IPv6 address (`::ffff:1.2.3.4`, what a dual-stack listener reports for IPv4 peers) as plain IPv4.
 */
export function normalizeIp(address: string): string {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (text.startsWith(MAPPED_PREFIX) && isIPv4(text.slice(MAPPED_PREFIX.length))) {
    return text.slice(MAPPED_PREFIX.length);
  }
  return text;
}

/** The eight 16-bit groups of a valid IPv6 address, with `::` expanded and an IPv4 tail split in two. */
function ipv6Groups(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const groups: number[] = [];
    for (const piece of part.split(':')) {
      if (piece.includes('.')) {
        const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
        groups.push((a << 8) | b, (c << 8) | d);
      } else groups.push(Number.parseInt(piece, 16));
    }
    return groups;
  };
  const first = toGroups(head);
  const last = tail === undefined ? [] : toGroups(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

/**
 * A rate-limit key for a client address: IPv4 addresses as themselves, IPv6 addresses truncated to
 * their first `ipv6Prefix` bits (default 64, written `2001:db8:0:1:0:0:0:0/64`). Anything that is not an IP
 * address is returned as is.
 */
export function ipKey(address: string, ipv6Prefix = 64): string {
  const ip = normalizeIp(address);
  if (!isIPv6(ip)) return ip;
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 0 || ipv6Prefix > 128) {
    throw new RangeError('ipv6Prefix must be an integer from 0 to 128');
  }
  const groups = ipv6Groups(ip).map((group, i) => {
    const bits = Math.min(16, Math.max(0, ipv6Prefix - 16 * i));
    return (group & ~(0xffff >>> bits) & 0xffff).toString(16);
  });
  return `${groups.join(':')}/${ipv6Prefix}`;
}
