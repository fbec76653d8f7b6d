// Generic-netlink framing (linux/genetlink.h): struct genlmsghdr (4 bytes)
// after the netlink header, the IPVS messages, and the nlctrl family lookup.
// The netlink framing itself is @lvs-ha/netlink-frame's. Pure.
import * as frame from '@lvs-ha/netlink-frame';
import {
  align4,
  type NetlinkErrorPayload,
  type NetlinkHeader,
  type NetlinkMessage,
  NLM_F,
  NLMSG_HDRLEN,
  writeNetlinkHeader,
} from '@lvs-ha/netlink-frame';
import { attrsLength, decodeAttrs, encodeAttrsInto } from './attrs.js';
import { asDecodeError, DecodeError } from './errors.js';
import { defineSchema, type IpvsAttrs, schemaForCommand } from './schema.js';

export const GENL_HDRLEN = 4;
export const NETLINK_GENERIC = 16;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD = { NEWFAMILY: 1, GETFAMILY: 3 } as const;

// The framing's decoders throw NetlinkDecodeError; this package's callers get its own DecodeError.

/** Splits a datagram into netlink messages; a length that overruns is a DecodeError. */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  try {
    return frame.decodeNetlinkMessages(buf);
  } catch (e) {
    throw asDecodeError(e);
  }
}

/** NLMSG_ERROR payload: errno (0 for an ACK) and the request's header. */
export function decodeErrorPayload(payload: Uint8Array, base = 0): NetlinkErrorPayload {
  try {
    return frame.decodeErrorPayload(payload, base);
  } catch (e) {
    throw asDecodeError(e);
  }
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
