// The BIRD 2 configuration an active/active director needs, written from a
// typed description (pure: values in, text out): a router id, a BGP session
// with BFD to each upstream router, and one static protocol per VIP holding
// its /32 or /128 route, `disabled` until the director's health says
// announce (`enable NAME` over bird.ctl). The VIPs' routes go to BGP only:
// there is no kernel protocol, so nothing of BIRD's reaches the director's
// own routing table, and nothing is imported from the routers.
import { InvalidAddressError, type IpAddress, parseIp } from '@lvs-ha/ip';
import { BirdConfigError } from './errors.js';

export interface BgpNeighbor {
  /** the router's address on the shared link (IPv4 or IPv6: the session carries that family's VIPs) */
  address: string;
  /** the router's AS */
  as: number;
  /** the protocol's name in BIRD (default `up4_192_0_2_1`, from the address) */
  name?: string;
  /** our address for the session (BIRD's `local ADDRESS`); default: the interface's address toward it */
  sourceAddress?: string;
  /** the interface, needed for an IPv6 link-local neighbor */
  interface?: string;
  /** TCP MD5 password (RFC 2385) */
  password?: string;
  /** the router is this many hops away (BIRD's `multihop N`); default: directly connected */
  multihop?: number;
  /** the router's BGP port (default 179) */
  port?: number;
}

export interface BfdOptions {
  /** transmit and receive interval in milliseconds (default 100) */
  intervalMs?: number;
  /** missed packets before the session is down (default 3): detection = interval × multiplier */
  multiplier?: number;
}

export interface DirectorBirdConfig {
  /** BIRD's router id: an IPv4 address, usually the director's own */
  routerId: string;
  /** the director's AS (a private one, 64512-65534 or 4200000000-4294967294, in most setups) */
  localAs: number;
  /** the upstream routers, one BGP session each */
  neighbors: readonly BgpNeighbor[];
  /** the VIPs: one static protocol each, holding address/32 or address/128 */
  vips: readonly string[];
  /** BFD on every session (default { intervalMs: 100, multiplier: 3 }); false: no BFD */
  bfd?: BfdOptions | false;
  /** BGP hold time in seconds (default 9; 0: no keepalives, or 3-65535) */
  holdTime?: number;
  /** BGP keepalive time in seconds (default a third of the hold time) */
  keepaliveTime?: number;
  /** seconds between start and the first connect (default 1; BIRD's own default is 5) */
  connectDelayTime?: number;
  /** seconds between connect attempts (default 5; BIRD's own is 120) */
  connectRetryTime?: number;
  /** min and max seconds before a session restarts after an error (default [1, 30]; BIRD's own is 60, 300) */
  errorWaitTime?: readonly [number, number];
  /** where BIRD logs: 'stderr' (default; the supervisor reads it), 'syslog', or a file */
  log?: 'stderr' | 'syslog' | { file: string };
}

/** The name of the static protocol that holds a VIP: vip4_203_0_113_10, vip6_2001_db8__10. */
export function vipProtocolName(vip: string): string {
  const ip = parseAddress(vip, 'vip');
  return `vip${ip.family}_${ip.text.replace(/[.:]/g, '_')}`;
}

/** The default name of the BGP protocol toward a neighbor: up4_192_0_2_1, up6_2001_db8__1. */
export function neighborProtocolName(address: string): string {
  const ip = parseAddress(address, 'neighbor');
  return `up${ip.family}_${ip.text.replace(/[.:]/g, '_')}`;
}

const SYMBOL = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// BIRD's keywords that could be mistaken for a protocol name a user gives.
const RESERVED = new Set([
  'all',
  'off',
  'on',
  'none',
  'master4',
  'master6',
  'static',
  'bgp',
  'bfd',
  'device',
]);

function parseAddress(text: string, where: string): IpAddress {
  try {
    return parseIp(text);
  } catch (e) {
    if (e instanceof InvalidAddressError)
      throw new BirdConfigError(where, `${JSON.stringify(text)}: ${e.reason}`);
    throw e;
  }
}

function integer(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw new BirdConfigError(where, `${JSON.stringify(value)} is not an integer from ${min} to ${max}`);
  return value;
}

