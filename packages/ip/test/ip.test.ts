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

  it('reads IPv6 forms to canonical RFC 5952 text', () => {
    expect(parseIp('2001:DB8:0:0:0:0:0:50').text).toBe('2001:db8::50');
    expect(parseIp('2001:0db8:0000:0000:0000:0000:0000:0001').text).toBe('2001:db8::1');
    expect(parseIp('2001:db8:0:0:1:0:0:1').text).toBe('2001:db8::1:0:0:1'); // first of two equal runs
    expect(parseIp('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(parseIp('2001:db8:1:2:3:4:5:0').text).toBe('2001:db8:1:2:3:4:5:0');
    expect(parseIp('0:0:0:0:0:0:0:0').text).toBe('::');
    expect(parseIp('::1').text).toBe('::1');
    expect(parseIp('fe80::').text).toBe('fe80::');
    expect([...parseIp('2001:db8::50').bytes]).toEqual([
      0x20,
      0x01,
      0x0d,
      0xb8,
      ...new Array(11).fill(0),
      0x50,
    ]);
  });

  it('writes IPv4-mapped and IPv4-compatible addresses with a dotted tail, as inet_ntop does', () => {
    expect(parseIp('::ffff:192.0.2.1').text).toBe('::ffff:192.0.2.1');
    expect(parseIp('::ffff:c000:201').text).toBe('::ffff:192.0.2.1');
    expect(parseIp('::192.0.2.1').text).toBe('::192.0.2.1');
    expect([...parseIp('::ffff:192.0.2.1').bytes.subarray(10)]).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    // Not the well-known prefixes: plain hex.
    expect(parseIp('64:ff9b::192.0.2.1').text).toBe('64:ff9b::c000:201');
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

  it('tests membership bit by bit', () => {
    const net = parseIp('198.51.100.0');
    expect(prefixContains(net, 24, parseIp('198.51.100.77'))).toBe(true);
    expect(prefixContains(net, 25, parseIp('198.51.100.200'))).toBe(false);
    expect(prefixContains(net, 0, parseIp('203.0.113.1'))).toBe(true);
    expect(prefixContains(parseIp('2001:db8::'), 64, parseIp('2001:db8::50'))).toBe(true);
    expect(prefixContains(parseIp('2001:db8::'), 64, parseIp('2001:db8:1::50'))).toBe(false);
    expect(prefixContains(net, 24, parseIp('2001:db8::1'))).toBe(false);
  });

  it('computes IPv4 netmasks and broadcast addresses', () => {
    expect(ipv4Netmask(24).text).toBe('255.255.255.0');
    expect(ipv4Netmask(0).text).toBe('0.0.0.0');
    expect(ipv4Netmask(27).text).toBe('255.255.255.224');
    expect(ipv4Netmask(32).text).toBe('255.255.255.255');
    expect(thrown(() => ipv4Netmask(33))).toBeInstanceOf(InvalidAddressError);
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 24).text).toBe('192.0.2.255');
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 27).text).toBe('192.0.2.63');
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 32).text).toBe('192.0.2.50');
    expect(thrown(() => ipv4Broadcast(parseIp('2001:db8::1'), 64))).toBeInstanceOf(InvalidAddressError);
  });

  it('computes IPv6 solicited-node groups', () => {
    expect(solicitedNodeMulticast(parseIp('2001:db8::12:3456')).text).toBe('ff02::1:ff12:3456');
    expect(solicitedNodeMulticast(parseIp('fe80::a8bb:ccff:fedd:eeff')).text).toBe('ff02::1:ffdd:eeff');
    expect(thrown(() => solicitedNodeMulticast(parseIp('192.0.2.1')))).toBeInstanceOf(InvalidAddressError);
  });
});
