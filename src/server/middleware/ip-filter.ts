/**
 * IP allow and deny lists for handshakes, on Node's `net.BlockList`. A dual-stack listener reports IPv4
 * clients as IPv4-mapped IPv6 (`::ffff:1.2.3.4`); addresses and rules are folded to plain IPv4 first so
 * that IPv4 rules match them whichever form either side is written in.
 * @module
 */
import { BlockList, isIP } from 'node:net';
import type { UpgradeHook } from '../options.js';
import type { UpgradeRequest } from '../upgrade-request.js';
import { normalizeIp } from './client-ip.js';

/** Options of {@link ipFilter}. Rules are addresses (`10.1.2.3`, `::1`) or CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`). */
export interface IpFilterOptions {
  /** When given, only these addresses may connect. */
  allow?: readonly string[];
  /** These addresses may never connect; checked before `allow`. */
  deny?: readonly string[];
  /** The client address of a request. Default `request.remoteAddress`; behind a proxy, use what it reports. */
  address?: (request: UpgradeRequest) => string;
}

function addRule(list: BlockList, rule: string): void {
  const slash = rule.indexOf('/');
  const address = normalizeIp(slash === -1 ? rule : rule.slice(0, slash));
  const version = isIP(address);
  if (version === 0) throw new TypeError(`Invalid IP rule: ${JSON.stringify(rule)}`);
  const type = version === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) {
    list.addAddress(address, type);
    return;
  }
  const prefixText = rule.slice(slash + 1);
  const prefix = Number(prefixText);
  const max = version === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefixText) || prefix > max)
    throw new TypeError(`Invalid IP rule: ${JSON.stringify(rule)}`);
  list.addSubnet(address, prefix, type);
}

function compile(rules: readonly string[] | undefined): BlockList | null {
  if (rules === undefined) return null;
  const list = new BlockList();
  for (const rule of rules) addRule(list, rule);
  return list;
}

/** True when `list` holds `address`; an unparsable address matches nothing. */
function holds(list: BlockList, address: string): boolean {
  const ip = normalizeIp(address);
  const version = isIP(ip);
  return version !== 0 && list.check(ip, version === 4 ? 'ipv4' : 'ipv6');
}

/**
 * An upgrade hook refusing (403) clients on the `deny` list, and, when `allow` is given, clients not
 * on it. A request whose address cannot be read (the socket already closed) is refused when an allow
 * list exists, since it cannot be shown to be on it. Invalid rules throw a TypeError here.
 */
export function ipFilter(options: IpFilterOptions): UpgradeHook {
  const allow = compile(options.allow);
  const deny = compile(options.deny);
  const addressOf = options.address ?? ((request: UpgradeRequest) => request.remoteAddress);
  return (request) => {
    const address = addressOf(request);
    if (deny !== null && holds(deny, address)) return { status: 403, message: 'Address not allowed' };
    if (allow !== null && !holds(allow, address)) return { status: 403, message: 'Address not allowed' };
    return undefined;
  };
}
