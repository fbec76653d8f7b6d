// rtnetlink messages for addresses and links: netlink header, ifaddrmsg,
// ifinfomsg, nlmsgerr and their attributes (linux/netlink.h, rtnetlink.h,
// if_addr.h, if_link.h). Pure: bytes in, typed values out. Netlink is in
// host byte order; every multi-byte field here follows the machine's.
import { endianness } from 'node:os';
import { DecodeError, InvalidArgumentError } from './errors.js';
import { formatIp, type IpAddress, type IpFamily } from './ip.js';

const LE = endianness() === 'LE';

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const NLM_F = {
  REQUEST: 0x01,
  MULTI: 0x02,
  ACK: 0x04,
  ECHO: 0x08,
  DUMP_INTR: 0x10,
  ROOT: 0x100,
  MATCH: 0x200,
  DUMP: 0x300,
  REPLACE: 0x100,
  EXCL: 0x200,
  CREATE: 0x400,
  APPEND: 0x800,
} as const;
export const RTM = {
  NEWLINK: 16,
  DELLINK: 17,
  GETLINK: 18,
  SETLINK: 19,
  NEWADDR: 20,
  DELADDR: 21,
  GETADDR: 22,
} as const;
/** Multicast groups (bit numbers for NETLINK_ADD_MEMBERSHIP). */
export const RTNLGRP = { LINK: 1, IPV4_IFADDR: 5, IPV6_IFADDR: 9 } as const;
export const IFA = {
  ADDRESS: 1,
  LOCAL: 2,
  LABEL: 3,
  BROADCAST: 4,
  ANYCAST: 5,
  CACHEINFO: 6,
  MULTICAST: 7,
  FLAGS: 8,
} as const;
export const IFA_F = {
  SECONDARY: 0x01,
  NODAD: 0x02,
  OPTIMISTIC: 0x04,
  DADFAILED: 0x08,
  HOMEADDRESS: 0x10,
  DEPRECATED: 0x20,
  TENTATIVE: 0x40,
  PERMANENT: 0x80,
  MANAGETEMPADDR: 0x100,
  NOPREFIXROUTE: 0x200,
} as const;
export const IFLA = {
  ADDRESS: 1,
  BROADCAST: 2,
  IFNAME: 3,
  MTU: 4,
  LINK: 5,
  MASTER: 10,
  OPERSTATE: 16,
  CARRIER: 33,
} as const;
export const IFF = {
  UP: 0x1,
  BROADCAST: 0x2,
  LOOPBACK: 0x8,
  POINTOPOINT: 0x10,
  RUNNING: 0x40,
  NOARP: 0x80,
  MULTICAST: 0x1000,
  LOWER_UP: 0x10000,
} as const;
export const RT_SCOPE = { universe: 0, site: 200, link: 253, host: 254, nowhere: 255 } as const;
export type ScopeName = keyof typeof RT_SCOPE;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_UNSPEC = 0;

const HDR = 16;
const align4 = (n: number) => (n + 3) & ~3;

export interface NetlinkHeader {
  /** Total length including this 16-byte header. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** Sender port id (0 = kernel). */
  pid: number;
}

export interface NetlinkMessage {
  header: NetlinkHeader;
  /** Bytes after the header (ifaddrmsg/ifinfomsg/nlmsgerr and attributes). */
  payload: Uint8Array;
}

/** Wraps a payload in a netlink header. */
export function encodeNetlinkMessage(
  header: { type: number; flags: number; seq: number; pid?: number },
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HDR + align4(payload.length));
  const dv = view(out);
  dv.setUint32(0, HDR + payload.length, LE);
  dv.setUint16(4, header.type, LE);
  dv.setUint16(6, header.flags, LE);
  dv.setUint32(8, header.seq >>> 0, LE);
  dv.setUint32(12, (header.pid ?? 0) >>> 0, LE);
  out.set(payload, HDR);
  return out;
}

/** Splits one received datagram into its netlink messages. */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  const dv = view(buf);
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + HDR <= buf.length) {
    const length = dv.getUint32(off, LE);
    if (length < HDR || off + length > buf.length)
      throw new DecodeError(`netlink message length ${length} overruns the ${buf.length}-byte datagram`, off);
    out.push({
      header: {
        length,
        type: dv.getUint16(off + 4, LE),
        flags: dv.getUint16(off + 6, LE),
        seq: dv.getUint32(off + 8, LE),
        pid: dv.getUint32(off + 12, LE),
      },
      payload: buf.subarray(off + HDR, off + length),
    });
    off += align4(length);
  }
  if (off < buf.length && buf.length - off >= 4)
    throw new DecodeError('trailing bytes after the last netlink message', off);
  return out;
}

/** NLMSG_ERROR payload: errno 0 is an ACK; otherwise a positive errno. */
export interface NetlinkErrorMessage {
  errno: number;
  /** Header of the request this answers. */
  request: NetlinkHeader;
}

