// Bringing a VIP up and down: what Heartbeat's IPaddr2 does with `ip addr`,
// done over rtnetlink. Everything is checked before anything is sent, so
// bad input or a missing interface changes nothing.

import { addressFamily } from '@lvs-ha/ip';
import { NLM_F } from '@lvs-ha/netlink-frame';
import { EACCES, EADDRNOTAVAIL, EEXIST, ENODEV, EPERM, errnoName } from '@lvs-ha/sys';
import {
  InvalidArgumentError,
  NetlinkError,
  NoMatchingInterfaceError,
  NoSuchInterfaceError,
  PermissionDeniedError,
} from './errors.js';
import {
  type IpAddress,
  type IpFamily,
  ipv4Broadcast,
  parseIp,
  parsePrefixLength,
  parseVipSpec,
  prefixContains,
  validateInterfaceName,
} from './ip.js';
import type { NetnsOption } from './netns.js';
import { formatMac } from './packets.js';
import {
  type AddressMessage,
  decodeAddressMessage,
  decodeLinkMessage,
  encodeAddressMessage,
  encodeLinkMessage,
  IFA_F,
  IFF,
  RT_SCOPE,
  RTM,
  type ScopeName,
} from './rtnetlink.js';
import { KernelRefusal, type Rtnl, withRtnl } from './rtnl.js';

export interface Link {
  index: number;
  name: string;
  /** Hardware address as text ("02:00:5e:00:53:01"), empty when the link has none. */
  mac: string;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up (IFF_UP). */
  up: boolean;
  /** Carrier present (IFF_LOWER_UP). */
  lowerUp: boolean;
  loopback: boolean;
  mtu: number | undefined;
}

export interface Address {
  interface: string;
  index: number;
  family: IpFamily;
  address: IpAddress;
  prefixLength: number;
  label: string | undefined;
  broadcast: IpAddress | undefined;
  /** Scope name when it has one (universe = "global"), else the number. */
  scope: ScopeName | number;
  /** IFA_F_* flags. */
  flags: number;
  secondary: boolean;
  tentative: boolean;
  dadFailed: boolean;
}

function refusal(err: unknown, what: string, ifname?: string): never {
  if (err instanceof KernelRefusal) {
    if (err.errno === EPERM || err.errno === EACCES) throw new PermissionDeniedError(what, 'CAP_NET_ADMIN');
    if (err.errno === ENODEV && ifname) throw new NoSuchInterfaceError(ifname);
    throw new NetlinkError(what, err.errno, errnoName(err.errno));
  }
  throw err;
}

async function dumpLinks(rtnl: Rtnl): Promise<Link[]> {
  const msgs = await rtnl
    .request(RTM.GETLINK, NLM_F.DUMP, new Uint8Array(16))
    .catch((e) => refusal(e, 'listing links'));
  return msgs
    .filter((m) => m.header.type === RTM.NEWLINK)
    .map((m) => {
      const l = decodeLinkMessage(m.payload);
      return {
        index: l.index,
        name: l.name ?? `if${l.index}`,
        mac: l.address ? formatMac(l.address) : '',
        flags: l.flags,
        up: (l.flags & IFF.UP) !== 0,
        lowerUp: (l.flags & IFF.LOWER_UP) !== 0,
        loopback: (l.flags & IFF.LOOPBACK) !== 0,
        mtu: l.mtu,
      };
    });
}

const scopeNames = new Map<number, ScopeName>(Object.entries(RT_SCOPE).map(([k, v]) => [v, k as ScopeName]));

export function toAddress(a: AddressMessage, links: Map<number, string>): Address | undefined {
  const ip = a.family === 4 ? (a.local ?? a.address) : (a.address ?? a.local);
  if (!ip) return undefined;
  return {
    interface: links.get(a.index) ?? `if${a.index}`,
    index: a.index,
    family: a.family,
    address: ip,
    prefixLength: a.prefixLength,
    label: a.label,
    broadcast: a.broadcast,
    scope: scopeNames.get(a.scope) ?? a.scope,
    flags: a.flags,
    secondary: (a.flags & IFA_F.SECONDARY) !== 0,
    tentative: (a.flags & IFA_F.TENTATIVE) !== 0,
    dadFailed: (a.flags & IFA_F.DADFAILED) !== 0,
  };
}

