// The typed view of IPVS objects (what users write and read) and its
// conversion to and from the raw attribute objects of the codec. Pure.
import { ipv4Netmask } from '@lvs-ha/ip';
import { InvalidArgumentError } from './errors.js';
import {
  AF_INET,
  AF_INET6,
  type Family,
  familyName,
  familyNumber,
  formatAddress,
  parseAddressShared as parseAddress,
  parseIpv4,
} from './ip.js';
import {
  IP_VS_CONN_F,
  IP_VS_STATE,
  IP_VS_SVC_F,
  IP_VS_TUNNEL_ENCAP_FLAG,
  IPPROTO,
  type RawDaemon,
  type RawDest,
  type RawService,
  type RawStats,
} from './schema.js';

export type { Family } from './ip.js';
export type Protocol = 'tcp' | 'udp' | 'sctp';
/** Forwarding method: direct routing (gate), NAT (masq), tunnelling (ipip), local node. */
export type ForwardMethod = 'gate' | 'masq' | 'ipip' | 'local';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';
/** Scheduler flags by their ipvsadm names (-b): sh-/mh- for those schedulers, flag-N otherwise. */
export type SchedulerFlag =
  | 'sh-fallback'
  | 'sh-port'
  | 'mh-fallback'
  | 'mh-port'
  | 'flag-1'
  | 'flag-2'
  | 'flag-3';

/** Identifies a virtual service: protocol + address + port, or a firewall mark. */
export type ServiceKey =
  | { protocol: Protocol; address: string; port: number; fwmark?: undefined; family?: Family }
  | { fwmark: number; family?: Family; protocol?: undefined; address?: undefined; port?: undefined };

/** What a virtual service should be (add/edit): key plus options; omitted options take ipvsadm's defaults. */
export type ServiceSpec = ServiceKey & {
  /** Scheduler name, passed through as is. Default `wlc` (ipvsadm's default). */
  scheduler?: string;
  /** Persistence timeout in seconds; present = persistent service. */
  persistent?: number;
  /** Persistence granularity: an IPv4 netmask (`255.255.255.0`) or an IPv6 prefix length. */
  netmask?: string | number;
  /** One-packet scheduling (UDP). */
  onePacket?: boolean;
  schedulerFlags?: readonly SchedulerFlag[];
  /** Persistence engine name (e.g. `sip`). */
  pe?: string;
};

export interface Stats {
  conns: number;
  inPackets: number;
  outPackets: number;
  inBytes: number;
  outBytes: number;
  /** Rates, per second (the kernel's estimator). */
  cps: number;
  inPps: number;
  outPps: number;
  inBps: number;
  outBps: number;
}

/** A virtual service as the kernel reports it. */
export type Service = ServiceKey & {
  family: Family;
  scheduler: string;
  persistent?: number;
  /** IPv4: dotted mask; IPv6: prefix length. */
  netmask: string | number;
  onePacket: boolean;
  schedulerFlags: SchedulerFlag[];
  pe?: string;
  /** The kernel's IP_VS_SVC_F_* bits as reported (HASHED included). */
  flags: number;
  /** The service is in the kernel's hash table (always, for a listed service). */
  hashed: boolean;
  /** 32-bit counters (IPVS_SVC_ATTR_STATS). */
  stats?: Stats;
  /** 64-bit counters (IPVS_SVC_ATTR_STATS64), where the kernel has them. */
  stats64?: Stats;
};

/** A real server (destination) to add or edit. */
export interface DestinationSpec {
  address: string;
  port: number;
  /** Address family of the real server when it differs from the service's (tunnelling). */
  family?: Family;
  /** Default `gate` (ipvsadm's default, direct routing). */
  forward?: ForwardMethod;
  /** Default 1. 0 = quiescent (no new connections). */
  weight?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  /** Tunnel encapsulation (ipip forwarding); kernels since 5.2 (type, port) and 5.3 (checksum). */
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelChecksum?: TunnelChecksum;
}

/** A real server as the kernel reports it. */
export interface Destination {
  address: string;
  port: number;
  family: Family;
  forward: ForwardMethod;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  tunnelType?: TunnelType;
  tunnelPort?: number;
  tunnelChecksum?: TunnelChecksum;
  stats?: Stats;
  stats64?: Stats;
}

export interface Timeouts {
  /** Seconds; 0 in a set leaves the value unchanged (the kernel's rule). */
  tcp: number;
  tcpFin: number;
  udp: number;
}

