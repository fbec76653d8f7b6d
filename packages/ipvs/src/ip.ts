// Addresses are @lvs-ha/ip's (its text is inet_ntop's, so ours equals
// ipvsadm's). What stays here is IPVS's edge of it: the family as the
// ipvsadm and kernel names 'inet'/'inet6' this package's types use, bad
// input as this package's InvalidArgumentError naming the argument, brackets
// as ipvsadm writes IPv6 addresses, and a cache for large tables.
import { AF_INET, AF_INET6, formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '@lvs-ha/ip';
import { InvalidArgumentError } from './errors.js';

export { AF_INET, AF_INET6, parseIpv4 } from '@lvs-ha/ip';

export type Family = 'inet' | 'inet6';

export function familyNumber(f: Family): number {
  return f === 'inet' ? AF_INET : AF_INET6;
}

export function familyName(af: number): Family {
  if (af === AF_INET) return 'inet';
  if (af === AF_INET6) return 'inet6';
  throw new InvalidArgumentError('address family', `${af} is neither AF_INET (2) nor AF_INET6 (10)`);
}

const cache = new Map<string, { family: Family; bytes: Uint8Array }>();

/** parseAddress with a small cache; the bytes are shared: never modify them. */
export function parseAddressShared(text: string, what = 'address'): { family: Family; bytes: Uint8Array } {
  const hit = cache.get(text);
  if (hit) return hit;
  const parsed = parseAddress(text, what);
  if (cache.size >= 16384) cache.clear();
  cache.set(text, parsed);
  return parsed;
}

/** Parses an address (IPv6 in brackets too) and says which family it is. */
export function parseAddress(text: string, what = 'address'): { family: Family; bytes: Uint8Array } {
  if (typeof text !== 'string') throw new InvalidArgumentError(what, `expected a string, got ${typeof text}`);
  const v4 = parseIpv4(text);
  if (v4) return { family: 'inet', bytes: v4 };
  const v6 = parseIpv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (v6) return { family: 'inet6', bytes: v6 };
  throw new InvalidArgumentError(what, `"${text}" is not an IPv4 or IPv6 address`);
}

/** Text of an address; for inet only the first 4 bytes count (the kernel sends 16 for either). */
export function formatAddress(family: Family, bytes: Uint8Array): string {
  return family === 'inet' ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** Canonical text of an address (what the kernel would give back). */
export function canonicalAddress(text: string): string {
  const { family, bytes } = parseAddress(text);
  return formatAddress(family, bytes);
}
