// Every failure of @lvs-ha/vip is a VipError with a stable `code`, so a
// resource agent can tell "not root" from "no such interface" from "bad
// input" without reading the sentence. The sentence is for people.
import { NetlinkDecodeError } from '@lvs-ha/netlink-frame';

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type VipErrorCode =
  | 'INVALID_ADDRESS'
  | 'INVALID_ARGUMENT'
  | 'NO_SUCH_INTERFACE'
  | 'NO_MATCHING_INTERFACE'
  | 'NO_SUCH_NETNS'
  | 'PERMISSION_DENIED'
  | 'NETLINK'
  | 'PACKET_SOCKET'
  | 'DECODE'
  | 'ADDRESS_IN_USE'
  | 'TIMEOUT';

export class VipError extends Error {
  override name = 'VipError';
  readonly code: VipErrorCode;
  constructor(code: VipErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Text that is not an IPv4/IPv6 address, prefix length, or VIP spec (@lvs-ha/ip's error re-raised as this one). */
export class InvalidAddressError extends VipError {
  override name = 'InvalidAddressError';
  /** The text as given. */
  readonly input: string;
  constructor(input: string, why: string, options?: { cause?: unknown }) {
    super('INVALID_ADDRESS', `"${input}" is not a valid address: ${why}`, options);
    this.input = input;
  }
}

/** A bad option value (label, scope, count…). */
export class InvalidArgumentError extends VipError {
  override name = 'InvalidArgumentError';
  readonly argument: string;
  constructor(argument: string, why: string) {
    super('INVALID_ARGUMENT', `invalid ${argument}: ${why}`);
    this.argument = argument;
  }
}

/** The named interface does not exist (ENODEV) in the network namespace used. */
export class NoSuchInterfaceError extends VipError {
  override name = 'NoSuchInterfaceError';
  readonly interface: string;
  constructor(ifname: string, where = '') {
    super('NO_SUCH_INTERFACE', `interface "${ifname}" does not exist${where}`);
    this.interface = ifname;
  }
}

/** No up interface has a subnet holding the VIP (IPaddr's rule found nothing). */
export class NoMatchingInterfaceError extends VipError {
  override name = 'NoMatchingInterfaceError';
  readonly address: string;
  constructor(address: string) {
    super(
      'NO_MATCHING_INTERFACE',
      `no interface has a subnet holding ${address}; name the interface (e.g. ${address}/32/eth0)`,
    );
    this.address = address;
  }
}

/** /run/netns/NAME does not exist. */
export class NoSuchNetnsError extends VipError {
  override name = 'NoSuchNetnsError';
  readonly netns: string;
  constructor(netns: string) {
    super('NO_SUCH_NETNS', `network namespace "${netns}" does not exist (no /run/netns/${netns})`);
    this.netns = netns;
  }
}

/** EPERM/EACCES: the process is not root or lacks CAP_NET_ADMIN / CAP_NET_RAW. */
export class PermissionDeniedError extends VipError {
  override name = 'PermissionDeniedError';
  /** The capability the operation needs. */
  readonly capability: 'CAP_NET_ADMIN' | 'CAP_NET_RAW' | 'CAP_SYS_ADMIN';
  constructor(what: string, capability: 'CAP_NET_ADMIN' | 'CAP_NET_RAW' | 'CAP_SYS_ADMIN') {
    super(
      'PERMISSION_DENIED',
      `${what}: permission denied (run as root or grant ${capability}; nothing was changed)`,
    );
    this.capability = capability;
  }
}

/** The kernel refused an rtnetlink request for another reason. */
export class NetlinkError extends VipError {
  override name = 'NetlinkError';
  /** Positive errno number from the kernel's NLMSG_ERROR. */
  readonly errno: number;
  /** Symbolic errno name, e.g. EEXIST. */
  readonly errnoName: string;
  constructor(what: string, errno: number, errnoName: string) {
    super('NETLINK', `${what}: ${errnoName} (errno ${errno})`);
    this.errno = errno;
    this.errnoName = errnoName;
  }
}

/** A packet socket (AF_PACKET) could not be opened, bound or written. */
export class PacketSocketError extends VipError {
  override name = 'PacketSocketError';
  readonly errno: number;
  readonly errnoName: string;
  constructor(what: string, errno: number, errnoName: string) {
    super('PACKET_SOCKET', `${what}: ${errnoName} (errno ${errno})`);
    this.errno = errno;
    this.errnoName = errnoName;
  }
}

/** Bytes that do not decode: truncated or malformed message. */
export class DecodeError extends VipError {
  override name = 'DecodeError';
  /** Byte offset where decoding failed. */
  readonly offset: number;
  constructor(what: string, offset: number) {
    super('DECODE', `${what} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** The shared framing's decode error as this package's DecodeError (same sentence, same offset). */
export function asDecodeError(e: unknown): unknown {
  return e instanceof NetlinkDecodeError ? new DecodeError(e.reason, e.offset) : e;
}

/** Another host answered for the VIP before we took it (ARP probe / DAD). */
export class AddressInUseError extends VipError {
  override name = 'AddressInUseError';
  readonly address: string;
  /** MAC addresses of the hosts that answered. */
  readonly holders: string[];
  constructor(address: string, holders: string[]) {
    super(
      'ADDRESS_IN_USE',
      `${address} is already in use on the link by ${holders.join(', ')}; not taken (pass onConflict: 'proceed' to take it anyway)`,
    );
    this.address = address;
    this.holders = holders;
  }
}
