import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAttributes,
  decodeErrorPayload,
  decodeNetlinkMessages,
  encodeAttributes,
  encodeErrorMessage,
  encodeErrorPayload,
  encodeNetlinkMessage,
  NetlinkDecodeError,
  NLMSG_HDRLEN,
} from '../src/index.js';

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const header = fc.record({ type: u16, flags: u16, seq: u32, pid: u32 });
const payload = fc.uint8Array({ maxLength: 64 });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

describe('round trips', () => {
  it('messages packed in a datagram split back into the same headers and payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(header, payload), { maxLength: 8 }), (msgs) => {
        const datagram = concat(msgs.map(([h, p]) => encodeNetlinkMessage(h, p)));
        const decoded = decodeNetlinkMessages(datagram);
        expect(decoded.map((m) => ({ ...m.header, payload: Array.from(m.payload) }))).toEqual(
          msgs.map(([h, p]) => ({ ...h, length: NLMSG_HDRLEN + p.length, payload: Array.from(p) })),
        );
      }),
    );
  });

  it('an NLMSG_ERROR gives back its errno and the request header', () => {
    fc.assert(
      fc.property(header, payload, fc.integer({ min: 0, max: 4095 }), u32, (h, p, errno, seq) => {
        const request = encodeNetlinkMessage(h, p);
        const [m] = decodeNetlinkMessages(encodeErrorMessage(seq, errno, request));
        const e = decodeErrorPayload(m!.payload);
        expect(e).toEqual({ errno, request: { ...h, length: NLMSG_HDRLEN + p.length } });
        expect(decodeErrorPayload(encodeErrorPayload(errno, e.request))).toEqual(e);
      }),
    );
  });

  it('attributes encode and walk back', () => {
    const attr = fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), value: payload });
    fc.assert(
      fc.property(fc.array(attr, { maxLength: 8 }), (attrs) => {
        const back = decodeAttributes(encodeAttributes(attrs));
        expect(back.map((a) => [a.type, Array.from(a.value)])).toEqual(
          attrs.map((a) => [a.type, Array.from(a.value)]),
        );
      }),
    );
  });
});

describe('arbitrary bytes', () => {
  it('decode or fail with a NetlinkDecodeError inside the buffer, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (buf) => {
        for (const f of [() => decodeNetlinkMessages(buf), () => decodeAttributes(buf)]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(NetlinkDecodeError);
            expect((e as NetlinkDecodeError).offset).toBeLessThan(buf.length);
          }
        }
      }),
    );
  });
});
