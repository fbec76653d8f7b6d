import { describe, expect, it } from 'vitest';
import {
  AF_INET,
  AF_INET6,
  addressFamily,
  formatIp,
  formatIpv4,
  formatIpv6,
  InvalidAddressError,
  IpError,
  ipFamily,
  ipFromBytes,
  ipv4Broadcast,
  ipv4Netmask,
  maxPrefixLength,
  parseIp,
  parseIpv4,
  parseIpv6,
  parsePrefix,
  parsePrefixLength,
  prefixContains,
  solicitedNodeMulticast,
} from '../src/index.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parseIp', () => {
  it('reads IPv4 to bytes', () => {
    const a = parseIp('192.0.2.50');
    expect(a.family).toBe(4);
    expect([...a.bytes]).toEqual([192, 0, 2, 50]);
    expect(a.text).toBe('192.0.2.50');
    expect(parseIp(' 198.51.100.7\n').text).toBe('198.51.100.7');
  });

  it.each([
    ['2001:DB8:0:0:0:0:0:50', '2001:db8::50', 'lower case, zeros compressed'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 'leading zeros dropped'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 'the first of two equal runs'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::', 'the longer run'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 'one zero group is not compressed'],
    ['2001:db8:1:2:3:4:5:0', '2001:db8:1:2:3:4:5:0', 'nor a trailing one'],
    ['1::2:3:4:5:6:7', '1:0:2:3:4:5:6:7', ':: for a single group, written out'],
    ['0:0:0:0:0:0:0:0', '::', 'all zero'],
    ['0::1', '::1', 'loopback'],
    ['fe80:0::', 'fe80::', 'trailing run'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1', 'IPv4-mapped: dotted tail'],
    ['::ffff:c000:201', '::ffff:192.0.2.1', 'IPv4-mapped given in hex: dotted tail'],
    ['::c000:201', '::192.0.2.1', 'IPv4-compatible: dotted tail'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', 'any other prefix: hex'],
  ])('%s is %s (%s)', (input, canonical) => {
    const a = parseIp(input);
    expect(a.family).toBe(6);
    expect(a.text).toBe(canonical);
    expect(parseIpv6(canonical)).toEqual(a.bytes);
  });

  it('reads IPv6 to network-order bytes', () => {
    expect(Array.from(parseIp('2001:db8:a::5:50').bytes)).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0x50,
    ]);
    expect(Array.from(parseIp('::ffff:203.0.113.4').bytes.subarray(10))).toEqual([
      0xff, 0xff, 203, 0, 113, 4,
    ]);
  });

  it.each([
    ['', 'empty'],
    ['192.0.2.256', 'four numbers'],
    ['192.0.2', 'four numbers'],
    ['192.0.2.01', 'four numbers'],
    ['eth0', 'neither IPv4'],
    ['2001:db8:::1', 'IPv6'],
    ['2001:db8::1::2', 'IPv6'],
    ['1:2:3:4:5:6:7:8:9', 'IPv6'],
    ['1:2:3:4:5:6:7::8', 'IPv6'],
    ['::ffff:192.0.2.300', 'IPv6'],
    ['[2001:db8::1]', 'IPv6'],
    ['fe80::1%eth0', 'zone'],
  ])('refuses %j with a typed error', (text, why) => {
    const err = thrown(() => parseIp(text));
    expect(err).toBeInstanceOf(InvalidAddressError);
    expect(err).toBeInstanceOf(IpError);
    expect((err as InvalidAddressError).code).toBe('INVALID_ADDRESS');
    expect((err as InvalidAddressError).input).toBe(text);
    expect((err as InvalidAddressError).reason).toContain(why);
    expect((err as InvalidAddressError).message).toBe(
      `"${text}" is not a valid address: ${(err as InvalidAddressError).reason}`,
    );
  });

  it('refuses what is not a string', () => {
    expect(thrown(() => parseIp(42 as unknown as string))).toBeInstanceOf(InvalidAddressError);
  });
});

describe('the strict parsers', () => {
  it('return bytes or undefined, never throw', () => {
    expect([...(parseIpv4('203.0.113.9') ?? [])]).toEqual([203, 0, 113, 9]);
    expect(parseIpv4(' 203.0.113.9')).toBeUndefined();
    expect(parseIpv4('1.2.3.4.5')).toBeUndefined();
    expect(parseIpv4('::1')).toBeUndefined();
    expect(parseIpv6('192.0.2.1')).toBeUndefined();
    expect(parseIpv6('2001:db8::1')?.[15]).toBe(1);
    expect(parseIpv6('::')).toEqual(new Uint8Array(16));
  });
});

describe('formatting bytes', () => {
  it('formats 4 or 16 bytes, at an offset too', () => {
    expect(formatIp(Uint8Array.of(192, 0, 2, 1))).toBe('192.0.2.1');
    const buf = new Uint8Array(20);
    buf.set([0x20, 0x01, 0x0d, 0xb8], 4);
    buf[19] = 0x21;
    expect(formatIpv6(buf, 4)).toBe('2001:db8::21');
    expect(formatIpv4(Uint8Array.of(0, 0, 198, 51, 100, 1), 2)).toBe('198.51.100.1');
    expect(thrown(() => formatIp(new Uint8Array(5)))).toBeInstanceOf(InvalidAddressError);
  });

  it('makes an IpAddress of bytes, copied', () => {
    const b = Uint8Array.of(192, 0, 2, 9);
    const a = ipFromBytes(b);
    b[3] = 10;
    expect(a).toEqual({ family: 4, bytes: Uint8Array.of(192, 0, 2, 9), text: '192.0.2.9' });
    expect(ipFromBytes(parseIp('2001:db8::9').bytes).family).toBe(6);
  });
});

