import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  arpProbe,
  DecodeError,
  dadNeighborSolicitation,
  decodeArpFrame,
  decodeNeighborDiscoveryFrame,
  formatMac,
  gratuitousArp,
  icmpv6Checksum,
  parseIp,
  parseMac,
  unsolicitedNeighborAdvertisement,
} from '../src/index.js';
import { readPcap } from './helpers/pcap.js';

// Frames a Linux 6.18 kernel sent itself (arp_notify=1, ndisc_notify=1) on a
// veth, captured with tcpdump -w from the peer namespace.
const kernel = readPcap(
  fileURLToPath(new URL('fixtures/kernel-6.18-arp-notify-ndisc-notify.pcap', import.meta.url)),
);
const mac = parseMac('02:00:5e:00:53:0a');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('ARP frames', () => {
  it('builds the gratuitous request byte for byte as the kernel does', () => {
    const frame = gratuitousArp('request', mac, parseIp('192.0.2.10'));
    expect(hex(frame)).toBe(hex(kernel[0]!.data));
    expect(hex(frame)).toBe(
      'ffffffffffff02005e00530a0806' +
        '0001080006040001' +
        '02005e00530a' +
        'c000020a' +
        '000000000000' +
        'c000020a',
    );
  });

  it('builds the reply form with our MAC as target MAC (what Linux needs to call it gratuitous)', () => {
    const f = decodeArpFrame(gratuitousArp('reply', mac, parseIp('192.0.2.10')));
    expect(f.operation).toBe(ARPOP_REPLY);
    expect(formatMac(f.senderMac)).toBe('02:00:5e:00:53:0a');
    expect(formatMac(f.targetMac)).toBe('02:00:5e:00:53:0a');
    expect(formatMac(f.ethernet.destination)).toBe('ff:ff:ff:ff:ff:ff');
    expect(f.senderIp.text).toBe('192.0.2.10');
    expect(f.targetIp.text).toBe('192.0.2.10');
  });

  it('builds an RFC 5227 probe with sender IP 0.0.0.0', () => {
    const f = decodeArpFrame(arpProbe(mac, parseIp('192.0.2.50')));
    expect(f.operation).toBe(ARPOP_REQUEST);
    expect(f.senderIp.text).toBe('0.0.0.0');
    expect(f.targetIp.text).toBe('192.0.2.50');
    expect(formatMac(f.targetMac)).toBe('00:00:00:00:00:00');
  });

  it('decodes the kernel frame and rejects truncated or foreign ones', () => {
    const f = decodeArpFrame(kernel[0]!.data);
    expect(f.operation).toBe(ARPOP_REQUEST);
    expect(f.senderIp.text).toBe('192.0.2.10');
    expect(() => decodeArpFrame(kernel[0]!.data.subarray(0, 30))).toThrow(DecodeError);
    expect(() => decodeArpFrame(kernel[1]!.data)).toThrow(/not ARP/);
    expect(() => gratuitousArp('request', new Uint8Array(5), parseIp('192.0.2.1'))).toThrow(/6 bytes/);
    expect(() => gratuitousArp('request', mac, parseIp('2001:db8::1'))).toThrow(/IPv4/);
  });
});

describe('IPv6 neighbour discovery frames', () => {
  const kernelNa = kernel.find((r) => hex(r.data).includes('8800') && hex(r.data).includes('20010db8'))!;
  const kernelNs = kernel.find((r) => hex(r.data).startsWith('3333ff000010'))!;

  it('builds the unsolicited NA byte for byte as the kernel does (override set, checksum)', () => {
    const frame = unsolicitedNeighborAdvertisement(mac, parseIp('2001:db8::10'));
    expect(hex(frame)).toBe(hex(kernelNa.data));
    const na = decodeNeighborDiscoveryFrame(frame);
    expect(na.type).toBe(136);
    expect(na.override).toBe(true);
    expect(na.solicited).toBe(false);
    expect(na.router).toBe(false);
    expect(na.hopLimit).toBe(255);
    expect(na.checksumValid).toBe(true);
    expect(na.checksum).toBe(0x4803);
    expect(na.destination.text).toBe('ff02::1');
    expect(formatMac(na.ethernet.destination)).toBe('33:33:00:00:00:01');
    expect(formatMac(na.linkLayerAddress!)).toBe('02:00:5e:00:53:0a');
  });

  it('sets the router flag and clears override on request', () => {
    const na = decodeNeighborDiscoveryFrame(
      unsolicitedNeighborAdvertisement(mac, parseIp('2001:db8::10'), { router: true, override: false }),
    );
    expect(na.router).toBe(true);
    expect(na.override).toBe(false);
    expect(na.checksumValid).toBe(true);
  });

  it('builds the DAD NS (with nonce) byte for byte as the kernel does', () => {
    const decoded = decodeNeighborDiscoveryFrame(kernelNs.data);
    expect(decoded.nonce?.length).toBe(6);
    const frame = dadNeighborSolicitation(mac, parseIp('2001:db8::10'), decoded.nonce);
    expect(hex(frame)).toBe(hex(kernelNs.data));
    const ns = decodeNeighborDiscoveryFrame(dadNeighborSolicitation(mac, parseIp('2001:db8::10')));
    expect(ns.type).toBe(135);
    expect(ns.source.text).toBe('::');
    expect(ns.destination.text).toBe('ff02::1:ff00:10');
    expect(formatMac(ns.ethernet.destination)).toBe('33:33:ff:00:00:10');
    expect(ns.checksumValid).toBe(true);
  });

  it('verifies checksums of every kernel ND frame and spots a corrupted one', () => {
    for (const r of kernel.slice(1)) {
      if (r.data[54] !== 135 && r.data[54] !== 136) continue;
      expect(decodeNeighborDiscoveryFrame(r.data).checksumValid).toBe(true);
    }
    const bad = Uint8Array.from(kernelNa.data);
    bad[70] = (bad[70] ?? 0) ^ 1;
    expect(decodeNeighborDiscoveryFrame(bad).checksumValid).toBe(false);
    expect(icmpv6Checksum(parseIp('::'), parseIp('ff02::1'), new Uint8Array(0))).toBeGreaterThan(0);
    expect(() => decodeNeighborDiscoveryFrame(kernelNa.data.subarray(0, 60))).toThrow(DecodeError);
  });

  it('parses and formats MACs', () => {
    expect(formatMac(parseMac('02-00-5E-00-53-01'))).toBe('02:00:5e:00:53:01');
    expect(() => parseMac('02:00:5e:00:53')).toThrow(/six hex bytes/);
  });
});
