// struct nlmsghdr (linux/netlink.h): 16 bytes, host byte order, every
// message 4-byte aligned in the datagram; NLMSG_ERROR's struct nlmsgerr and
// NLMSG_DONE's optional errno. Pure: bytes in, typed values out.
import { endianness } from 'node:os';
import { NetlinkDecodeError } from './errors.js';

const LE = endianness() === 'LE';

export const NLMSG_HDRLEN = 16;
/** NLMSG_ALIGN and NLA_ALIGN: messages and attributes are padded to 4 bytes. */
export const align4 = (n: number): number => (n + 3) & ~3;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
/** NLM_F_*: the same bits mean different things on GET (ROOT/MATCH), NEW (REPLACE/EXCL…) and ACKs (CAPPED/ACK_TLVS). */
export const NLM_F = {
  REQUEST: 0x1,
  MULTI: 0x2,
  ACK: 0x4,
  ECHO: 0x8,
  DUMP_INTR: 0x10,
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
  CAPPED: 0x100,
  ACK_TLVS: 0x200,
} as const;

export interface NetlinkHeader {
  /** Total length including the 16-byte header. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 = kernel). */
  pid: number;
}

/** A header to write: `pid` defaults to 0. */
export type NetlinkHeaderInput = Omit<NetlinkHeader, 'pid'> & { pid?: number };

export interface NetlinkMessage {
  header: NetlinkHeader;
  /** Bytes after the netlink header (a view into the datagram). */
  payload: Uint8Array;
  /** Offset of the header in the datagram (for error positions). */
  offset: number;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function headerAt(dv: DataView, off: number): NetlinkHeader {
  return {
    length: dv.getUint32(off, LE),
    type: dv.getUint16(off + 4, LE),
    flags: dv.getUint16(off + 6, LE),
    seq: dv.getUint32(off + 8, LE),
    pid: dv.getUint32(off + 12, LE),
  };
}

/** Writes a 16-byte header at `off`; `length` is written as given (the caller knows the message). */
export function writeNetlinkHeader(out: Uint8Array, off: number, h: NetlinkHeaderInput): void {
  const dv = view(out);
  dv.setUint32(off, h.length, LE);
  dv.setUint16(off + 4, h.type, LE);
  dv.setUint16(off + 6, h.flags, LE);
  dv.setUint32(off + 8, h.seq >>> 0, LE);
  dv.setUint32(off + 12, (h.pid ?? 0) >>> 0, LE);
}

/** Reads the 16-byte header at `off`; fewer bytes left is a NetlinkDecodeError. */
export function readNetlinkHeader(buf: Uint8Array, off = 0): NetlinkHeader {
  if (buf.length - off < NLMSG_HDRLEN)
    throw new NetlinkDecodeError(`truncated netlink header (${Math.max(0, buf.length - off)} bytes)`, off);
  return headerAt(view(buf), off);
}

/** Wraps a payload in a netlink header (length = 16 + payload, buffer padded to 4). */
export function encodeNetlinkMessage(
  header: { type: number; flags: number; seq: number; pid?: number },
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + align4(payload.length));
  writeNetlinkHeader(out, 0, { ...header, length: NLMSG_HDRLEN + payload.length });
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/**
 * Splits a datagram into netlink messages (payloads are views into it). A
 * length that overruns, or bytes too few for a header, is a NetlinkDecodeError.
 */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  const dv = view(buf);
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN)
      throw new NetlinkDecodeError(`truncated netlink header (${buf.length - off} bytes)`, off);
    const header = headerAt(dv, off);
    const length = header.length;
    if (length < NLMSG_HDRLEN || off + length > buf.length)
      throw new NetlinkDecodeError(
        `netlink message length ${length} overruns the ${buf.length}-byte datagram`,
        off,
      );
    out.push({ header, payload: buf.subarray(off + NLMSG_HDRLEN, off + length), offset: off });
    // The last message's padding may be missing.
    off += Math.min(align4(length), buf.length - off);
  }
  return out;
}

/** NLMSG_ERROR payload (struct nlmsgerr): errno 0 is an acknowledgement. */
export interface NetlinkErrorPayload {
  /** Positive errno (the kernel sends it negated), 0 for an ACK. */
  errno: number;
  /** Header of the request this answers. */
  request: NetlinkHeader;
}

/** Decodes an NLMSG_ERROR payload; `base` is added to the offset of an error. */
export function decodeErrorPayload(payload: Uint8Array, base = 0): NetlinkErrorPayload {
  if (payload.length < 4 + NLMSG_HDRLEN)
    throw new NetlinkDecodeError(
      `NLMSG_ERROR payload is ${payload.length} bytes, at least 20 expected`,
      base,
    );
  const dv = view(payload);
  // 0 - x, not -x: an ACK's errno is +0, which toEqual and Object.is tell from -0.
  return { errno: 0 - dv.getInt32(0, LE), request: headerAt(dv, 4) };
}

/** The 20-byte NLMSG_ERROR payload: negated errno and the request's header. */
export function encodeErrorPayload(errno: number, request: NetlinkHeader): Uint8Array {
  const out = new Uint8Array(4 + NLMSG_HDRLEN);
  view(out).setInt32(0, -errno, LE);
  writeNetlinkHeader(out, 4, request);
  return out;
}

/**
 * A whole NLMSG_ERROR message as the kernel sends it: an ACK (errno 0)
 * echoes the request's header with NLM_F_CAPPED, a failure the whole request.
 */
export function encodeErrorMessage(seq: number, errno: number, request: Uint8Array, pid = 0): Uint8Array {
  const echo = errno === 0 ? request.subarray(0, NLMSG_HDRLEN) : request;
  const out = new Uint8Array(NLMSG_HDRLEN + 4 + align4(echo.length));
  writeNetlinkHeader(out, 0, {
    length: out.length,
    type: NLMSG.ERROR,
    flags: errno === 0 ? NLM_F.CAPPED : 0,
    seq,
    pid,
  });
  view(out).setInt32(NLMSG_HDRLEN, -errno, LE);
  out.set(echo, NLMSG_HDRLEN + 4);
  return out;
}

/** NLMSG_DONE may carry an int: a negative errno when a dump failed midway; 0 otherwise. */
export function decodeDoneErrno(payload: Uint8Array): number {
  return payload.length >= 4 ? 0 - view(payload).getInt32(0, LE) : 0;
}

/** NLMSG_DONE ending a multipart dump, with the errno it failed with (0: it did not). */
export function encodeDoneMessage(seq: number, pid = 0, errno = 0): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + 4);
  writeNetlinkHeader(out, 0, { length: out.length, type: NLMSG.DONE, flags: NLM_F.MULTI, seq, pid });
  view(out).setInt32(NLMSG_HDRLEN, -errno, LE);
  return out;
}