export interface IpvsInfo {
  /** IP_VS_VERSION_CODE, e.g. 0x010201. */
  versionCode: number;
  /** "1.2.1" */
  version: string;
  /** Size of the connection hash table. */
  connTableSize: number;
}

export type DaemonState = 'master' | 'backup';
export interface DaemonSpec {
  state: DaemonState;
  /** Interface for the sync multicast (mcast-interface). */
  interface: string;
  /** Default 255 (ipvsadm's default). */
  syncId?: number;
  /** Maximum sync message length (kernels 4.3+). */
  maxLength?: number;
  /** IPv4 or IPv6 multicast group (default 224.0.0.81). */
  group?: string;
  port?: number;
  ttl?: number;
}
export interface Daemon extends DaemonSpec {
  syncId: number;
}

const PROTO_NUM: Record<Protocol, number> = { tcp: IPPROTO.TCP, udp: IPPROTO.UDP, sctp: IPPROTO.SCTP };
export function protocolNumber(p: Protocol): number {
  const n = PROTO_NUM[p];
  if (n === undefined) throw new InvalidArgumentError('protocol', `"${String(p)}" is not tcp, udp or sctp`);
  return n;
}
export function protocolName(n: number): Protocol | undefined {
  return n === IPPROTO.TCP ? 'tcp' : n === IPPROTO.UDP ? 'udp' : n === IPPROTO.SCTP ? 'sctp' : undefined;
}

export const FWD: Record<ForwardMethod, number> = {
  masq: IP_VS_CONN_F.MASQ,
  local: IP_VS_CONN_F.LOCALNODE,
  ipip: IP_VS_CONN_F.TUNNEL,
  gate: IP_VS_CONN_F.DROUTE,
};
/** The kernel's forwarding flag for a method (default gate, as ipvsadm's -g). */
export function forwardFlag(forward: ForwardMethod | undefined): number {
  const method = forward ?? 'gate';
  const fwd = FWD[method];
  if (fwd === undefined)
    throw new InvalidArgumentError(
      'forwarding method',
      `"${String(method)}" is not gate, masq, ipip or local`,
    );
  return fwd;
}
const FWD_NAME: Record<number, ForwardMethod> = { 0: 'masq', 1: 'local', 2: 'ipip', 3: 'gate' };
const TUN: Record<TunnelType, number> = { ipip: 0, gue: 1, gre: 2 };
const TUN_NAME: Record<number, TunnelType> = { 0: 'ipip', 1: 'gue', 2: 'gre' };

export function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError(what, `expected an integer 0..65535, got ${String(port)}`);
  return port;
}
export function checkU32(v: unknown, what: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > 0xffffffff)
    throw new InvalidArgumentError(what, `expected an integer ${min}..4294967295, got ${String(v)}`);
  return v;
}

/** The family of a service key: from its address, or `family` (default inet) for a fwmark. */
export function serviceFamily(key: ServiceKey): Family {
  if (key.fwmark !== undefined) return key.family ?? 'inet';
  return parseAddress(key.address, 'service address').family;
}

/** The attributes that identify a service (what DEL_SERVICE, GET_DEST… need). */
export function encodeServiceKey(key: ServiceKey): RawService {
  if (key === null || typeof key !== 'object')
    throw new InvalidArgumentError('service', 'expected an object');
  if (key.fwmark !== undefined) {
    const family = key.family ?? 'inet';
    if (family !== 'inet' && family !== 'inet6')
      throw new InvalidArgumentError('family', `"${String(family)}" is not inet or inet6`);
    return { af: familyNumber(family), fwmark: checkU32(key.fwmark, 'fwmark', 1) };
  }
  const { family, bytes } = parseAddress(key.address, 'service address');
  if (key.family !== undefined && key.family !== family)
    throw new InvalidArgumentError('family', `${key.family} does not match the address ${key.address}`);
  return {
    af: familyNumber(family),
    protocol: protocolNumber(key.protocol),
    addr: bytes,
    port: checkPort(key.port, 'service port'),
  };
}

const SCHED_FLAG_BITS: Record<SchedulerFlag, number> = {
  'sh-fallback': IP_VS_SVC_F.SCHED1,
  'sh-port': IP_VS_SVC_F.SCHED2,
  'mh-fallback': IP_VS_SVC_F.SCHED1,
  'mh-port': IP_VS_SVC_F.SCHED2,
  'flag-1': IP_VS_SVC_F.SCHED1,
  'flag-2': IP_VS_SVC_F.SCHED2,
  'flag-3': IP_VS_SVC_F.SCHED3,
};

