import { describe, expect, it } from 'vitest';
import {
  decodeAttributes,
  decodeDoneErrno,
  decodeErrorPayload,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeDoneMessage,
  encodeErrorMessage,
  encodeErrorPayload,
  encodeNetlinkMessage,
  NetlinkDecodeError,
  NLM_F,
  NLMSG,
  readNetlinkHeader,
  writeNetlinkHeader,
} from '../src/index.js';

// Golden bytes derived by hand from linux/netlink.h; netlink is host order,
// and these vectors are little-endian as the machines we run on.
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const caught = (f: () => unknown): NetlinkDecodeError => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NetlinkDecodeError);
    return e as NetlinkDecodeError;
  }
  throw new Error('expected a NetlinkDecodeError');
};

// RTM_NEWADDR (20) with REQUEST|ACK|EXCL|CREATE, seq 1, pid 1234, and an 8-byte ifaddrmsg.
const REQUEST = bytes(`
  18000000 1400 0506 01000000 d2040000
  02 20 00 00 02000000`);
const REQUEST_HEADER = { length: 24, type: 20, flags: 0x605, seq: 1, pid: 1234 };

describe('nlmsghdr', () => {
  it('writes and reads the 16-byte header', () => {
    const out = new Uint8Array(20);
    writeNetlinkHeader(out, 4, REQUEST_HEADER);
    expect(hex(out)).toBe(hex(bytes('00000000 18000000 1400 0506 01000000 d2040000')));
    expect(readNetlinkHeader(out, 4)).toEqual(REQUEST_HEADER);
  });

  it('wraps a payload: length without padding, buffer padded to 4', () => {
    const m = encodeNetlinkMessage({ type: 20, flags: 0x605, seq: 1, pid: 1234 }, REQUEST.subarray(16));
    expect(hex(m)).toBe(hex(REQUEST));
    const odd = encodeNetlinkMessage({ type: NLMSG.NOOP, flags: 0, seq: 2 }, Uint8Array.of(0xaa));
    expect(hex(odd)).toBe(hex(bytes('11000000 0100 0000 02000000 00000000 aa000000')));
  });

  it('has the flag values of the uapi header', () => {
    expect(NLM_F.REQUEST | NLM_F.ACK | NLM_F.EXCL | NLM_F.CREATE).toBe(0x605);
    expect(NLM_F.DUMP).toBe(NLM_F.ROOT | NLM_F.MATCH);
    expect(NLMSG).toEqual({ NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 });
  });
});

describe('NLMSG_ERROR and NLMSG_DONE', () => {
  it('encodes an ACK as the kernel does: CAPPED, the request header echoed', () => {
    const ack = encodeErrorMessage(1, 0, REQUEST);
    expect(hex(ack)).toBe(
      hex(
        bytes(`
        24000000 0200 0001 01000000 00000000
        00000000
        18000000 1400 0506 01000000 d2040000`),
      ),
    );
    const [m] = decodeNetlinkMessages(ack);
    expect(m!.header.type).toBe(NLMSG.ERROR);
    expect(decodeErrorPayload(m!.payload)).toEqual({ errno: 0, request: REQUEST_HEADER });
  });

  it('encodes an error (EEXIST) with the whole request echoed', () => {
    const nack = encodeErrorMessage(1, 17, REQUEST, 0);
    expect(hex(nack)).toBe(
      hex(
        bytes(`
        2c000000 0200 0000 01000000 00000000
        efffffff
        18000000 1400 0506 01000000 d2040000
        02 20 00 00 02000000`),
      ),
    );
    const [m] = decodeNetlinkMessages(nack);
    expect(decodeErrorPayload(m!.payload)).toEqual({ errno: 17, request: REQUEST_HEADER });
  });

  it('encodes and decodes the 20-byte payload alone', () => {
    const p = encodeErrorPayload(1, REQUEST_HEADER);
    expect(hex(p)).toBe(hex(bytes('ffffffff 18000000 1400 0506 01000000 d2040000')));
    expect(decodeErrorPayload(p)).toEqual({ errno: 1, request: REQUEST_HEADER });
  });

  it('encodes a DONE, with and without an errno', () => {
    expect(hex(encodeDoneMessage(5))).toBe(hex(bytes('14000000 0300 0200 05000000 00000000 00000000')));
    const failed = encodeDoneMessage(5, 77, 16); // EBUSY midway through a dump
    expect(hex(failed)).toBe(hex(bytes('14000000 0300 0200 05000000 4d000000 f0ffffff')));
    const [m] = decodeNetlinkMessages(failed);
    expect(decodeDoneErrno(m!.payload)).toBe(16);
    expect(decodeDoneErrno(new Uint8Array(0))).toBe(0); // old kernels: no int at all
  });
});

