// struct nlattr (linux/netlink.h; rtattr has the same layout): u16 length
// including the 4-byte header, u16 type, value, padding to 4 bytes. The
// generic walker: schema-driven codecs keep their own loop and use the constants.
import { endianness } from 'node:os';
import { NetlinkDecodeError } from './errors.js';
import { align4 } from './message.js';

const LE = endianness() === 'LE';

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
/** The type bits of nla_type, without NESTED and NET_BYTEORDER. */
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** One attribute: type (nested/byte-order bits masked off) and value bytes. */
export interface Attribute {
  type: number;
  value: Uint8Array;
}

/**
 * The attributes in `buf[start, end)`, values as views into `buf`. A length
 * that overruns, or bytes too few for a header, is a NetlinkDecodeError;
 * `base` is added to its offset so it can point into the whole message.
 */
export function decodeAttributes(buf: Uint8Array, start = 0, end = buf.length, base = 0): Attribute[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Attribute[] = [];
  let off = start;
  while (off < end) {
    if (end - off < NLA_HDRLEN)
      throw new NetlinkDecodeError(`truncated attribute header (${end - off} bytes left)`, base + off);
    const len = dv.getUint16(off, LE);
    const type = dv.getUint16(off + 2, LE) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > end)
      throw new NetlinkDecodeError(
        `attribute ${type} length ${len} overruns the ${end - off} bytes left`,
        base + off,
      );
    out.push({ type, value: buf.subarray(off + NLA_HDRLEN, off + len) });
    // The last attribute's padding may be missing: never step past `end`.
    off = Math.min(off + align4(len), end);
  }
  return out;
}

/** Bytes `attrs` take encoded (each padded to 4). */
export function attributesLength(attrs: readonly Attribute[]): number {
  let n = 0;
  for (const a of attrs) n += align4(NLA_HDRLEN + a.value.length);
  return n;
}

/** Encodes attributes in order, each padded to 4 bytes with zeros. */
export function encodeAttributes(attrs: readonly Attribute[]): Uint8Array {
  const out = new Uint8Array(attributesLength(attrs));
  const dv = new DataView(out.buffer);
  let off = 0;
  for (const a of attrs) {
    dv.setUint16(off, NLA_HDRLEN + a.value.length, LE);
    dv.setUint16(off + 2, a.type, LE);
    out.set(a.value, off + NLA_HDRLEN);
    off += align4(NLA_HDRLEN + a.value.length);
  }
  return out;
}
