// IPv4/IPv6 text <-> bytes. Text out is RFC 5952 (lower case, the longest
// run of two or more zero groups as ::, the first on a tie) with the dotted
// IPv4 tail glibc's inet_ntop writes for ::a.b.c.d and ::ffff:a.b.c.d, so it
// equals what `ip addr` and `ipvsadm` print for the same bytes.
import { InvalidAddressError } from './errors.js';

/** 4 for IPv4, 6 for IPv6 (as `net.isIP` says). */
export type IpFamily = 4 | 6;

/** An IPv4 or IPv6 address: its bytes (network order) and canonical text. */
export interface IpAddress {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
  /** Canonical text (see formatIp). */
  text: string;
}

/** Linux's address family numbers, as sockaddr, ifaddrmsg and IPVS carry them. */
export const AF_INET = 2;
export const AF_INET6 = 10;

/** AF_INET or AF_INET6 for a family. */
export function addressFamily(family: IpFamily): typeof AF_INET | typeof AF_INET6 {
  return family === 4 ? AF_INET : AF_INET6;
}

/** The family of AF_INET or AF_INET6; undefined for any other number (the caller says why that is wrong). */
export function ipFamily(af: number): IpFamily | undefined {
  return af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
}

/** 32 or 128. */
export function maxPrefixLength(family: IpFamily): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/**
 * Dotted-quad text to 4 bytes, or undefined. Strict: four decimal numbers
 * 0-255 without leading zeros (which some parsers read as octal) or spaces.
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  // A hand-rolled loop: ipvs runs this for every real server of a 10,000-entry table.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // '.' ends the last part
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return undefined; // no leading zeros
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else return undefined;
  }
  return part === 4 ? out : undefined;
}

/** IPv6 text (RFC 4291 forms, an IPv4 tail allowed) to 16 bytes, or undefined. No brackets, no zone. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  // An embedded IPv4 address in the last 32 bits becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    const hi = ((v4[0]! << 8) | v4[1]!).toString(16);
    const lo = ((v4[2]! << 8) | v4[3]!).toString(16);
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`;
  }
  const double = s.indexOf('::');
  if (double !== s.lastIndexOf('::')) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (double >= 0) {
    const head = groupsOf(s.slice(0, double));
    const rest = groupsOf(s.slice(double + 2));
    // '::' stands for at least one zero group.
    if (!head || !rest || head.length + rest.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    const all = groupsOf(s);
    if (all?.length !== 8) return undefined;
    groups = all;
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/**
 * Parses a literal IPv4 or IPv6 address (surrounding spaces allowed; no
 * prefix, brackets or zone). Throws InvalidAddressError saying why not.
 */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') throw new InvalidAddressError(String(text), 'not a string');
  const t = text.trim();
  if (t === '') throw new InvalidAddressError(text, 'empty');
  if (t.includes('%'))
    throw new InvalidAddressError(text, 'zone indexes (%eth0) are not accepted; name the interface');
  const v4 = parseIpv4(t);
  if (v4) return { family: 4, bytes: v4, text: formatIpv4(v4) };
  const v6 = parseIpv6(t);
  if (v6) return { family: 6, bytes: v6, text: formatIpv6(v6) };
  if (/^[\d.]+$/.test(t)) throw new InvalidAddressError(text, 'not four numbers 0-255 separated by dots');
  if (t.includes(':')) throw new InvalidAddressError(text, 'not a valid IPv6 address');
  throw new InvalidAddressError(text, 'neither IPv4 (192.0.2.50) nor IPv6 (2001:db8::50)');
}

/** An IpAddress from 4 or 16 bytes (copied, so the caller may reuse its buffer). */
export function ipFromBytes(bytes: Uint8Array): IpAddress {
  const copy = Uint8Array.from(bytes);
  return { family: copy.length === 4 ? 4 : 6, bytes: copy, text: formatIp(copy) };
}

/** Dotted-quad text of the 4 bytes at `offset`. */
export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** Canonical text of the 16 bytes at `offset` (see the top of this file). */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((bytes[offset + i * 2]! << 8) | bytes[offset + i * 2 + 1]!);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 4.2.2: '::' never stands for a single zero group.
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) end in a dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIpv4(bytes, offset + 12);
      break;
    }
    out += w[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/** Canonical text of 4 or 16 address bytes. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(bytes);
  if (bytes.length === 16) return formatIpv6(bytes);
  throw new InvalidAddressError(`<${bytes.length} bytes>`, 'an address has 4 or 16 bytes');
}

/** The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX, RFC 4291 2.7.1). */
export function solicitedNodeMulticast(address: IpAddress): IpAddress {
  if (address.family !== 6)
    throw new InvalidAddressError(address.text, 'solicited-node groups are IPv6 only');
  const bytes = new Uint8Array(16);
  bytes.set([0xff, 0x02], 0);
  bytes.set([0x00, 0x01, 0xff], 10);
  bytes.set(address.bytes.subarray(13), 13);
  return { family: 6, bytes, text: formatIpv6(bytes) };
}
