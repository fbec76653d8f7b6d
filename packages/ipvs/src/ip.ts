// IPv4/IPv6 text <-> bytes, formatted the way glibc's inet_ntop does (so
// our text equals ipvsadm's): IPv6 compresses the longest run of two or more
// zero groups, first one on a tie, and shows ::a.b.c.d / ::ffff:a.b.c.d.
import { InvalidArgumentError } from './errors.js';

export type Family = 'inet' | 'inet6';
export const AF_INET = 2;
export const AF_INET6 = 10;

export function familyNumber(f: Family): number {
  return f === 'inet' ? AF_INET : AF_INET6;
}

export function familyName(af: number): Family {
  if (af === AF_INET) return 'inet';
  if (af === AF_INET6) return 'inet6';
  throw new InvalidArgumentError('address family', `${af} is neither AF_INET (2) nor AF_INET6 (10)`);
}

export function parseIpv4(text: string): Uint8Array | undefined {
  // A hand-rolled loop: this runs for every real server of a 10,000-entry table.
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

export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text;
  // An embedded IPv4 address in the last 32 bits becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  if (lastColon >= 0 && s.slice(lastColon + 1).includes('.')) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    const hi = (((v4[0] as number) << 8) | (v4[1] as number)).toString(16);
    const lo = (((v4[2] as number) << 8) | (v4[3] as number)).toString(16);
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

/** Parses an address and says which family it is. */
export function parseAddress(text: string, what = 'address'): { family: Family; bytes: Uint8Array } {
  if (typeof text !== 'string') throw new InvalidArgumentError(what, `expected a string, got ${typeof text}`);
  const v4 = parseIpv4(text);
  if (v4) return { family: 'inet', bytes: v4 };
  const v6 = parseIpv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
  if (v6) return { family: 'inet6', bytes: v6 };
  throw new InvalidArgumentError(what, `"${text}" is not an IPv4 or IPv6 address`);
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIpv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push(((b[off + i * 2] as number) << 8) | (b[off + i * 2 + 1] as number));
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
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) end in dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      out += formatIpv4(b, off + 12);
      break;
    }
    out += (w[i] as number).toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function formatAddress(family: Family, bytes: Uint8Array): string {
  return family === 'inet' ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** Canonical text of an address (what the kernel would give back). */
export function canonicalAddress(text: string): string {
  const { family, bytes } = parseAddress(text);
  return formatAddress(family, bytes);
}