function quoted(text: string, where: string): string {
  if (/["\\\n\r]/.test(text) || text.length === 0 || text.length > 255)
    throw new BirdConfigError(where, 'must be 1-255 characters without quotes, backslashes or newlines');
  return `"${text}"`;
}

function symbol(name: string, where: string): string {
  if (!SYMBOL.test(name) || RESERVED.has(name.toLowerCase()))
    throw new BirdConfigError(
      where,
      `${JSON.stringify(name)} is not a BIRD symbol ([A-Za-z_][A-Za-z0-9_]*, no keyword)`,
    );
  return name;
}

/** The parts of a written configuration the caller drives at run time. */
export interface WrittenBirdConfig {
  /** the configuration file's text */
  text: string;
  /** VIP address (canonical text) → its static protocol's name, for enable/disable */
  vipProtocols: Map<string, string>;
  /** the BGP protocols' names, in the neighbors' order */
  bgpProtocols: string[];
  /** the BFD protocol's name, when BFD is on */
  bfdProtocol: string | undefined;
}

/** The name of the BFD protocol the writer makes. */
export const BFD_PROTOCOL = 'lvs_bfd';

/**
 * Writes the configuration; throws BirdConfigError (code
 * BIRD_CONFIG_INVALID, `.where` the field) on any value BIRD would refuse
 * or that would not announce what was asked (a VIP of a family no neighbor
 * carries, two VIPs alike, hold time under 3...).
 */
export function writeDirectorConfig(config: DirectorBirdConfig): WrittenBirdConfig {
  const routerId = parseAddress(config.routerId, 'routerId');
  if (routerId.family !== 4) throw new BirdConfigError('routerId', 'must be an IPv4 address');
  if (routerId.text === '0.0.0.0') throw new BirdConfigError('routerId', 'must not be 0.0.0.0');
  const localAs = integer(config.localAs, 'localAs', 1, 4294967295);
  const holdTime = config.holdTime ?? 9;
  if (holdTime !== 0) integer(holdTime, 'holdTime', 3, 65535);
  const keepaliveTime = config.keepaliveTime;
  if (keepaliveTime !== undefined) {
    integer(keepaliveTime, 'keepaliveTime', 1, 65535);
    if (holdTime !== 0 && keepaliveTime >= holdTime)
      throw new BirdConfigError('keepaliveTime', `must be less than the hold time (${holdTime})`);
  }
  const connectDelay = integer(config.connectDelayTime ?? 1, 'connectDelayTime', 0, 65535);
  const connectRetry = integer(config.connectRetryTime ?? 5, 'connectRetryTime', 1, 65535);
  const [waitMin, waitMax] = config.errorWaitTime ?? [1, 30];
  integer(waitMin, 'errorWaitTime[0]', 1, 65535);
  integer(waitMax, 'errorWaitTime[1]', waitMin, 65535);
  const bfd = config.bfd === false ? undefined : (config.bfd ?? {});
  const bfdInterval = bfd ? integer(bfd.intervalMs ?? 100, 'bfd.intervalMs', 1, 60_000) : 0;
  const bfdMultiplier = bfd ? integer(bfd.multiplier ?? 3, 'bfd.multiplier', 1, 255) : 0;

  if (!Array.isArray(config.neighbors) || config.neighbors.length === 0)
    throw new BirdConfigError('neighbors', 'at least one upstream router is needed to announce anything');
  const names = new Set<string>();
  const families = new Set<number>();
  const seenNeighbors = new Set<string>();
  const bgp: string[] = [];
  const bgpNames: string[] = [];
  config.neighbors.forEach((n, i) => {
    const where = `neighbors[${i}]`;
    const address = parseAddress(n.address, `${where}.address`);
    if (seenNeighbors.has(address.text))
      throw new BirdConfigError(`${where}.address`, `${address.text} twice`);
    seenNeighbors.add(address.text);
    const name = symbol(n.name ?? neighborProtocolName(address.text), `${where}.name`);
    if (names.has(name)) throw new BirdConfigError(`${where}.name`, `${name} twice`);
    names.add(name);
    bgpNames.push(name);
    families.add(address.family);
    const as = integer(n.as, `${where}.as`, 1, 4294967295);
    const lines: string[] = [];
    if (n.sourceAddress !== undefined) {
      const source = parseAddress(n.sourceAddress, `${where}.sourceAddress`);
      if (source.family !== address.family)
        throw new BirdConfigError(
          `${where}.sourceAddress`,
          `IPv${source.family} for an IPv${address.family} neighbor`,
        );
      lines.push(`local ${source.text} as ${localAs};`);
    } else {
      lines.push(`local as ${localAs};`);
    }
    const port = n.port === undefined ? '' : ` port ${integer(n.port, `${where}.port`, 1, 65535)}`;
    const iface = n.interface === undefined ? '' : `%${interfaceName(n.interface, `${where}.interface`)}`;
    if (iface && address.family !== 6)
      throw new BirdConfigError(`${where}.interface`, 'only for an IPv6 (link-local) neighbor');
    lines.push(`neighbor ${address.text}${iface}${port} as ${as};`);
    if (n.multihop !== undefined) lines.push(`multihop ${integer(n.multihop, `${where}.multihop`, 1, 255)};`);
    if (n.password !== undefined) lines.push(`password ${quoted(n.password, `${where}.password`)};`);
    lines.push(`hold time ${holdTime};`);
    if (keepaliveTime !== undefined) lines.push(`keepalive time ${keepaliveTime};`);
    lines.push(`connect delay time ${connectDelay};`);
    lines.push(`connect retry time ${connectRetry};`);
    lines.push(`error wait time ${waitMin}, ${waitMax};`);
    if (bfd) lines.push('bfd on;');
    const channel = address.family === 4 ? 'ipv4' : 'ipv6';
    // Only our VIPs' static routes leave, whatever else the table may hold.
    lines.push(
      `${channel} {`,
      '  import none;',
      `  export where source = RTS_STATIC && proto ~ "vip${address.family}_*";`,
      '};',
    );
    bgp.push(
      [
        `protocol bgp ${name} {`,
        `  description ${quoted(`upstream ${address.text}`, where)};`,
        ...lines.map((l) => `  ${l}`),
        '}',
      ].join('\n'),
    );
  });

  if (!Array.isArray(config.vips)) throw new BirdConfigError('vips', 'must be a list of addresses');
  const vipProtocols = new Map<string, string>();
  const statics: string[] = [];
  config.vips.forEach((v, i) => {
    const where = `vips[${i}]`;
    const ip = parseAddress(v, where);
    if (vipProtocols.has(ip.text)) throw new BirdConfigError(where, `${ip.text} twice`);
    if (!families.has(ip.family))
      throw new BirdConfigError(where, `${ip.text}: no IPv${ip.family} neighbor would carry it`);
    const name = vipProtocolName(ip.text);
    if (names.has(name)) throw new BirdConfigError(where, `${name} is also a neighbor's name`);
    names.add(name);
    vipProtocols.set(ip.text, name);
    const bits = ip.family === 4 ? 32 : 128;
    statics.push(
      [
        `protocol static ${name} {`,
        '  disabled;',
        `  description ${quoted(`VIP ${ip.text}`, where)};`,
        `  ipv${ip.family};`,
        `  route ${ip.text}/${bits} blackhole;`,
        '}',
      ].join('\n'),
    );
  });
  if (names.has(BFD_PROTOCOL))
    throw new BirdConfigError('neighbors', `${BFD_PROTOCOL} is the BFD protocol's name`);

  const log = config.log ?? 'stderr';
  let logLine: string;
  if (log === 'stderr') logLine = 'log stderr all;';
  else if (log === 'syslog') logLine = 'log syslog all;';
  else if (typeof log === 'object' && typeof log.file === 'string')
    logLine = `log ${quoted(log.file, 'log.file')} all;`;
  else throw new BirdConfigError('log', "must be 'stderr', 'syslog' or { file }");

  const sections = [
    [
      '# BIRD 2 configuration of an lvs-ha director, written by @lvs-ha/bird.',
      "# The VIPs' static protocols start disabled; lvs-ha enables one (bird.ctl",
      '# `enable NAME`) while the VIP has a healthy real server. A `configure`',
      '# sets them back to disabled: lvs-ha enables them again after one.',
      logLine,
      `router id ${routerId.text};`,
    ].join('\n'),
    // Interfaces (BGP's direct sessions and BFD need them); no kernel protocol.
    'protocol device {\n}',
  ];
  if (bfd) {
    sections.push(
      [
        `protocol bfd ${BFD_PROTOCOL} {`,
        '  interface "*" {',
        `    min rx interval ${bfdInterval} ms;`,
        `    min tx interval ${bfdInterval} ms;`,
        `    idle tx interval ${Math.max(bfdInterval, 1000)} ms;`,
        `    multiplier ${bfdMultiplier};`,
        '  };',
        '}',
      ].join('\n'),
    );
  }
  sections.push(...bgp, ...statics);
  return {
    text: `${sections.join('\n\n')}\n`,
    vipProtocols,
    bgpProtocols: bgpNames,
    bfdProtocol: bfd ? BFD_PROTOCOL : undefined,
  };
}

function interfaceName(name: string, where: string): string {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name))
    throw new BirdConfigError(
      where,
      `${JSON.stringify(name)} is not an interface name (1-15 of [A-Za-z0-9_.-])`,
    );
  return name;
}