/** Names of the scheduler flag bits as ipvsadm shows them for this scheduler. */
export function schedulerFlagNames(scheduler: string, flags: number): SchedulerFlag[] {
  const out: SchedulerFlag[] = [];
  const pre = scheduler === 'sh' ? 'sh' : scheduler === 'mh' ? 'mh' : undefined;
  if (flags & IP_VS_SVC_F.SCHED1) out.push(pre ? (`${pre}-fallback` as SchedulerFlag) : 'flag-1');
  if (flags & IP_VS_SVC_F.SCHED2) out.push(pre ? (`${pre}-port` as SchedulerFlag) : 'flag-2');
  if (flags & IP_VS_SVC_F.SCHED3) out.push('flag-3');
  return out;
}

export const DEFAULT_SCHEDULER = 'wlc';

/** The full service attributes for NEW_SERVICE / SET_SERVICE. */
export function encodeService(spec: ServiceSpec): RawService {
  const raw = encodeServiceKey(spec);
  const family = familyName(raw.af as number);
  let flags = 0;
  if (spec.persistent !== undefined && spec.persistent !== null) flags |= IP_VS_SVC_F.PERSISTENT;
  if (spec.onePacket) flags |= IP_VS_SVC_F.ONEPACKET;
  for (const f of spec.schedulerFlags ?? []) {
    const bit = SCHED_FLAG_BITS[f];
    if (bit === undefined)
      throw new InvalidArgumentError('scheduler flag', `"${String(f)}" is not a known flag`);
    flags |= bit;
  }
  const scheduler = spec.scheduler ?? DEFAULT_SCHEDULER;
  if (typeof scheduler !== 'string' || scheduler.length === 0)
    throw new InvalidArgumentError('scheduler', 'expected a scheduler name such as wrr');
  raw.schedName = scheduler;
  if (spec.pe !== undefined) raw.peName = spec.pe;
  // HASHED is the kernel's own bit: sending it would stop the service being hashed.
  raw.flags = { flags, mask: (0xffffffff & ~IP_VS_SVC_F.HASHED) >>> 0 };
  raw.timeout = spec.persistent === undefined ? 0 : checkU32(spec.persistent, 'persistence timeout');
  raw.netmask = encodeNetmask(family, spec.netmask);
  return raw;
}

function encodeNetmask(family: Family, netmask: string | number | undefined): Uint8Array {
  const out = new Uint8Array(4);
  if (family === 'inet') {
    if (netmask === undefined) return out.fill(0xff);
    if (typeof netmask === 'number') {
      if (!Number.isInteger(netmask) || netmask < 0 || netmask > 32)
        throw new InvalidArgumentError('netmask', `prefix length ${netmask} is not 0..32`);
      return ipv4Netmask(netmask).bytes;
    }
    const p = parseAddress(netmask, 'netmask');
    if (p.family !== 'inet') throw new InvalidArgumentError('netmask', `"${netmask}" is not an IPv4 netmask`);
    return p.bytes;
  }
  const plen = netmask === undefined ? 128 : Number(netmask);
  if (!Number.isInteger(plen) || plen < 1 || plen > 128)
    throw new InvalidArgumentError('netmask', `IPv6 prefix length ${String(netmask)} is not 1..128`);
  new DataView(out.buffer).setUint32(0, plen, isLE());
  return out;
}

function isLE(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

function decodeNetmask(family: Family, raw: Uint8Array | undefined): string | number {
  if (!raw || raw.length < 4) return family === 'inet' ? '255.255.255.255' : 128;
  if (family === 'inet') return formatAddress('inet', raw);
  return new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, isLE());
}

export function decodeStats(raw: RawStats | undefined): Stats | undefined {
  if (!raw) return undefined;
  const n = (v: number | bigint | undefined) => Number(v ?? 0);
  return {
    conns: n(raw.conns),
    inPackets: n(raw.inpkts),
    outPackets: n(raw.outpkts),
    inBytes: n(raw.inbytes),
    outBytes: n(raw.outbytes),
    cps: n(raw.cps),
    inPps: n(raw.inpps),
    outPps: n(raw.outpps),
    inBps: n(raw.inbps),
    outBps: n(raw.outbps),
  };
}

