// Netlink and generic-netlink framing (linux/netlink.h, linux/genetlink.h):
// struct nlmsghdr (16 bytes), struct genlmsghdr (4 bytes), NLMSG_ERROR's
// struct nlmsgerr, and the nlctrl family lookup. Pure.
import { endianness } from 'node:os';
import { align4, attrsLength, decodeAttrs, encodeAttrsInto } from './attrs.js';
import { DecodeError } from './errors.js';
import { defineSchema, type IpvsAttrs, schemaForCommand } from './schema.js';

const LE = endianness() === 'LE';
export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;
export const NETLINK_GENERIC = 16;
export const GENL_ID_CTRL = 0x10;
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
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
export const CTRL_CMD = { NEWFAMILY: 1, GETFAMILY: 3 } as const;

export interface NetlinkHeader {
  /** Total length including the 16-byte header. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 = kernel). */
  pid: number;
}

export interface NetlinkMessage {
  header: NetlinkHeader;
  /** Bytes after the netlink header. */
  payload: Uint8Array;
  /** Offset of the header in the datagram (for error positions). */
  offset: number;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function writeNetlinkHeader(
  out: Uint8Array,
  off: number,
  h: Omit<NetlinkHeader, 'pid'> & { pid?: number },
) {
  const dv = view(out);
  dv.setUint32(off, h.length, LE);
  dv.setUint16(off + 4, h.type, LE);
  dv.setUint16(off + 6, h.flags, LE);
  dv.setUint32(off + 8, h.seq >>> 0, LE);
  dv.setUint32(off + 12, (h.pid ?? 0) >>> 0, LE);
}

/** Splits a datagram into netlink messages; a length that overruns is a DecodeError. */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  const dv = view(buf);
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN)
      throw new DecodeError(`truncated netlink header (${buf.length - off} bytes)`, off);
    const length = dv.getUint32(off, LE);
    if (length < NLMSG_HDRLEN || off + length > buf.length)
      throw new DecodeError(`netlink message length ${length} overruns the ${buf.length}-byte datagram`, off);
    out.push({
      header: {
        length,
        type: dv.getUint16(off + 4, LE),
        flags: dv.getUint16(off + 6, LE),
        seq: dv.getUint32(off + 8, LE),
        pid: dv.getUint32(off + 12, LE),
      },
      payload: buf.subarray(off + NLMSG_HDRLEN, off + length),
      offset: off,
    });
    off += Math.min(align4(length), buf.length - off);
  }
  return out;
}

/** NLMSG_ERROR payload: errno 0 is an acknowledgement. */
export interface NetlinkErrorPayload {
  /** Positive errno (the kernel sends it negated), 0 for an ACK. */
  errno: number;
  /** Header of the request this answers. */
  request: NetlinkHeader;
}

export function decodeErrorPayload(payload: Uint8Array, base = 0): NetlinkErrorPayload {
  if (payload.length < 4 + NLMSG_HDRLEN)
    throw new DecodeError(`NLMSG_ERROR payload is ${payload.length} bytes, at least 20 expected`, base);
  const dv = view(payload);
  return {
    errno: -dv.getInt32(0, LE),
    request: {
      length: dv.getUint32(4, LE),
      type: dv.getUint16(8, LE),
      flags: dv.getUint16(10, LE),
      seq: dv.getUint32(12, LE),
      pid: dv.getUint32(16, LE),
    },
  };
}

/** NLMSG_DONE may carry an int: a negative errno when a dump failed midway. */
export function decodeDoneErrno(payload: Uint8Array): number {
  return payload.length >= 4 ? -view(payload).getInt32(0, LE) : 0;
}

export function encodeErrorMessage(seq: number, errno: number, request: Uint8Array, pid = 0): Uint8Array {
  // What the kernel sends: the request's header (and its payload on failure).
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

export function encodeDoneMessage(seq: number, pid = 0): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + 4);
  writeNetlinkHeader(out, 0, { length: out.length, type: NLMSG.DONE, flags: NLM_F.MULTI, seq, pid });
  return out;
}

/** A generic-netlink IPVS message, decoded. */
export interface IpvsMessage {
  /** Generic-netlink family id of IPVS (the netlink message type). */
  familyId: number;
  flags: number;
  seq: number;
  pid: number;
  /** IPVS_CMD_* */
  cmd: number;
  version: number;
  attrs: IpvsAttrs;
}

export interface IpvsMessageInput {
  familyId: number;
  cmd: number;
  attrs?: IpvsAttrs;
  flags?: number;
  seq?: number;
  pid?: number;
  version?: number;
}