async function dumpAddresses(rtnl: Rtnl, links: Link[], family?: IpFamily): Promise<Address[]> {
  const req = new Uint8Array(8);
  req[0] = family === undefined ? 0 : addressFamily(family); // 0: AF_UNSPEC, both
  const msgs = await rtnl.request(RTM.GETADDR, NLM_F.DUMP, req).catch((e) => refusal(e, 'listing addresses'));
  const names = new Map(links.map((l) => [l.index, l.name]));
  const out: Address[] = [];
  for (const m of msgs) {
    if (m.header.type !== RTM.NEWADDR) continue;
    const a = toAddress(decodeAddressMessage(m.payload), names);
    if (a && (family === undefined || a.family === family)) out.push(a);
  }
  return out;
}

/** Every link (interface) in the namespace. */
export async function listLinks(options: NetnsOption = {}): Promise<Link[]> {
  return withRtnl(options, dumpLinks);
}

export interface ListAddressesOptions extends NetnsOption {
  interface?: string;
  family?: IpFamily;
}

/** Addresses as `ip addr show` lists them, optionally for one interface or family. */
export async function listAddresses(options: ListAddressesOptions = {}): Promise<Address[]> {
  if (options.interface !== undefined) validateInterfaceName(options.interface);
  return withRtnl(options, async (rtnl) => {
    const links = await dumpLinks(rtnl);
    if (options.interface !== undefined && !links.some((l) => l.name === options.interface))
      throw new NoSuchInterfaceError(options.interface, nsSuffix(options));
    const all = await dumpAddresses(rtnl, links, options.family);
    return options.interface === undefined ? all : all.filter((a) => a.interface === options.interface);
  });
}

const nsSuffix = (o: NetnsOption) => (o.netns ? ` in network namespace ${o.netns}` : '');

/** What to bring up: a VIP spec string ("192.0.2.50/24/eth0:0") or fields. */
export interface VipRequest {
  address: string | IpAddress;
  /** Default: the prefix of the subnet that holds the address, else 32/128. */
  prefixLength?: number | string;
  /** Default: the interface whose subnet holds the address (IPaddr's rule). */
  interface?: string;
  /** IPv4 label, must start with the interface name ("eth0:0"). */
  label?: string;
  /** IPv4 broadcast: an address, "auto" (default: host bits all ones below /31), or "none". */
  broadcast?: string;
  /** Default "universe" (global). */
  scope?: ScopeName;
  /**
   * IPv6 only: skip the kernel's duplicate address detection, so the address
   * is usable (and announceable) at once. Default true: a take-over checks
   * for another holder with `probeAddress` first instead.
   */
  nodad?: boolean;
  /** Bring the link up first if it is down. Default false. */
  bringLinkUp?: boolean;
}

interface Resolved {
  address: IpAddress;
  prefixLength: number;
  link: Link;
  label: string | undefined;
  broadcast: IpAddress | undefined;
  scope: number;
  nodad: boolean;
}

/** A VIP spec ("12.3.4.50/32/eth0") as the request it names (only the parts it gives). */
export function requestOfSpec(spec: string): VipRequest {
  const s = parseVipSpec(spec);
  return {
    address: s.address,
    ...(s.prefixLength !== undefined && { prefixLength: s.prefixLength }),
    ...(s.interface !== undefined && { interface: s.interface }),
    ...(s.label !== undefined && { label: s.label }),
    ...(s.broadcast !== undefined && { broadcast: s.broadcast.text }),
  };
}

function normalise(req: VipRequest | string): VipRequest {
  if (typeof req === 'string') return requestOfSpec(req);
  if (req === null || typeof req !== 'object')
    throw new InvalidArgumentError('VIP', 'expected a spec string or an object');
  return req;
}