export function decodeService(raw: RawService): Service {
  const family = familyName(raw.af ?? AF_INET);
  const flags = raw.flags?.flags ?? 0;
  const scheduler = raw.schedName ?? '';
  const common = {
    family,
    scheduler,
    netmask: decodeNetmask(family, raw.netmask),
    onePacket: (flags & IP_VS_SVC_F.ONEPACKET) !== 0,
    schedulerFlags: schedulerFlagNames(scheduler, flags),
    flags,
    hashed: (flags & IP_VS_SVC_F.HASHED) !== 0,
  };
  const key: ServiceKey = raw.fwmark
    ? { fwmark: raw.fwmark, family }
    : {
        protocol: protocolName(raw.protocol ?? 0) ?? ('tcp' as Protocol),
        address: formatAddress(family, raw.addr ?? new Uint8Array(16)),
        port: raw.port ?? 0,
        family,
      };
  const out: Service = { ...key, ...common } as Service;
  if (flags & IP_VS_SVC_F.PERSISTENT) out.persistent = raw.timeout ?? 0;
  if (raw.peName) out.pe = raw.peName;
  const stats = decodeStats(raw.stats);
  if (stats) out.stats = stats;
  const stats64 = decodeStats(raw.stats64);
  if (stats64) out.stats64 = stats64;
  return out;
}

/** The attributes that identify a real server within its service (DEL_DEST). */
export function encodeDestinationKey(d: Pick<DestinationSpec, 'address' | 'port' | 'family'>): RawDest {
  if (d === null || typeof d !== 'object')
    throw new InvalidArgumentError('real server', 'expected an object');
  const { family, bytes } = parseAddress(d.address, 'real server address');
  if (d.family !== undefined && d.family !== family)
    throw new InvalidArgumentError('family', `${d.family} does not match the address ${d.address}`);
  return { addr: bytes, port: checkPort(d.port, 'real server port'), addrFamily: familyNumber(family) };
}

export function encodeDestination(d: DestinationSpec): RawDest {
  const raw = encodeDestinationKey(d);
  const fwd = forwardFlag(d.forward);
  raw.fwdMethod = fwd;
  raw.weight = checkU32(d.weight ?? 1, 'weight');
  if (raw.weight > 0x7fffffff) throw new InvalidArgumentError('weight', `${raw.weight} exceeds 2147483647`);
  raw.uThresh = checkU32(d.upperThreshold ?? 0, 'upper threshold');
  raw.lThresh = checkU32(d.lowerThreshold ?? 0, 'lower threshold');
  if (d.tunnelType !== undefined) {
    const t = TUN[d.tunnelType];
    if (t === undefined)
      throw new InvalidArgumentError('tunnel type', `"${d.tunnelType}" is not ipip, gue or gre`);
    raw.tunType = t;
  }
  if (d.tunnelPort !== undefined) raw.tunPort = checkPort(d.tunnelPort, 'tunnel port');
  if (d.tunnelChecksum !== undefined) {
    const c = { nocsum: 0, csum: IP_VS_TUNNEL_ENCAP_FLAG.CSUM, remcsum: IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM }[
      d.tunnelChecksum
    ];
    if (c === undefined)
      throw new InvalidArgumentError(
        'tunnel checksum',
        `"${d.tunnelChecksum}" is not nocsum, csum or remcsum`,
      );
    raw.tunFlags = c;
  }
  return raw;
}

/** Decodes a destination; `serviceFamily` is used when the kernel sends no IPVS_DEST_ATTR_ADDR_FAMILY. */
export function decodeDestination(raw: RawDest, serviceFamily: Family = 'inet'): Destination {
  const family =
    raw.addrFamily === AF_INET || raw.addrFamily === AF_INET6 ? familyName(raw.addrFamily) : serviceFamily;
  const forward = FWD_NAME[(raw.fwdMethod ?? 0) & IP_VS_CONN_F.FWD_MASK] ?? 'masq';
  const out: Destination = {
    address: formatAddress(family, raw.addr ?? new Uint8Array(16)),
    port: raw.port ?? 0,
    family,
    forward,
    weight: raw.weight ?? 0,
    upperThreshold: raw.uThresh ?? 0,
    lowerThreshold: raw.lThresh ?? 0,
    activeConns: raw.activeConns ?? 0,
    inactiveConns: raw.inactConns ?? 0,
    persistentConns: raw.persistConns ?? 0,
  };
  if (forward === 'ipip') {
    // Kernels before 5.2 send no tunnel type: that is plain IPIP.
    out.tunnelType = TUN_NAME[raw.tunType ?? 0] ?? 'ipip';
    if (out.tunnelType === 'gue') out.tunnelPort = raw.tunPort ?? 0;
    if (out.tunnelType !== 'ipip') {
      const f = raw.tunFlags ?? 0;
      out.tunnelChecksum =
        f & IP_VS_TUNNEL_ENCAP_FLAG.REMCSUM
          ? 'remcsum'
          : f & IP_VS_TUNNEL_ENCAP_FLAG.CSUM
            ? 'csum'
            : 'nocsum';
    }
  }
  const stats = decodeStats(raw.stats);
  if (stats) out.stats = stats;
  const stats64 = decodeStats(raw.stats64);
  if (stats64) out.stats64 = stats64;
  return out;
}

