// Prefixes: "192.0.2.50/24" and its parts, subnet membership, the IPv4
// netmask and broadcast address of a prefix length.
import { formatIpv4, type IpAddress, type IpFamily, maxPrefixLength, parseIp, parseIpv4 } from './address.js';
import { InvalidAddressError } from './errors.js';

/** An address with its prefix length, as `ip addr` shows it. */
export interface IpPrefix {
  address: IpAddress;
  prefixLength: number;
}

/** Parses "192.0.2.50/24", "2001:db8::50/64", or a bare address (full-length prefix unless a default is given). */
export function parsePrefix(text: string, defaultPrefixLength?: number): IpPrefix {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (slash < 0) return { address, prefixLength: defaultPrefixLength ?? maxPrefixLength(address.family) };
  return { address, prefixLength: parsePrefixLength(text.slice(slash + 1), address.family, text) };
}

/**
 * A prefix length "24", or for IPv4 a dotted netmask "255.255.255.0"
 * (Heartbeat's IPaddr accepted both). `whole` is the text named in the error.
 */
export function parsePrefixLength(text: string, family: IpFamily, whole = text): number {
  const max = maxPrefixLength(family);
  if (/^\d{1,3}$/.test(text)) {
    const n = Number(text);
    if (n > max) throw new InvalidAddressError(whole, `prefix length ${n} is more than ${max}`);
    return n;
  }
  const b = family === 4 ? parseIpv4(text) : undefined;
  if (b) {
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const len = 32 - Math.log2((~v >>> 0) + 1);
    if (!Number.isInteger(len)) throw new InvalidAddressError(whole, `netmask ${text} is not contiguous`);
    return len;
  }
  throw new InvalidAddressError(whole, `"${text}" is not a prefix length 0-${max}`);
}

/** True when `address` lies inside `network`/`prefixLength` (false across families). */
export function prefixContains(network: IpAddress, prefixLength: number, address: IpAddress): boolean {
  if (network.family !== address.family) return false;
  let bits = prefixLength;
  for (let i = 0; i < network.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((network.bytes[i]! & mask) !== (address.bytes[i]! & mask)) return false;
  }
  return true;
}

/** The IPv4 netmask of a prefix length: 24 → 255.255.255.0. */
export function ipv4Netmask(prefixLength: number): IpAddress {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32)
    throw new InvalidAddressError(`/${prefixLength}`, `prefix length ${prefixLength} is not 0-32`);
  const bytes = new Uint8Array(4);
  for (let bit = 0; bit < prefixLength; bit++) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return { family: 4, bytes, text: formatIpv4(bytes) };
}

/** The IPv4 broadcast address of address/prefixLength (all host bits set). */
export function ipv4Broadcast(address: IpAddress, prefixLength: number): IpAddress {
  if (address.family !== 4) throw new InvalidAddressError(address.text, 'broadcast addresses are IPv4 only');
  const bytes = Uint8Array.from(address.bytes);
  for (let bit = prefixLength; bit < 32; bit++) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return { family: 4, bytes, text: formatIpv4(bytes) };
}