/** Bytes of the whole message (netlink header + genl header + attributes), before final padding. */
export function ipvsMessageLength(m: Pick<IpvsMessageInput, 'cmd' | 'attrs'>): number {
  return (
    NLMSG_HDRLEN +
    GENL_HDRLEN +
    attrsLength(schemaForCommand(m.cmd), (m.attrs ?? {}) as Record<string, unknown>)
  );
}

/** Writes one message at `off`; returns the offset after it (4-aligned). */
export function encodeIpvsMessageInto(
  m: IpvsMessageInput,
  out: Uint8Array,
  off: number,
  view?: DataView,
): number {
  const end = encodeAttrsInto(
    schemaForCommand(m.cmd),
    (m.attrs ?? {}) as Record<string, unknown>,
    out,
    off + NLMSG_HDRLEN + GENL_HDRLEN,
    view,
  );
  writeNetlinkHeader(out, off, {
    length: end - off,
    type: m.familyId,
    flags: m.flags ?? NLM_F.REQUEST | NLM_F.ACK,
    seq: m.seq ?? 0,
    pid: m.pid ?? 0,
  });
  out[off + NLMSG_HDRLEN] = m.cmd;
  out[off + NLMSG_HDRLEN + 1] = m.version ?? 1;
  out[off + NLMSG_HDRLEN + 2] = 0;
  out[off + NLMSG_HDRLEN + 3] = 0;
  return end;
}

export function encodeIpvsMessage(m: IpvsMessageInput): Uint8Array {
  const out = new Uint8Array(ipvsMessageLength(m));
  encodeIpvsMessageInto(m, out, 0);
  return out;
}

/** Decodes a generic-netlink message of the IPVS family (header already split off). */
export function decodeIpvsPayload(header: NetlinkHeader, payload: Uint8Array, base = 0): IpvsMessage {
  if (payload.length < GENL_HDRLEN)
    throw new DecodeError(`generic netlink header truncated (${payload.length} bytes)`, base + NLMSG_HDRLEN);
  const cmd = payload[0] as number;
  return {
    familyId: header.type,
    flags: header.flags,
    seq: header.seq,
    pid: header.pid,
    cmd,
    version: payload[1] as number,
    attrs: decodeAttrs(
      schemaForCommand(cmd),
      payload,
      GENL_HDRLEN,
      payload.length,
      base + NLMSG_HDRLEN,
    ) as IpvsAttrs,
  };
}

/** Decodes one complete IPVS message from bytes. */
export function decodeIpvsMessage(bytes: Uint8Array): IpvsMessage {
  const [m, ...rest] = decodeNetlinkMessages(bytes);
  if (!m) throw new DecodeError('empty buffer, no netlink message', 0);
  if (rest.length)
    throw new DecodeError(`${rest.length} more message(s) after the first`, rest[0]?.offset ?? 0);
  return decodeIpvsPayload(m.header, m.payload);
}

// nlctrl: CTRL_ATTR_FAMILY_ID (u16), CTRL_ATTR_FAMILY_NAME (string).
const CTRL_SCHEMA = defineSchema('ctrl', [
  { id: 1, name: 'familyId', type: 'u16' },
  { id: 2, name: 'familyName', type: 'string' },
  { id: 3, name: 'version', type: 'u32' },
]);

export function encodeGetFamily(name: string, seq: number): Uint8Array {
  const attrs = { familyName: name };
  const len = NLMSG_HDRLEN + GENL_HDRLEN + attrsLength(CTRL_SCHEMA, attrs);
  const out = new Uint8Array(align4(len));
  writeNetlinkHeader(out, 0, { length: len, type: GENL_ID_CTRL, flags: NLM_F.REQUEST | NLM_F.ACK, seq });
  out[NLMSG_HDRLEN] = CTRL_CMD.GETFAMILY;
  out[NLMSG_HDRLEN + 1] = 1;
  encodeAttrsInto(CTRL_SCHEMA, attrs, out, NLMSG_HDRLEN + GENL_HDRLEN);
  return out;
}

export function decodeFamily(payload: Uint8Array): {
  familyId?: number;
  familyName?: string;
  version?: number;
} {
  if (payload.length < GENL_HDRLEN) throw new DecodeError('nlctrl reply shorter than its generic header', 0);
  return decodeAttrs(CTRL_SCHEMA, payload, GENL_HDRLEN) as { familyId?: number; familyName?: string };
}