describe('families', () => {
  it('maps 4/6 to AF_INET/AF_INET6 and back', () => {
    expect([AF_INET, AF_INET6]).toEqual([2, 10]);
    expect(addressFamily(4)).toBe(AF_INET);
    expect(addressFamily(6)).toBe(AF_INET6);
    expect(ipFamily(2)).toBe(4);
    expect(ipFamily(10)).toBe(6);
    expect(ipFamily(17)).toBeUndefined();
    expect([maxPrefixLength(4), maxPrefixLength(6)]).toEqual([32, 128]);
  });
});

describe('prefixes', () => {
  it('reads prefix lengths and dotted netmasks', () => {
    expect(parsePrefix('192.0.2.50/24').prefixLength).toBe(24);
    expect(parsePrefix('192.0.2.50/255.255.255.0').prefixLength).toBe(24);
    expect(parsePrefix('192.0.2.50/0.0.0.0').prefixLength).toBe(0);
    expect(parsePrefix('192.0.2.50').prefixLength).toBe(32);
    expect(parsePrefix('192.0.2.50', 24).prefixLength).toBe(24);
    expect(parsePrefix('2001:db8::50/64')).toEqual({ address: parseIp('2001:db8::50'), prefixLength: 64 });
    expect(parsePrefixLength('128', 6)).toBe(128);
  });

  it.each([
    ['192.0.2.50/33', 'prefix length 33 is more than 32'],
    ['192.0.2.50/255.0.255.0', 'netmask 255.0.255.0 is not contiguous'],
    ['2001:db8::/129', 'prefix length 129 is more than 128'],
    ['2001:db8::/ffff::', '"ffff::" is not a prefix length 0-128'],
    ['192.0.2.50/x', '"x" is not a prefix length 0-32'],
  ])('refuses %j: %s', (text, reason) => {
    const err = thrown(() => parsePrefix(text)) as InvalidAddressError;
    expect(err).toBeInstanceOf(InvalidAddressError);
    expect(err.input).toBe(text);
    expect(err.reason).toBe(reason);
  });

  it.each([
    ['198.51.100.0/24', '198.51.100.255', true],
    ['198.51.100.128/25', '198.51.100.127', false],
    ['198.51.100.0/23', '198.51.101.1', true],
    ['0.0.0.0/0', '203.0.113.1', true],
    ['203.0.113.9/32', '203.0.113.9', true],
    ['203.0.113.9/32', '203.0.113.8', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8:8000::/33', '2001:db8:7fff::1', false],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['::/0', '2001:db8::1', true],
    ['198.51.100.0/24', '::ffff:198.51.100.1', false], // across families, never
  ] as const)('%s holds %s: %s', (prefix, address, holds) => {
    const p = parsePrefix(prefix);
    expect(prefixContains(p.address, p.prefixLength, parseIp(address))).toBe(holds);
  });

  it.each([
    [0, '0.0.0.0', '203.0.113.9', '255.255.255.255'],
    [8, '255.0.0.0', '203.0.113.9', '203.255.255.255'],
    [20, '255.255.240.0', '198.51.100.9', '198.51.111.255'],
    [29, '255.255.255.248', '198.51.100.9', '198.51.100.15'],
    [31, '255.255.255.254', '198.51.100.8', '198.51.100.9'],
    [32, '255.255.255.255', '198.51.100.9', '198.51.100.9'],
  ] as const)('/%i: netmask %s, broadcast of %s %s', (length, mask, address, broadcast) => {
    expect(ipv4Netmask(length).text).toBe(mask);
    expect(parsePrefixLength(mask, 4)).toBe(length);
    expect(ipv4Broadcast(parseIp(address), length).text).toBe(broadcast);
  });

  it('refuses netmasks and broadcasts that do not exist', () => {
    expect(thrown(() => ipv4Netmask(33))).toBeInstanceOf(InvalidAddressError);
    expect(thrown(() => ipv4Netmask(1.5))).toBeInstanceOf(InvalidAddressError);
    expect(thrown(() => ipv4Broadcast(parseIp('2001:db8::1'), 64))).toBeInstanceOf(InvalidAddressError);
  });

  it('computes IPv6 solicited-node groups', () => {
    expect(solicitedNodeMulticast(parseIp('2001:db8::ab:cdef')).text).toBe('ff02::1:ffab:cdef');
    expect(solicitedNodeMulticast(parseIp('fe80::a8bb:ccff:fedd:eeff')).text).toBe('ff02::1:ffdd:eeff');
    expect(thrown(() => solicitedNodeMulticast(parseIp('192.0.2.1')))).toBeInstanceOf(InvalidAddressError);
  });
});