describe('splitting a datagram', () => {
  const datagram = new Uint8Array(REQUEST.length + 20);
  datagram.set(REQUEST);
  datagram.set(encodeDoneMessage(5), REQUEST.length);

  it('gives each message with its offset, payloads as views', () => {
    const msgs = decodeNetlinkMessages(datagram);
    expect(msgs.map((m) => [m.header.type, m.offset, m.payload.length])).toEqual([
      [20, 0, 8],
      [NLMSG.DONE, 24, 4],
    ]);
    expect(msgs[0]!.payload.buffer).toBe(datagram.buffer);
    expect(decodeNetlinkMessages(new Uint8Array(0))).toEqual([]);
  });

  it('accepts a last message whose padding is missing', () => {
    const odd = encodeNetlinkMessage({ type: NLMSG.NOOP, flags: 0, seq: 2 }, Uint8Array.of(0xaa));
    expect(decodeNetlinkMessages(odd.subarray(0, 17))[0]!.payload).toEqual(Uint8Array.of(0xaa));
  });

  it('gives a typed error with the offset at every cut', () => {
    for (let cut = 1; cut < datagram.length; cut++) {
      if (cut === REQUEST.length) continue; // a whole first message is a valid datagram
      const e = caught(() => decodeNetlinkMessages(datagram.subarray(0, cut)));
      expect(e.code).toBe('DECODE');
      expect(e.offset, `cut at ${cut}`).toBe(cut < REQUEST.length ? 0 : REQUEST.length);
      expect(e.message).toBe(`${e.reason} (at byte ${e.offset})`);
    }
  });

  it('says which check failed', () => {
    expect(caught(() => decodeNetlinkMessages(REQUEST.subarray(0, 10))).reason).toBe(
      'truncated netlink header (10 bytes)',
    );
    expect(caught(() => decodeNetlinkMessages(REQUEST.subarray(0, 20))).reason).toBe(
      'netlink message length 24 overruns the 20-byte datagram',
    );
    const zero = Uint8Array.from(REQUEST);
    zero[0] = 8; // a length below the header's own 16 bytes would never advance
    expect(caught(() => decodeNetlinkMessages(zero)).reason).toMatch(/length 8 overruns/);
    expect(caught(() => readNetlinkHeader(REQUEST, 12)).offset).toBe(12);
  });

  it('refuses a short NLMSG_ERROR payload at the offset given', () => {
    const e = caught(() => decodeErrorPayload(new Uint8Array(8), 16));
    expect(e.offset).toBe(16);
    expect(e.reason).toBe('NLMSG_ERROR payload is 8 bytes, at least 20 expected');
  });
});

describe('attributes', () => {
  // IFA_LOCAL 192.0.2.50 and IFA_LABEL "eth0:0", as iproute2 sends them.
  const golden = bytes('0800 0200 c0000232  0b00 0300 657468303a3000 00');
  const attrs = [
    { type: 2, value: bytes('c0000232') },
    { type: 3, value: Buffer.from('eth0:0\0') },
  ];

  it('encodes and walks nlattrs with 4-byte padding', () => {
    expect(hex(encodeAttributes(attrs))).toBe(hex(golden));
    const decoded = decodeAttributes(golden);
    expect(decoded.map((a) => [a.type, hex(a.value)])).toEqual(attrs.map((a) => [a.type, hex(a.value)]));
    expect(decodeAttributes(golden.subarray(0, 19)).length).toBe(2); // last padding missing
  });

  it('masks NLA_F_NESTED and NLA_F_NET_BYTEORDER off the type', () => {
    expect(decodeAttributes(bytes('0400 01c0'))[0]!.type).toBe(1);
  });

  it('walks a range and reports truncation with base + offset', () => {
    const msg = new Uint8Array(4 + golden.length);
    msg.set(golden, 4);
    expect(decodeAttributes(msg, 4).length).toBe(2);
    expect(decodeAttributes(msg, 4, 12).length).toBe(1);
    const over = caught(() => decodeAttributes(msg, 4, 18, 100));
    expect(over.offset).toBe(112);
    expect(over.reason).toBe('attribute 3 length 11 overruns the 6 bytes left');
    const short = caught(() => decodeAttributes(msg, 4, 14));
    expect(short.reason).toBe('truncated attribute header (2 bytes left)');
    expect(short.offset).toBe(12);
  });
});
