// The IPVS generic-netlink family as data, from the kernel's uapi header
// include/uapi/linux/ip_vs.h and the attribute policies in
// net/netfilter/ipvs/ip_vs_ctl.c. The codec (attrs.ts) walks these tables;
// nothing else in the package knows attribute numbers.

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;

/** Generic-netlink commands (enum IPVS_CMD_*). */
export const IPVS_CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const;
export type IpvsCommandName = keyof typeof IPVS_CMD;
export const IPVS_CMD_NAME: Readonly<Record<number, IpvsCommandName>> = Object.fromEntries(
  Object.entries(IPVS_CMD).map(([k, v]) => [v, k as IpvsCommandName]),
);

/** Service flags (IP_VS_SVC_F_*). SCHED1..3 mean sh-/mh- flags for those schedulers. */
export const IP_VS_SVC_F = {
  PERSISTENT: 0x1,
  HASHED: 0x2,
  ONEPACKET: 0x4,
  SCHED1: 0x8,
  SCHED2: 0x10,
  SCHED3: 0x20,
} as const;

/** Forwarding methods (IP_VS_CONN_F_FWD_MASK values). */
export const IP_VS_CONN_F = { MASQ: 0, LOCALNODE: 1, TUNNEL: 2, DROUTE: 3, BYPASS: 4, FWD_MASK: 7 } as const;
export const IP_VS_TUNNEL_TYPE = { IPIP: 0, GUE: 1, GRE: 2 } as const;
export const IP_VS_TUNNEL_ENCAP_FLAG = { NOCSUM: 0, CSUM: 1, REMCSUM: 2 } as const;
export const IP_VS_STATE = { NONE: 0, MASTER: 1, BACKUP: 2 } as const;
export const IPPROTO = { TCP: 6, UDP: 17, SCTP: 132 } as const;

export const IP_VS_SCHEDNAME_MAXLEN = 16;
export const IP_VS_PENAME_MAXLEN = 16;
export const IP_VS_IFNAME_MAXLEN = 16;

/**
 * Attribute payload types. `be16` is network order; `u*` host order (netlink
 * is host-endian). `flags` is struct ip_vs_flags {u32 flags; u32 mask}.
 * `inaddr` is the 16-byte union nf_inet_addr (IPv4 in the first 4 bytes).
 * `raw4` is 4 opaque bytes (the persistence netmask: a be32 mask for IPv4,
 * a host-order prefix length for IPv6). `pad` is skipped (IPVS_STATS_ATTR_PAD).
 */
export type ScalarType =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'be16'
  | 'string'
  | 'flags'
  | 'inaddr'
  | 'in4'
  | 'in6'
  | 'raw4'
  | 'pad';

export interface AttrSpec {
  readonly id: number;
  readonly name: string;
  readonly type: ScalarType | 'nested';
  /** For nested attributes: the schema of the attributes inside. */
  readonly nested?: Schema;
  /** For strings: the kernel's buffer size including the NUL. */
  readonly maxLength?: number;
}

export interface Schema {
  readonly name: string;
  readonly attrs: readonly AttrSpec[];
  readonly byId: ReadonlyMap<number, AttrSpec>;
  readonly byName: ReadonlyMap<string, AttrSpec>;
}

export function defineSchema(name: string, attrs: readonly AttrSpec[]): Schema {
  return {
    name,
    attrs,
    byId: new Map(attrs.map((a) => [a.id, a])),
    byName: new Map(attrs.map((a) => [a.name, a])),
  };
}

const statsFields = [
  'conns',
  'inpkts',
  'outpkts',
  'inbytes',
  'outbytes',
  'cps',
  'inpps',
  'outpps',
  'inbps',
  'outbps',
];

/** IPVS_STATS_ATTR_* inside IPVS_SVC_ATTR_STATS / IPVS_DEST_ATTR_STATS (32-bit counters, 64-bit bytes). */
export const STATS_SCHEMA = defineSchema('stats', [
  ...statsFields.map((name, i) => ({
    id: i + 1,
    name,
    type: (name === 'inbytes' || name === 'outbytes' ? 'u64' : 'u32') as ScalarType,
  })),
  { id: 11, name: 'pad', type: 'pad' },
]);

/** The same ids inside *_ATTR_STATS64: every counter 64-bit. */
export const STATS64_SCHEMA = defineSchema('stats64', [
  ...statsFields.map((name, i) => ({ id: i + 1, name, type: 'u64' as ScalarType })),
  { id: 11, name: 'pad', type: 'pad' },
]);

/** IPVS_SVC_ATTR_* inside IPVS_CMD_ATTR_SERVICE. */
export const SERVICE_SCHEMA = defineSchema('service', [
  { id: 1, name: 'af', type: 'u16' },
  { id: 2, name: 'protocol', type: 'u16' },
  { id: 3, name: 'addr', type: 'inaddr' },
  { id: 4, name: 'port', type: 'be16' },
  { id: 5, name: 'fwmark', type: 'u32' },
  { id: 6, name: 'schedName', type: 'string', maxLength: IP_VS_SCHEDNAME_MAXLEN },
  { id: 7, name: 'flags', type: 'flags' },
  { id: 8, name: 'timeout', type: 'u32' },
  { id: 9, name: 'netmask', type: 'raw4' },
  { id: 10, name: 'stats', type: 'nested', nested: STATS_SCHEMA },
  { id: 11, name: 'peName', type: 'string', maxLength: IP_VS_PENAME_MAXLEN },
  { id: 12, name: 'stats64', type: 'nested', nested: STATS64_SCHEMA },
]);

