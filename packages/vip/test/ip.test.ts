import { describe, expect, it } from 'vitest';
import {
  InvalidAddressError,
  InvalidArgumentError,
  ipv4Broadcast,
  parseIp,
  parsePrefix,
  parseVipSpec,
  prefixContains,
  solicitedNodeMulticast,
} from '../src/index.js';

describe('parseIp', () => {
  it('parses IPv4 to bytes', () => {
    const a = parseIp('192.0.2.50');
    expect(a.family).toBe(4);
    expect([...a.bytes]).toEqual([192, 0, 2, 50]);
    expect(a.text).toBe('192.0.2.50');
  });

  it('parses IPv6 forms to canonical RFC 5952 text', () => {
    expect(parseIp('2001:DB8:0:0:0:0:0:50').text).toBe('2001:db8::50');
    expect(parseIp('2001:db8::1:0:0:1').text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('2001:db8:0:0:1:0:0:1').text).toBe('2001:db8::1:0:0:1');
    expect(parseIp('::').text).toBe('::');
    expect(parseIp('::1').text).toBe('::1');
    expect(parseIp('fe80::').text).toBe('fe80::');
    expect(parseIp('2001:db8:1:2:3:4:5:6').text).toBe('2001:db8:1:2:3:4:5:6');
    expect(parseIp('2001:db8:0:1:1:1:1:1').text).toBe('2001:db8:0:1:1:1:1:1');
    expect([...parseIp('::ffff:192.0.2.1').bytes.subarray(10)]).toEqual([0xff, 0xff, 192, 0, 2, 1]);
    expect([...parseIp('2001:db8::50').bytes]).toEqual([
      0x20,
      0x01,
      0x0d,
      0xb8,
      ...new Array(11).fill(0),
      0x50,
    ]);
  });

  it.each([
    ['', 'empty'],
    ['192.0.2.256', 'four numbers'],
    ['192.0.2', 'four numbers'],
    ['eth0', 'neither IPv4'],
    ['2001:db8:::1', 'IPv6'],
    ['fe80::1%eth0', 'zone'],
  ])('rejects %j with a typed error', (text, why) => {
    const err = (() => {
      try {
        parseIp(text);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidAddressError);
    expect((err as InvalidAddressError).code).toBe('INVALID_ADDRESS');
    expect((err as InvalidAddressError).message).toContain(why);
  });
});

describe('prefixes', () => {
  it('parses prefix lengths and dotted netmasks', () => {
    expect(parsePrefix('192.0.2.50/24').prefixLength).toBe(24);
    expect(parsePrefix('192.0.2.50/255.255.255.0').prefixLength).toBe(24);
    expect(parsePrefix('192.0.2.50').prefixLength).toBe(32);
    expect(parsePrefix('2001:db8::50/64').prefixLength).toBe(64);
    expect(() => parsePrefix('192.0.2.50/33')).toThrow(/more than 32/);
    expect(() => parsePrefix('192.0.2.50/255.0.255.0')).toThrow(/not contiguous/);
    expect(() => parsePrefix('2001:db8::/129')).toThrow(InvalidAddressError);
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

  it('computes IPv4 broadcast and IPv6 solicited-node groups', () => {
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 24).text).toBe('192.0.2.255');
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 27).text).toBe('192.0.2.63');
    expect(ipv4Broadcast(parseIp('192.0.2.50'), 32).text).toBe('192.0.2.50');
    expect(solicitedNodeMulticast(parseIp('2001:db8::12:3456')).text).toBe('ff02::1:ff12:3456');
  });
});

describe('parseVipSpec', () => {
  it("reads the seed's haresources form", () => {
    const v = parseVipSpec('12.3.4.50/32/eth0');
    expect(v.address.text).toBe('12.3.4.50');
    expect(v.prefixLength).toBe(32);
    expect(v.interface).toBe('eth0');
    expect(v.label).toBeUndefined();
  });

  it('reads labels and broadcast', () => {
    const v = parseVipSpec('192.0.2.50/24/eth0:0/192.0.2.255');
    expect(v.interface).toBe('eth0');
    expect(v.label).toBe('eth0:0');
    expect(v.broadcast?.text).toBe('192.0.2.255');
    expect(parseVipSpec('2001:db8::50/64/eth1').address.family).toBe(6);
    expect(parseVipSpec('192.0.2.50').prefixLength).toBeUndefined();
  });

  it('rejects bad specs with a sentence saying why', () => {
    expect(() => parseVipSpec('12.3.4.500/32/eth0')).toThrow(InvalidAddressError);
    expect(() => parseVipSpec('12.3.4.50/40/eth0')).toThrow(/more than 32/);
    expect(() => parseVipSpec('12.3.4.50/32/this-name-is-too-long')).toThrow(InvalidArgumentError);
    expect(() => parseVipSpec('2001:db8::50/64/eth0:1')).toThrow(/IPv4 only/);
    expect(() => parseVipSpec('1.2.3.4/32/eth0/1.2.3.255/x')).toThrow(/expected address/);
    expect(() => parseVipSpec('')).toThrow(/empty/);
  });
});
