// The parser and the formatter against glibc's own inet_pton/inet_ntop
// (called through koffi), on generated text and bytes: what glibc accepts
// we accept, with the same bytes, and our text is glibc's.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6, formatIpv6, parseIpv4, parseIpv6 } from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: koffi's own types are loose; two calls are typed below.
const koffi = createRequire(import.meta.url)('koffi') as any;
const lib = koffi.load('libc.so.6');
const inetPton = lib.func('int inet_pton(int, const char *, void *)') as (
  af: number,
  text: string,
  dst: Uint8Array,
) => number;
const inetNtop = lib.func('const char *inet_ntop(int, void *, void *, uint32_t)') as (
  af: number,
  src: Uint8Array,
  dst: Uint8Array,
  size: number,
) => string | null;

function glibcParse(af: number, text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return inetPton(af, text, out) === 1 ? out.subarray(0, af === AF_INET ? 4 : 16) : undefined;
}

const hex = fc.constantFrom(...'0123456789abcdefABCDEF');
// Mostly well-formed pieces, with some of every kind of mistake: empty or
// five-digit groups, too many groups, leading zeros and big numbers in the
// IPv4 tail.
const group = fc.oneof(
  { weight: 9, arbitrary: fc.array(hex, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('', '12345') },
);
const octet = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 256, max: 400 }).map(String) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }).map((n) => `0${n}`) },
);
const dotted = fc
  .oneof({ weight: 8, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.constantFrom(3, 5) })
  .chain((n) => fc.array(octet, { minLength: n, maxLength: n }))
  .map((o) => o.join('.'));
const ipv6Text = fc
  .tuple(fc.array(group, { minLength: 0, maxLength: 9 }), fc.nat(), fc.boolean(), fc.option(dotted))
  .map(([groups, at, compressed, v4]) => {
    const cut = at % (groups.length + 1);
    const parts = compressed
      ? `${groups.slice(0, cut).join(':')}::${groups.slice(cut).join(':')}`
      : groups.join(':');
    return v4 === null ? parts : `${parts}${parts === '' || parts.endsWith(':') ? '' : ':'}${v4}`;
  });
const noise = fc.array(fc.constantFrom(...'0123456789abcdefg:.'), { maxLength: 45 }).map((c) => c.join(''));

// Bytes with long zero runs and 0xffff groups, where the formatting rules matter.
const word = fc.oneof(
  fc.constant(0),
  fc.constant(0),
  fc.constant(0xffff),
  fc.integer({ min: 0, max: 0xffff }),
);
const ipv6Bytes = fc.array(word, { minLength: 8, maxLength: 8 }).map((ws) => {
  const b = new Uint8Array(16);
  ws.forEach((w, i) => {
    b[i * 2] = w >> 8;
    b[i * 2 + 1] = w & 0xff;
  });
  return b;
});

describe('against glibc', () => {
  it('IPv6 text: accepted exactly when inet_pton accepts, to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(ipv6Text, noise), (text) => {
        expect(parseIpv6(text)).toEqual(glibcParse(AF_INET6, text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('IPv4 text: accepted exactly when inet_pton accepts, to the same bytes', () => {
    fc.assert(
      fc.property(fc.oneof(dotted, noise), (text) => {
        expect(parseIpv4(text)).toEqual(glibcParse(AF_INET, text));
      }),
      { numRuns: 20_000 },
    );
  });

  it('IPv6 bytes: formatted as inet_ntop formats them, and read back', () => {
    const out = new Uint8Array(64);
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        const text = formatIpv6(bytes);
        expect(text).toBe(inetNtop(AF_INET6, bytes, out, out.length));
        expect(parseIpv6(text)).toEqual(bytes);
      }),
      { numRuns: 20_000 },
    );
  });
});
