// rtnetlink messages for addresses and links: ifaddrmsg, ifinfomsg and their
// attributes (linux/rtnetlink.h, if_addr.h, if_link.h); the netlink framing
// itself is @lvs-ha/netlink-frame's. Pure: bytes in, typed values out.
// Netlink is in host byte order; every multi-byte field here follows the machine's.
import { endianness } from 'node:os';
import { addressFamily, type IpAddress, type IpFamily, ipFamily, ipFromBytes } from '@lvs-ha/ip';
import * as frame from '@lvs-ha/netlink-frame';
import {
  type Attribute,
  encodeAttributes,
  encodeNetlinkMessage,
  type NetlinkErrorPayload,
  type NetlinkMessage,
  NLM_F,
} from '@lvs-ha/netlink-frame';
import { asDecodeError, DecodeError, InvalidArgumentError } from './errors.js';

const LE = endianness() === 'LE';

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
export const AF_UNSPEC = 0;

// The framing's decoders throw NetlinkDecodeError; this package's callers get its own DecodeError.

/** Splits one received datagram into its netlink messages. */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  try {
    return frame.decodeNetlinkMessages(buf);
  } catch (e) {
    throw asDecodeError(e);
  }
}

/** NLMSG_ERROR payload: errno 0 is an ACK; otherwise a positive errno. */
export function decodeErrorMessage(payload: Uint8Array): NetlinkErrorPayload {
  try {
    return frame.decodeErrorPayload(payload);
  } catch (e) {
    throw asDecodeError(e);
  }
}

/** The rtattrs of `buf` from `start` on. */
export function decodeAttributes(buf: Uint8Array, start: number): Attribute[] {
  try {
    return frame.decodeAttributes(buf, start);
  } catch (e) {
    throw asDecodeError(e);
  }
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
  out[0] = addressFamily(msg.family);
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
  const family = ipFamily(af);
  if (family === undefined) throw new DecodeError(`address family ${af} is not AF_INET/AF_INET6`, 0);
  const msg: AddressMessage = {
    family,
    prefixLength: payload[1]!,
    flags: payload[2]!,
    scope: payload[3]!,
    index: view(payload).getUint32(4, LE),
  };
  const ip = (v: Uint8Array, what: string): IpAddress => {
    if (v.length !== (family === 4 ? 4 : 16)) throw new DecodeError(`${what} has ${v.length} bytes`, 0);
    return ipFromBytes(v);
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