export function encodeDaemon(d: DaemonSpec): RawDaemon {
  const state =
    d.state === 'master' ? IP_VS_STATE.MASTER : d.state === 'backup' ? IP_VS_STATE.BACKUP : undefined;
  if (state === undefined)
    throw new InvalidArgumentError('daemon state', `"${String(d.state)}" is not master or backup`);
  if (typeof d.interface !== 'string' || d.interface.length === 0 || d.interface.length > 15)
    throw new InvalidArgumentError('mcast interface', 'expected an interface name of 1..15 characters');
  const raw: RawDaemon = { state, mcastIfn: d.interface, syncId: checkU32(d.syncId ?? 255, 'syncid') };
  if (d.maxLength !== undefined) raw.syncMaxlen = checkPort(d.maxLength, 'sync max length');
  if (d.group !== undefined) {
    const g = parseAddress(d.group, 'multicast group');
    if (g.family === 'inet') raw.mcastGroup = g.bytes;
    else raw.mcastGroup6 = g.bytes;
  }
  if (d.port !== undefined) raw.mcastPort = checkPort(d.port, 'multicast port');
  if (d.ttl !== undefined) {
    if (!Number.isInteger(d.ttl) || d.ttl < 1 || d.ttl > 255)
      throw new InvalidArgumentError('multicast ttl', `${d.ttl} is not 1..255`);
    raw.mcastTtl = d.ttl;
  }
  return raw;
}

export function decodeDaemon(raw: RawDaemon): Daemon {
  const out: Daemon = {
    state: raw.state === IP_VS_STATE.BACKUP ? 'backup' : 'master',
    interface: raw.mcastIfn ?? '',
    syncId: raw.syncId ?? 0,
  };
  if (raw.syncMaxlen !== undefined) out.maxLength = raw.syncMaxlen;
  if (raw.mcastGroup6?.some((b) => b !== 0)) out.group = formatAddress('inet6', raw.mcastGroup6);
  else if (raw.mcastGroup !== undefined) out.group = formatAddress('inet', raw.mcastGroup);
  if (raw.mcastPort !== undefined) out.port = raw.mcastPort;
  if (raw.mcastTtl !== undefined) out.ttl = raw.mcastTtl;
  return out;
}

/** "192.0.2.50:80/tcp", "[2001:db8::1]:443/udp", "fwmark 7", "fwmark 7 (IPv6)". */
export function describeService(key: ServiceKey): string {
  if (key.fwmark !== undefined) return `fwmark ${key.fwmark}${key.family === 'inet6' ? ' (IPv6)' : ''}`;
  const v6 = typeof key.address === 'string' && key.address.includes(':');
  return `${v6 ? `[${key.address}]` : key.address}:${key.port}/${key.protocol}`;
}

export function describeDestination(d: { address: string; port: number }): string {
  return d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
}

/** A stable string key for maps: the same service gives the same string whatever the address spelling. */
export function serviceId(key: ServiceKey): string {
  const raw = encodeServiceKey(key);
  if (raw.fwmark !== undefined) return `fwm:${raw.af}:${raw.fwmark}`;
  return `${protocolName(raw.protocol as number)}:${formatAddress(familyName(raw.af as number), raw.addr as Uint8Array)}:${raw.port}`;
}

export function destinationId(d: { address: string; port: number }): string {
  // A valid dotted quad is already canonical (parseIpv4 refuses leading zeros).
  if (parseIpv4(d.address)) return `${d.address}:${d.port}`;
  const { family, bytes } = parseAddress(d.address, 'real server address');
  return `${formatAddress(family, bytes)}:${d.port}`;
}

/** Just the key fields of a service. */
export function serviceKeyOf(s: ServiceKey): ServiceKey {
  if (s.fwmark !== undefined) return { fwmark: s.fwmark, family: s.family ?? 'inet' };
  return { protocol: s.protocol, address: s.address, port: s.port };
}
