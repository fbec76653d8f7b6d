// IP address text <-> bytes, prefixes, and Heartbeat's VIP spec
// ("12.3.4.50/32/eth0"). Pure: no I/O.
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidAddressError, InvalidArgumentError } from './errors.js';

export type IpFamily = 4 | 6;

/** An IPv4 or IPv6 address: its bytes (network order) and canonical text. */
export interface IpAddress {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
  /** Canonical text (IPv6 per RFC 5952: lower case, longest zero run as ::). */
  text: string;
}

/** Parses a literal IPv4 or IPv6 address (no prefix, no zone). */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') throw new InvalidAddressError(String(text), 'not a string');
  const t = text.trim();
  if (t === '') throw new InvalidAddressError(text, 'empty');
  if (t.includes('%'))
    throw new InvalidAddressError(text, 'zone indexes (%eth0) are not accepted; name the interface');
  if (isIPv4(t)) {
    const bytes = Uint8Array.from(t.split('.').map(Number));
    return { family: 4, bytes, text: formatIp(bytes) };
  }
  if (isIPv6(t)) {
    const bytes = ipv6Bytes(t);
    return { family: 6, bytes, text: formatIp(bytes) };
  }
  if (/^[\d.]+$/.test(t)) throw new InvalidAddressError(text, 'not four numbers 0-255 separated by dots');
  if (t.includes(':')) throw new InvalidAddressError(text, 'not a valid IPv6 address');
  throw new InvalidAddressError(text, 'neither IPv4 (192.0.2.50) nor IPv6 (2001:db8::50)');
}

function ipv6Bytes(t: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = t;
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const b = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const groups =
    rest === undefined
      ? headGroups
      : [...headGroups, ...new Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/** Canonical text of 4 or 16 address bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16)
    throw new InvalidAddressError(`<${bytes.length} bytes>`, 'an address has 4 or 16 bytes');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** An address with its prefix length, as `ip addr` shows it. */
export interface IpPrefix {
  address: IpAddress;
  prefixLength: number;
}

/** Parses "192.0.2.50/24", "2001:db8::50/64", or a bare address (full-length prefix). */
export function parsePrefix(text: string, defaultPrefixLength?: number): IpPrefix {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  const max = address.family === 4 ? 32 : 128;
  if (slash < 0) return { address, prefixLength: defaultPrefixLength ?? max };
  return { address, prefixLength: parsePrefixLength(text.slice(slash + 1), address.family, text) };
}

/** A prefix length "24", or for IPv4 a dotted netmask "255.255.255.0" (IPaddr accepted both). */
export function parsePrefixLength(text: string, family: IpFamily, whole = text): number {
  const max = family === 4 ? 32 : 128;
  if (/^\d{1,3}$/.test(text)) {
    const n = Number(text);
    if (n > max) throw new InvalidAddressError(whole, `prefix length ${n} is more than ${max}`);
    return n;
  }
  if (family === 4 && isIPv4(text)) {
    const b = text.split('.').map(Number);
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const len = 32 - Math.log2((~v >>> 0) + 1);
    if (!Number.isInteger(len)) throw new InvalidAddressError(whole, `netmask ${text} is not contiguous`);
    return len;
  }
  throw new InvalidAddressError(whole, `"${text}" is not a prefix length 0-${max}`);
}

/** True when `address` lies inside `network`/`prefixLength` (same family). */
export function prefixContains(network: IpAddress, prefixLength: number, address: IpAddress): boolean {
  if (network.family !== address.family) return false;
  let bits = prefixLength;
  for (let i = 0; i < network.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((network.bytes[i]! & mask) !== (address.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 broadcast address of address/prefixLength (all host bits set). */
export function ipv4Broadcast(address: IpAddress, prefixLength: number): IpAddress {
  if (address.family !== 4) throw new InvalidAddressError(address.text, 'broadcast addresses are IPv4 only');
  const bytes = Uint8Array.from(address.bytes);
  for (let bit = prefixLength; bit < 32; bit++) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return { family: 4, bytes, text: formatIp(bytes) };
}

/** The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX). */
export function solicitedNodeMulticast(address: IpAddress): IpAddress {
  const bytes = new Uint8Array(16);
  bytes.set([0xff, 0x02], 0);
  bytes.set([0x00, 0x01, 0xff], 10);
  bytes.set(address.bytes.subarray(13), 13);
  return { family: 6, bytes, text: formatIp(bytes) };
}

/**
 * A VIP as Heartbeat's haresources names it for IPaddr/IPaddr2/IPv6addr:
 * `address[/prefix[/interface[/broadcast]]]`, e.g. `12.3.4.50/32/eth0` or
 * `192.0.2.50/24/eth0:0/192.0.2.255`. An `eth0:0` interface names a label.
 */
export interface VipSpec {
  address: IpAddress;
  /** Undefined when the spec gives none: the caller takes the matching subnet's. */
  prefixLength: number | undefined;
  interface: string | undefined;
  label: string | undefined;
  broadcast: IpAddress | undefined;
}

export function parseVipSpec(text: string): VipSpec {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InvalidAddressError(String(text), 'empty VIP');
  const parts = text.trim().split('/');
  if (parts.length > 4)
    throw new InvalidAddressError(text, 'expected address[/prefix[/interface[/broadcast]]]');
  const [addr, prefix, iface, bcast] = parts as [string, string?, string?, string?];
  const address = parseIp(addr);
  const prefixLength = prefix ? parsePrefixLength(prefix, address.family, text) : undefined;
  let ifname: string | undefined;
  let label: string | undefined;
  if (iface) {
    const colon = iface.indexOf(':');
    ifname = colon < 0 ? iface : iface.slice(0, colon);
    label = colon < 0 ? undefined : iface;
    validateInterfaceName(ifname);
    if (label !== undefined && address.family === 6)
      throw new InvalidAddressError(text, 'labels (eth0:0) exist for IPv4 only');
  }
  let broadcast: IpAddress | undefined;
  if (bcast) {
    broadcast = parseIp(bcast);
    if (address.family !== 4 || broadcast.family !== 4)
      throw new InvalidAddressError(text, 'a broadcast address is IPv4 only');
  }
  return { address, prefixLength, interface: ifname, label, broadcast };
}

/** Linux interface names: 1-15 bytes, no '/', ':' or whitespace. */
export function validateInterfaceName(name: string): void {
  if (typeof name !== 'string' || !/^[^\s/:]{1,15}$/.test(name) || name === '.' || name === '..')
    throw new InvalidArgumentError(
      'interface name',
      `"${name}" is not a Linux interface name (1-15 characters, no / : or spaces)`,
    );
}