/** IPVS_DEST_ATTR_* inside IPVS_CMD_ATTR_DEST. */
export const DEST_SCHEMA = defineSchema('dest', [
  { id: 1, name: 'addr', type: 'inaddr' },
  { id: 2, name: 'port', type: 'be16' },
  { id: 3, name: 'fwdMethod', type: 'u32' },
  { id: 4, name: 'weight', type: 'u32' },
  { id: 5, name: 'uThresh', type: 'u32' },
  { id: 6, name: 'lThresh', type: 'u32' },
  { id: 7, name: 'activeConns', type: 'u32' },
  { id: 8, name: 'inactConns', type: 'u32' },
  { id: 9, name: 'persistConns', type: 'u32' },
  { id: 10, name: 'stats', type: 'nested', nested: STATS_SCHEMA },
  { id: 11, name: 'addrFamily', type: 'u16' },
  { id: 12, name: 'stats64', type: 'nested', nested: STATS64_SCHEMA },
  { id: 13, name: 'tunType', type: 'u8' },
  { id: 14, name: 'tunPort', type: 'be16' },
  { id: 15, name: 'tunFlags', type: 'u16' },
]);

/** IPVS_DAEMON_ATTR_* inside IPVS_CMD_ATTR_DAEMON. */
export const DAEMON_SCHEMA = defineSchema('daemon', [
  { id: 1, name: 'state', type: 'u32' },
  { id: 2, name: 'mcastIfn', type: 'string', maxLength: IP_VS_IFNAME_MAXLEN },
  { id: 3, name: 'syncId', type: 'u32' },
  { id: 4, name: 'syncMaxlen', type: 'u16' },
  { id: 5, name: 'mcastGroup', type: 'in4' },
  { id: 6, name: 'mcastGroup6', type: 'in6' },
  { id: 7, name: 'mcastPort', type: 'u16' },
  { id: 8, name: 'mcastTtl', type: 'u8' },
]);

/** IPVS_CMD_ATTR_*: the top level of every command except the GET_INFO reply. */
export const COMMAND_SCHEMA = defineSchema('command', [
  { id: 1, name: 'service', type: 'nested', nested: SERVICE_SCHEMA },
  { id: 2, name: 'dest', type: 'nested', nested: DEST_SCHEMA },
  { id: 3, name: 'daemon', type: 'nested', nested: DAEMON_SCHEMA },
  { id: 4, name: 'timeoutTcp', type: 'u32' },
  { id: 5, name: 'timeoutTcpFin', type: 'u32' },
  { id: 6, name: 'timeoutUdp', type: 'u32' },
]);

/** IPVS_INFO_ATTR_*: the top level of the GET_INFO reply (command SET_INFO). */
export const INFO_SCHEMA = defineSchema('info', [
  { id: 1, name: 'version', type: 'u32' },
  { id: 2, name: 'connTabSize', type: 'u32' },
]);

/** The top-level schema of a message with this command. */
export function schemaForCommand(cmd: number): Schema {
  return cmd === IPVS_CMD.SET_INFO ? INFO_SCHEMA : COMMAND_SCHEMA;
}

// Raw attribute objects: what the codec reads and writes, one field per attribute.
export interface RawStats {
  conns?: number | bigint;
  inpkts?: number | bigint;
  outpkts?: number | bigint;
  inbytes?: number | bigint;
  outbytes?: number | bigint;
  cps?: number | bigint;
  inpps?: number | bigint;
  outpps?: number | bigint;
  inbps?: number | bigint;
  outbps?: number | bigint;
}
export interface RawService {
  af?: number;
  protocol?: number;
  addr?: Uint8Array;
  port?: number;
  fwmark?: number;
  schedName?: string;
  flags?: { flags: number; mask: number };
  timeout?: number;
  netmask?: Uint8Array;
  stats?: RawStats;
  peName?: string;
  stats64?: RawStats;
}
export interface RawDest {
  addr?: Uint8Array;
  port?: number;
  fwdMethod?: number;
  weight?: number;
  uThresh?: number;
  lThresh?: number;
  activeConns?: number;
  inactConns?: number;
  persistConns?: number;
  stats?: RawStats;
  addrFamily?: number;
  stats64?: RawStats;
  tunType?: number;
  tunPort?: number;
  tunFlags?: number;
}
export interface RawDaemon {
  state?: number;
  mcastIfn?: string;
  syncId?: number;
  syncMaxlen?: number;
  mcastGroup?: Uint8Array;
  mcastGroup6?: Uint8Array;
  mcastPort?: number;
  mcastTtl?: number;
}
/** Top-level attributes of an IPVS message (IPVS_CMD_ATTR_* or, for SET_INFO, IPVS_INFO_ATTR_*). */
export interface IpvsAttrs {
  service?: RawService;
  dest?: RawDest;
  daemon?: RawDaemon;
  timeoutTcp?: number;
  timeoutTcpFin?: number;
  timeoutUdp?: number;
  version?: number;
  connTabSize?: number;
}
