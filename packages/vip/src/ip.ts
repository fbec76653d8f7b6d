// Addresses are @lvs-ha/ip's; here they throw this package's errors, and
// Heartbeat's VIP spec ("12.3.4.50/32/eth0") and interface names, which are
// Heartbeat's and Linux's rather than IP's, are read. Pure: no I/O.

import type { IpAddress, IpFamily, IpPrefix } from '@lvs-ha/ip';
import * as ip from '@lvs-ha/ip';
import { InvalidAddressError, InvalidArgumentError } from './errors.js';

export type { IpAddress, IpFamily, IpPrefix } from '@lvs-ha/ip';
// It cannot fail: @lvs-ha/ip's as it is.
export { prefixContains } from '@lvs-ha/ip';

/** @lvs-ha/ip's InvalidAddressError as this package's (a VipError): same input, same sentence. */
function asVipError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ip.InvalidAddressError) throw new InvalidAddressError(e.input, e.reason, { cause: e });
    throw e;
  }
}

/** Parses a literal IPv4 or IPv6 address (no prefix, no zone). */
export function parseIp(text: string): IpAddress {
  return asVipError(() => ip.parseIp(text));
}

/** Canonical text of 4 or 16 address bytes (RFC 5952, as `ip addr` prints it). */
export function formatIp(bytes: Uint8Array): string {
  return asVipError(() => ip.formatIp(bytes));
}

/** Parses "192.0.2.50/24", "2001:db8::50/64", or a bare address (full-length prefix). */
export function parsePrefix(text: string, defaultPrefixLength?: number): IpPrefix {
  return asVipError(() => ip.parsePrefix(text, defaultPrefixLength));
}

/** A prefix length "24", or for IPv4 a dotted netmask "255.255.255.0" (IPaddr accepted both). */
export function parsePrefixLength(text: string, family: IpFamily, whole = text): number {
  return asVipError(() => ip.parsePrefixLength(text, family, whole));
}

/** The IPv4 broadcast address of address/prefixLength (all host bits set). */
export function ipv4Broadcast(address: IpAddress, prefixLength: number): IpAddress {
  return asVipError(() => ip.ipv4Broadcast(address, prefixLength));
}

/** The solicited-node multicast group of an IPv6 address (ff02::1:ffXX:XXXX). */
export function solicitedNodeMulticast(address: IpAddress): IpAddress {
  return asVipError(() => ip.solicitedNodeMulticast(address));
}

/**
 * A VIP as Heartbeat's haresources names it for IPaddr/IPaddr2/IPv6addr:
 * `address[/prefix[/interface[/broadcast]]]`, e.g. `12.3.4.50/32/eth0` or
 * `192.0.2.50/24/eth0:0/192.0.2.255`. An `eth0:0` interface names a label.
 */
export interface VipSpec {
  address: IpAddress;
  /** Undefined when the spec gives none: the caller takes the matching subnet's. */
  prefixLength: number | undefined;
  interface: string | undefined;
  label: string | undefined;
  broadcast: IpAddress | undefined;
}

export function parseVipSpec(text: string): VipSpec {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InvalidAddressError(String(text), 'empty VIP');
  const parts = text.trim().split('/');
  if (parts.length > 4)
    throw new InvalidAddressError(text, 'expected address[/prefix[/interface[/broadcast]]]');
  const [addr, prefix, iface, bcast] = parts as [string, string?, string?, string?];
  const address = parseIp(addr);
  const prefixLength = prefix ? parsePrefixLength(prefix, address.family, text) : undefined;
  let ifname: string | undefined;
  let label: string | undefined;
  if (iface) {
    const colon = iface.indexOf(':');
    ifname = colon < 0 ? iface : iface.slice(0, colon);
    label = colon < 0 ? undefined : iface;
    validateInterfaceName(ifname);
    if (label !== undefined && address.family === 6)
      throw new InvalidAddressError(text, 'labels (eth0:0) exist for IPv4 only');
  }
  let broadcast: IpAddress | undefined;
  if (bcast) {
    broadcast = parseIp(bcast);
    if (address.family !== 4 || broadcast.family !== 4)
      throw new InvalidAddressError(text, 'a broadcast address is IPv4 only');
  }
  return { address, prefixLength, interface: ifname, label, broadcast };
}

/** Linux interface names: 1-15 bytes, no '/', ':' or whitespace. */
export function validateInterfaceName(name: string): void {
  if (typeof name !== 'string' || !/^[^\s/:]{1,15}$/.test(name) || name === '.' || name === '..')
    throw new InvalidArgumentError(
      'interface name',
      `"${name}" is not a Linux interface name (1-15 characters, no / : or spaces)`,
    );
}