async function resolve(rtnl: Rtnl, req: VipRequest, options: NetnsOption): Promise<Resolved> {
  const address = typeof req.address === 'string' ? parseIp(req.address) : parseIp(req.address?.text);
  if (req.interface !== undefined) validateInterfaceName(req.interface);
  let prefixLength =
    req.prefixLength === undefined
      ? undefined
      : typeof req.prefixLength === 'number'
        ? parsePrefixLength(String(req.prefixLength), address.family)
        : parsePrefixLength(req.prefixLength, address.family);
  if (req.scope !== undefined && !(req.scope in RT_SCOPE))
    throw new InvalidArgumentError(
      'scope',
      `"${req.scope}" is not one of ${Object.keys(RT_SCOPE).join(', ')}`,
    );
  if (req.label !== undefined) {
    if (address.family !== 4) throw new InvalidArgumentError('label', 'labels exist for IPv4 only');
    if (req.label.length > 15)
      throw new InvalidArgumentError('label', `"${req.label}" is longer than 15 characters`);
  }
  const links = await dumpLinks(rtnl);
  let link: Link | undefined;
  if (req.interface !== undefined) {
    link = links.find((l) => l.name === req.interface);
    if (!link) throw new NoSuchInterfaceError(req.interface, nsSuffix(options));
  } else {
    const found = pickInterface(address, links, await dumpAddresses(rtnl, links, address.family));
    if (!found) throw new NoMatchingInterfaceError(address.text);
    link = found.link;
    prefixLength ??= found.prefixLength;
  }
  prefixLength ??= address.family === 4 ? 32 : 128;
  const label = req.label;
  if (label !== undefined && !label.startsWith(link.name))
    throw new InvalidArgumentError('label', `"${label}" must start with the interface name "${link.name}"`);
  let broadcast: IpAddress | undefined;
  if (address.family === 4 && req.broadcast !== 'none') {
    if (req.broadcast === undefined || req.broadcast === 'auto') {
      if (prefixLength < 31) broadcast = ipv4Broadcast(address, prefixLength);
    } else {
      broadcast = parseIp(req.broadcast);
      if (broadcast.family !== 4)
        throw new InvalidArgumentError('broadcast', `${broadcast.text} is not IPv4`);
    }
  } else if (req.broadcast !== undefined && req.broadcast !== 'none' && req.broadcast !== 'auto') {
    throw new InvalidArgumentError('broadcast', 'IPv6 has no broadcast address');
  }
  return {
    address,
    prefixLength,
    link,
    label,
    broadcast,
    scope: RT_SCOPE[req.scope ?? 'universe'],
    nodad: req.nodad ?? true,
  };
}

/**
 * IPaddr's rule for a VIP given without an interface: the up, non-loopback
 * interface with an address whose subnet holds the VIP; the longest prefix
 * wins (host routes /32 and /128 do not count), then the lowest index.
 */
export function pickInterface(
  vip: IpAddress,
  links: Link[],
  addresses: Address[],
): { link: Link; prefixLength: number; via: Address } | undefined {
  const byIndex = new Map(links.map((l) => [l.index, l]));
  let best: { link: Link; prefixLength: number; via: Address } | undefined;
  for (const a of addresses) {
    const link = byIndex.get(a.index);
    if (!link || link.loopback || !link.up) continue;
    const max = a.family === 4 ? 32 : 128;
    if (a.family !== vip.family || a.prefixLength === 0 || a.prefixLength === max) continue;
    if (a.scope === 'host' || a.scope === 'link') continue;
    if (!prefixContains(a.address, a.prefixLength, vip)) continue;
    if (
      !best ||
      a.prefixLength > best.prefixLength ||
      (a.prefixLength === best.prefixLength && link.index < best.link.index)
    )
      best = { link, prefixLength: a.prefixLength, via: a };
  }
  return best;
}

/** The interface a VIP would go on when none is named (IPaddr's findif rule). */
export async function findInterfaceFor(
  address: string,
  options: NetnsOption = {},
): Promise<{ interface: string; prefixLength: number; via: Address }> {
  const ip = parseIp(address);
  return withRtnl(options, async (rtnl) => {
    const links = await dumpLinks(rtnl);
    const found = pickInterface(ip, links, await dumpAddresses(rtnl, links, ip.family));
    if (!found) throw new NoMatchingInterfaceError(ip.text);
    return { interface: found.link.name, prefixLength: found.prefixLength, via: found.via };
  });
}

export interface AddressChange {
  /** False when the address was already there (add) or already absent (remove). */
  changed: boolean;
  /** The address as the kernel lists it afterwards (add) or as it was (remove). */
  address: Address | undefined;
  interface: string;
}

/**
 * Brings a VIP up. Idempotent: when the address is already on the
 * interface, returns `changed: false` and leaves it as it is.
 */