export function decodeErrorMessage(payload: Uint8Array): NetlinkErrorMessage {
  if (payload.length < 4 + HDR) throw new DecodeError('NLMSG_ERROR shorter than 20 bytes', 0);
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

export function encodeErrorMessage(errno: number, request: NetlinkHeader): Uint8Array {
  const out = new Uint8Array(4 + HDR);
  const dv = view(out);
  dv.setInt32(0, -errno, LE);
  dv.setUint32(4, request.length, LE);
  dv.setUint16(8, request.type, LE);
  dv.setUint16(10, request.flags, LE);
  dv.setUint32(12, request.seq, LE);
  dv.setUint32(16, request.pid, LE);
  return out;
}

// ---- attributes ---------------------------------------------------------

/** One rtattr: type (nested/byte-order bits masked off) and value bytes. */
export interface Attribute {
  type: number;
  value: Uint8Array;
}

export function decodeAttributes(buf: Uint8Array, start: number): Attribute[] {
  const dv = view(buf);
  const out: Attribute[] = [];
  let off = start;
  while (off + 4 <= buf.length) {
    const len = dv.getUint16(off, LE);
    if (len < 4 || off + len > buf.length)
      throw new DecodeError(`attribute length ${len} overruns the message`, off);
    out.push({ type: dv.getUint16(off + 2, LE) & 0x3fff, value: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

export function encodeAttributes(attrs: Attribute[]): Uint8Array {
  const out = new Uint8Array(attrs.reduce((n, a) => n + align4(4 + a.value.length), 0));
  const dv = view(out);
  let off = 0;
  for (const a of attrs) {
    dv.setUint16(off, 4 + a.value.length, LE);
    dv.setUint16(off + 2, a.type, LE);
    out.set(a.value, off + 4);
    off += align4(4 + a.value.length);
  }
  return out;
}

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  view(b).setUint32(0, n >>> 0, LE);
  return b;
};
const cstring = (s: string) => {
  const b = Buffer.from(`${s}\0`, 'utf8');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};
const readCString = (v: Uint8Array) => {
  const z = v.indexOf(0);
  return Buffer.from(v.buffer, v.byteOffset, z < 0 ? v.length : z).toString('utf8');
};
const readU32 = (v: Uint8Array, what: string) => {
  if (v.length < 4) throw new DecodeError(`${what} shorter than 4 bytes`, 0);
  return view(v).getUint32(0, LE);
};

// ---- addresses (ifaddrmsg) ------------------------------------------------

export interface AddressMessage {
  family: IpFamily;
  prefixLength: number;
  /** IFA_F_* flags: the 8-bit ifa_flags, widened by IFA_FLAGS when present. */
  flags: number;
  scope: number;
  /** Interface index. */
  index: number;
  /** IFA_ADDRESS: for IPv4 the peer (equal to local unless point-to-point); for IPv6 the address. */
  address?: IpAddress;
  /** IFA_LOCAL: the IPv4 local address. */
  local?: IpAddress;
  /** IFA_LABEL, IPv4 only ("eth0:0"). */
  label?: string;
  broadcast?: IpAddress;
  /** IFA_CACHEINFO lifetimes in seconds (0xffffffff = forever). */
  preferredLifetime?: number;
  validLifetime?: number;
}

const IFADDRMSG = 8;

export function encodeAddressMessage(msg: AddressMessage): Uint8Array {
  if (msg.family !== 4 && msg.family !== 6)
    throw new InvalidArgumentError('family', `${msg.family} is not 4 or 6`);
  const attrs: Attribute[] = [];
  const addrLen = msg.family === 4 ? 4 : 16;
  for (const [type, ip] of [
    [IFA.LOCAL, msg.local],
    [IFA.ADDRESS, msg.address],
    [IFA.BROADCAST, msg.broadcast],
  ] as const) {
    if (!ip) continue;
    if (ip.bytes.length !== addrLen)
      throw new InvalidArgumentError('address', `${ip.text} is not IPv${msg.family} like the message`);
    attrs.push({ type, value: ip.bytes });
  }
  if (msg.label !== undefined) attrs.push({ type: IFA.LABEL, value: cstring(msg.label) });
  // Flags above 0xff only fit in IFA_FLAGS; the kernel prefers it when present.
  if (msg.flags > 0xff) attrs.push({ type: IFA.FLAGS, value: u32(msg.flags) });
  const attrBytes = encodeAttributes(attrs);
  const out = new Uint8Array(IFADDRMSG + attrBytes.length);
  const dv = view(out);
  out[0] = msg.family === 4 ? AF_INET : AF_INET6;
  out[1] = msg.prefixLength;
  out[2] = msg.flags & 0xff;
  out[3] = msg.scope;
  dv.setUint32(4, msg.index >>> 0, LE);
  out.set(attrBytes, IFADDRMSG);
  return out;
}

export function decodeAddressMessage(payload: Uint8Array): AddressMessage {
  if (payload.length < IFADDRMSG) throw new DecodeError('ifaddrmsg shorter than 8 bytes', 0);
  const af = payload[0]!;
  if (af !== AF_INET && af !== AF_INET6)
    throw new DecodeError(`address family ${af} is not AF_INET/AF_INET6`, 0);
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const msg: AddressMessage = {
    family,
    prefixLength: payload[1]!,
    flags: payload[2]!,
    scope: payload[3]!,
    index: view(payload).getUint32(4, LE),
  };
  const ip = (v: Uint8Array, what: string): IpAddress => {
    if (v.length !== (family === 4 ? 4 : 16)) throw new DecodeError(`${what} has ${v.length} bytes`, 0);
    const bytes = Uint8Array.from(v);
    return { family, bytes, text: formatIp(bytes) };
  };
  for (const a of decodeAttributes(payload, IFADDRMSG)) {
    switch (a.type) {
      case IFA.ADDRESS:
        msg.address = ip(a.value, 'IFA_ADDRESS');
        break;
      case IFA.LOCAL:
        msg.local = ip(a.value, 'IFA_LOCAL');
        break;
      case IFA.BROADCAST:
        msg.broadcast = ip(a.value, 'IFA_BROADCAST');
        break;
      case IFA.LABEL:
        msg.label = readCString(a.value);
        break;
      case IFA.FLAGS:
        msg.flags = readU32(a.value, 'IFA_FLAGS');
        break;
      case IFA.CACHEINFO:
        if (a.value.length >= 8) {
          msg.preferredLifetime = view(a.value).getUint32(0, LE);
          msg.validLifetime = view(a.value).getUint32(4, LE);
        }
        break;
    }
  }
  return msg;
}

// ---- links (ifinfomsg) ----------------------------------------------------

export interface LinkMessage {
  /** ARPHRD_* (1 = Ethernet, 772 = loopback). */
  type: number;
  index: number;
  /** IFF_* flags. */
  flags: number;
  /** Mask of flags to change (requests only). */
  change: number;
  name?: string;
  mtu?: number;
  /** Hardware address (MAC for Ethernet). */
  address?: Uint8Array;
  broadcast?: Uint8Array;
  /** IF_OPER_* (6 = up, 2 = down, 7 = dormant, 5 = lowerlayerdown). */
  operstate?: number;
  carrier?: number;
  master?: number;
}

const IFINFOMSG = 16;

export function encodeLinkMessage(msg: LinkMessage): Uint8Array {
  const attrs: Attribute[] = [];
  if (msg.name !== undefined) attrs.push({ type: IFLA.IFNAME, value: cstring(msg.name) });
  if (msg.mtu !== undefined) attrs.push({ type: IFLA.MTU, value: u32(msg.mtu) });
  if (msg.address !== undefined) attrs.push({ type: IFLA.ADDRESS, value: msg.address });
  const attrBytes = encodeAttributes(attrs);
  const out = new Uint8Array(IFINFOMSG + attrBytes.length);
  const dv = view(out);
  out[0] = AF_UNSPEC;
  dv.setUint16(2, msg.type, LE);
  dv.setInt32(4, msg.index, LE);
  dv.setUint32(8, msg.flags >>> 0, LE);
  dv.setUint32(12, msg.change >>> 0, LE);
  out.set(attrBytes, IFINFOMSG);
  return out;
}

export function decodeLinkMessage(payload: Uint8Array): LinkMessage {
  if (payload.length < IFINFOMSG) throw new DecodeError('ifinfomsg shorter than 16 bytes', 0);
  const dv = view(payload);
  const msg: LinkMessage = {
    type: dv.getUint16(2, LE),
    index: dv.getInt32(4, LE),
    flags: dv.getUint32(8, LE),
    change: dv.getUint32(12, LE),
  };
  for (const a of decodeAttributes(payload, IFINFOMSG)) {
    switch (a.type) {
      case IFLA.IFNAME:
        msg.name = readCString(a.value);
        break;
      case IFLA.MTU:
        msg.mtu = readU32(a.value, 'IFLA_MTU');
        break;
      case IFLA.ADDRESS:
        msg.address = Uint8Array.from(a.value);
        break;
      case IFLA.BROADCAST:
        msg.broadcast = Uint8Array.from(a.value);
        break;
      case IFLA.OPERSTATE:
        msg.operstate = a.value[0];
        break;
      case IFLA.CARRIER:
        msg.carrier = a.value[0];
        break;
      case IFLA.MASTER:
        msg.master = readU32(a.value, 'IFLA_MASTER');
        break;
    }
  }
  return msg;
}

/** A GET request with NLM_F_DUMP (all links, or all addresses of a family). */
export function encodeDumpRequest(type: typeof RTM.GETLINK | typeof RTM.GETADDR, seq: number, family = 0) {
  const payload = type === RTM.GETLINK ? new Uint8Array(IFINFOMSG) : new Uint8Array(IFADDRMSG); // family only, rest zero
  payload[0] = family;
  return encodeNetlinkMessage({ type, flags: NLM_F.REQUEST | NLM_F.DUMP, seq }, payload);
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
