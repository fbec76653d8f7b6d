import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  decodeAddressMessage,
  decodeErrorMessage,
  decodeLinkMessage,
  decodeNetlinkMessages,
  encodeAddressMessage,
  encodeDumpRequest,
  encodeErrorMessage,
  encodeLinkMessage,
  encodeNetlinkMessage,
  IFA_F,
  IFF,
  NLM_F,
  NLMSG,
  parseIp,
  RTM,
} from '../src/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

// Layouts from linux/netlink.h, if_addr.h, rtnetlink.h; host order is little-endian here.
describe('RTM_NEWADDR', () => {
  const vip = parseIp('192.0.2.50');
  const request = encodeNetlinkMessage(
    { type: RTM.NEWADDR, flags: NLM_F.REQUEST | NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq: 1 },
    encodeAddressMessage({
      family: 4,
      prefixLength: 32,
      flags: 0,
      scope: 0,
      index: 2,
      local: vip,
      address: vip,
      label: 'eth0:0',
    }),
  );

  it('encodes `ip addr add 192.0.2.50/32 dev eth0 label eth0:0` as iproute2 does', () => {
    expect(hex(request)).toBe(
      hex(
        bytes(`
        34000000 1400 0506 01000000 00000000
        02 20 00 00 02000000
        0800 0200 c0000232
        0800 0100 c0000232
        0b00 0300 657468303a3000 00`),
      ),
    );
  });

  it('round-trips through the decoder', () => {
    const [m] = decodeNetlinkMessages(request);
    expect(m!.header).toEqual({ length: 52, type: RTM.NEWADDR, flags: 0x605, seq: 1, pid: 0 });
    const a = decodeAddressMessage(m!.payload);
    expect(a.family).toBe(4);
    expect(a.prefixLength).toBe(32);
    expect(a.index).toBe(2);
    expect(a.local?.text).toBe('192.0.2.50');
    expect(a.address?.text).toBe('192.0.2.50');
    expect(a.label).toBe('eth0:0');
  });

  it('puts flags above 8 bits into IFA_FLAGS', () => {
    const p = encodeAddressMessage({
      family: 6,
      prefixLength: 64,
      flags: IFA_F.NODAD | IFA_F.NOPREFIXROUTE,
      scope: 0,
      index: 7,
      address: parseIp('2001:db8::50'),
    });
    expect(hex(p)).toBe(
      hex(bytes(`0a 40 02 00 07000000  1400 0100 20010db8000000000000000000000050  0800 0800 02020000`)),
    );
    expect(decodeAddressMessage(p).flags).toBe(IFA_F.NODAD | IFA_F.NOPREFIXROUTE);
    expect(decodeAddressMessage(p).address?.text).toBe('2001:db8::50');
  });

  it('rejects mixed families and truncated payloads', () => {
    expect(() =>
      encodeAddressMessage({
        family: 4,
        prefixLength: 32,
        flags: 0,
        scope: 0,
        index: 1,
        local: parseIp('2001:db8::1'),
      }),
    ).toThrow(/not IPv4/);
    expect(() => decodeAddressMessage(new Uint8Array(5))).toThrow(DecodeError);
    expect(() => decodeAddressMessage(bytes('02200000 02000000 0800 0200 c000'))).toThrow(/overruns/);
    expect(() => decodeAddressMessage(bytes('07200000 02000000'))).toThrow(/family 7/);
  });
});

describe('links, errors, dumps', () => {
  it('encodes a set-link-up request (ifinfomsg flags/change)', () => {
    const p = encodeLinkMessage({ type: 0, index: 3, flags: IFF.UP, change: IFF.UP });
    expect(hex(p)).toBe('0000000003000000' + '01000000' + '01000000');
  });

  it('decodes a link with name, MTU, MAC and operstate', () => {
    const p = bytes(`
      00 00 0100 02000000 43100100 00000000
      0900 0300 657468300000 0000
      0800 0400 dc050000
      0a00 0100 02005e005301 0000
      0500 1000 06 000000`);
    const l = decodeLinkMessage(p);
    expect(l.index).toBe(2);
    expect(l.type).toBe(1);
    expect(l.flags & IFF.UP).toBe(IFF.UP);
    expect(l.flags & IFF.LOWER_UP).toBe(IFF.LOWER_UP);
    expect(l.name).toBe('eth0');
    expect(l.mtu).toBe(1500);
    expect(hex(l.address!)).toBe('02005e005301');
    expect(l.operstate).toBe(6);
    expect(encodeLinkMessage({ ...l, change: 0 }).length).toBeGreaterThan(16);
  });

  it('encodes and decodes NLMSG_ERROR (errno, request header)', () => {
    const req = { length: 52, type: RTM.NEWADDR, flags: 0x605, seq: 9, pid: 1234 };
    const e = decodeErrorMessage(encodeErrorMessage(17, req));
    expect(e.errno).toBe(17);
    expect(e.request).toEqual(req);
    expect(() => decodeErrorMessage(new Uint8Array(8))).toThrow(DecodeError);
  });

  it('splits a multi-message datagram and encodes dumps', () => {
    const dump = encodeDumpRequest(RTM.GETADDR, 5, 2);
    expect(hex(dump)).toBe('18000000' + '1600' + '0103' + '05000000' + '00000000' + '0200000000000000');
    const done = encodeNetlinkMessage({ type: NLMSG.DONE, flags: NLM_F.MULTI, seq: 5 }, new Uint8Array(4));
    const both = new Uint8Array(dump.length + done.length);
    both.set(dump);
    both.set(done, dump.length);
    const msgs = decodeNetlinkMessages(both);
    expect(msgs.map((m) => m.header.type)).toEqual([RTM.GETADDR, NLMSG.DONE]);
    expect(() => decodeNetlinkMessages(both.subarray(0, 40))).toThrow(/overruns/);
  });
});