export async function addAddress(
  vip: VipRequest | string,
  options: NetnsOption = {},
): Promise<AddressChange> {
  const req = normalise(vip);
  return withRtnl(options, async (rtnl) => {
    const r = await resolve(rtnl, req, options);
    const what = `adding ${r.address.text}/${r.prefixLength} to ${r.link.name}`;
    const find = async () =>
      (await dumpAddresses(rtnl, [r.link], r.address.family)).find(
        (a) => a.index === r.link.index && a.address.text === r.address.text,
      );
    const present = await find();
    if (present) return { changed: false, address: present, interface: r.link.name };
    if (req.bringLinkUp && !r.link.up) await setUp(rtnl, r.link, what);
    const msg = encodeAddressMessage({
      family: r.address.family,
      prefixLength: r.prefixLength,
      flags: r.address.family === 6 && r.nodad ? IFA_F.NODAD : 0,
      scope: r.scope,
      index: r.link.index,
      ...(r.address.family === 4 ? { local: r.address, address: r.address } : { address: r.address }),
      ...(r.label !== undefined && { label: r.label }),
      ...(r.broadcast !== undefined && { broadcast: r.broadcast }),
    });
    try {
      await rtnl.request(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, msg);
    } catch (e) {
      // Someone added it between our look and our request: still "present".
      if (!(e instanceof KernelRefusal && e.errno === EEXIST)) refusal(e, what, r.link.name);
      return { changed: false, address: await find(), interface: r.link.name };
    }
    return { changed: true, address: await find(), interface: r.link.name };
  });
}

/**
 * Takes a VIP down. Needs no prefix: the address is looked up on the
 * interface (or on every interface when none is named) and deleted as
 * listed. Absent: `changed: false`, not an error.
 */
export async function removeAddress(
  vip: VipRequest | string,
  options: NetnsOption = {},
): Promise<AddressChange> {
  const req = normalise(vip);
  const ip = typeof req.address === 'string' ? parseIp(req.address) : parseIp(req.address?.text);
  if (req.interface !== undefined) validateInterfaceName(req.interface);
  return withRtnl(options, async (rtnl) => {
    const links = await dumpLinks(rtnl);
    if (req.interface !== undefined && !links.some((l) => l.name === req.interface))
      throw new NoSuchInterfaceError(req.interface, nsSuffix(options));
    const present = (await dumpAddresses(rtnl, links, ip.family)).find(
      (a) => a.address.text === ip.text && (req.interface === undefined || a.interface === req.interface),
    );
    if (!present) return { changed: false, address: undefined, interface: req.interface ?? '' };
    const msg = encodeAddressMessage({
      family: present.family,
      prefixLength: present.prefixLength,
      flags: 0,
      scope: 0,
      index: present.index,
      ...(present.family === 4 ? { local: present.address } : { address: present.address }),
    });
    try {
      await rtnl.request(RTM.DELADDR, 0, msg);
    } catch (e) {
      if (e instanceof KernelRefusal && e.errno === EADDRNOTAVAIL)
        return { changed: false, address: undefined, interface: present.interface };
      refusal(e, `removing ${ip.text} from ${present.interface}`, present.interface);
    }
    return { changed: true, address: present, interface: present.interface };
  });
}

async function setUp(rtnl: Rtnl, link: Link, what: string) {
  const msg = encodeLinkMessage({ type: 0, index: link.index, flags: IFF.UP, change: IFF.UP });
  await rtnl
    .request(RTM.NEWLINK, 0, msg)
    .catch((e) => refusal(e, `${what}: bringing ${link.name} up`, link.name));
}

/** Sets a link administratively up (`ip link set NAME up`); no-op when it is. */
export async function setLinkUp(ifname: string, options: NetnsOption = {}): Promise<{ changed: boolean }> {
  validateInterfaceName(ifname);
  return withRtnl(options, async (rtnl) => {
    const link = (await dumpLinks(rtnl)).find((l) => l.name === ifname);
    if (!link) throw new NoSuchInterfaceError(ifname, nsSuffix(options));
    if (link.up) return { changed: false };
    await setUp(rtnl, link, `bringing ${ifname} up`);
    return { changed: true };
  });
}

/** Looks a link up by name; NoSuchInterfaceError when absent. */
export async function getLink(ifname: string, options: NetnsOption = {}): Promise<Link> {
  validateInterfaceName(ifname);
  return withRtnl(options, async (rtnl) => {
    const link = (await dumpLinks(rtnl)).find((l) => l.name === ifname);
    if (!link) throw new NoSuchInterfaceError(ifname, nsSuffix(options));
    return link;
  });
}
