// ipvsadm-compatible text: the listing (`ipvsadm -Ln`, `--stats`, `--rate`,
// `--thresholds`, `--tun-info`, `--exact`) and the save format (`-S -n`)
// that `ipvsadm -R` reads, character for character as ipvsadm 1.31 prints
// them; and a reader for that format. Pure.
import type { TableService } from './client.js';
import { ParseError } from './errors.js';
import { AF_INET, AF_INET6, parseAddressShared as parseAddress } from './ip.js';
import type {
  Destination,
  DestinationSpec,
  ForwardMethod,
  IpvsInfo,
  Protocol,
  SchedulerFlag,
  Service,
  ServiceSpec,
  Stats,
  TunnelChecksum,
  TunnelType,
} from './model.js';

export type ListFormat = 'default' | 'stats' | 'rate' | 'thresholds' | 'persistent-conn' | 'tun-info';

export interface ListOptions {
  format?: ListFormat;
  /** --exact: full numbers instead of K/M/G/T. */
  exact?: boolean;
  /** ipvsadm sorts services and real servers unless --nosort. Default true. */
  sort?: boolean;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

function largenum(n: number, exact: boolean): string {
  if (exact) {
    const s = String(n);
    return lpad(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (n < 1e8) return lpad(n, 9);
  if (n < 1e9) return `${lpad(Math.floor(n / 1e3), 8)}K`;
  if (n < 1e11) return `${lpad(Math.floor(n / 1e6), 8)}M`;
  if (n < 1e14) return `${lpad(Math.floor(n / 1e9), 8)}G`;
  return `${lpad(Math.floor(n / 1e12), 8)}T`;
}

function addrPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

const PROTO_UPPER: Record<Protocol, string> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };
const PROTO_SWITCH: Record<Protocol, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };
const FWD_NAME: Record<ForwardMethod, string> = {
  masq: 'Masq',
  local: 'Local',
  ipip: 'Tunnel',
  gate: 'Route',
};
const FWD_SWITCH: Record<ForwardMethod, string> = { masq: '-m', local: '-g', ipip: '-i', gate: '-g' };

function listName(s: Service): string {
  if (s.fwmark !== undefined) return `${pad('FWM', 4)} ${s.fwmark}${s.family === 'inet6' ? ' IPv6' : ''}`;
  const name = `${pad(PROTO_UPPER[s.protocol], 4)} ${addrPort(s.address, s.port)}`;
  return s.family === 'inet6' ? name : name.slice(0, 33);
}

function ruleName(s: Service): string {
  if (s.fwmark !== undefined) return `-f ${s.fwmark}${s.family === 'inet6' ? ' -6' : ''}`;
  return `${PROTO_SWITCH[s.protocol]} ${addrPort(s.address, s.port)}`;
}

function isDefaultMask(s: Service): boolean {
  return s.family === 'inet' ? s.netmask === '255.255.255.255' : s.netmask === 128;
}

function tunnelInfo(d: Destination): string {
  if (d.forward !== 'ipip') return 'n/a';
  const type = d.tunnelType ?? 'ipip';
  const csum = d.tunnelChecksum === 'remcsum' ? 'r+c' : d.tunnelChecksum === 'csum' ? '+c' : '-c';
  if (type === 'gue') return `gue:${d.tunnelPort ?? 0}:${csum}`;
  if (type === 'gre') return `gre:${csum}`;
  return 'ipip';
}

/** ipvsadm's service order: fwmark, family, protocol, address, port (C int arithmetic, as libipvs). */
export function compareServices(a: Service, b: Service): number {
  const r1 = ((a.fwmark ?? 0) - (b.fwmark ?? 0)) | 0;
  if (r1) return r1;
  const af = (s: Service) => (s.family === 'inet' ? AF_INET : AF_INET6);
  if (af(a) !== af(b)) return af(a) - af(b);
  const proto = (s: Service) =>
    s.protocol === 'tcp' ? 6 : s.protocol === 'udp' ? 17 : s.protocol === 'sctp' ? 132 : 0;
  if (proto(a) !== proto(b)) return proto(a) - proto(b);
  if (a.address !== undefined && b.address !== undefined) {
    const r = compareAddr(a.address, b.address);
    if (r) return r;
  }
  return (a.port ?? 0) - (b.port ?? 0);
}

function compareAddr(x: string, y: string): number {
  const a = parseAddress(x).bytes;
  const b = parseAddress(y).bytes;
  for (let i = 0; i < Math.max(a.length, b.length); i += 4) {
    const wa =
      ((a[i] ?? 0) * 2 ** 24 + ((a[i + 1] ?? 0) << 16) + ((a[i + 2] ?? 0) << 8) + (a[i + 3] ?? 0)) >>> 0;
    const wb =
      ((b[i] ?? 0) * 2 ** 24 + ((b[i + 1] ?? 0) << 16) + ((b[i + 2] ?? 0) << 8) + (b[i + 3] ?? 0)) >>> 0;
    const r = (wa - wb) | 0;
    if (r) return r;
  }
  return 0;
}

export function compareDestinations(a: Destination, b: Destination): number {
  return compareAddr(a.address, b.address) || a.port - b.port;
}

function sorted(table: readonly TableService[], sort: boolean): TableService[] {
  if (!sort) return [...table];
  return [...table]
    .sort(compareServices)
    .map((s) => ({ ...s, destinations: [...s.destinations].sort(compareDestinations) }));
}

function serviceFlagsText(s: Service): string {
  let out = ` ${s.scheduler}`;
  if (s.schedulerFlags.length) out += ` (${s.schedulerFlags.join(',')})`;
  if (s.persistent !== undefined) {
    out += ` persistent ${s.persistent}`;
    if (!isDefaultMask(s)) out += ` mask ${s.netmask}`;
  }
  if (s.pe) out += ` pe ${s.pe}`;
  if (s.onePacket) out += ' ops';
  return out;
}

const zero: Stats = {
  conns: 0,
  inPackets: 0,
  outPackets: 0,
  inBytes: 0,
  outBytes: 0,
  cps: 0,
  inPps: 0,
  outPps: 0,
  inBps: 0,
  outBps: 0,
};

/** `ipvsadm -Ln` (and its --stats, --rate… variants) for a table. */
export function formatList(
  table: readonly TableService[],
  info: IpvsInfo,
  options: ListOptions = {},
): string {
  const format = options.format ?? 'default';
  const exact = options.exact ?? false;
  const lines: string[] = [`IP Virtual Server version ${info.version} (size=${info.connTableSize})`];
  const head = 'Prot LocalAddress:Port';
  switch (format) {
    case 'stats':
      lines.push(
        `${pad(head, 33)} ${['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'].map((h) => lpad(h, 8)).join(' ')}`,
      );
      lines.push('  -> RemoteAddress:Port');
      break;
    case 'rate':
      lines.push(
        `${pad(head, 33)} ${['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'].map((h) => lpad(h, 8)).join(' ')}`,
      );
      lines.push('  -> RemoteAddress:Port');
      break;
    case 'thresholds':
      lines.push(
        `${pad(head, 33)} ${['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'].map((h) => pad(h, 10)).join(' ')}`,
      );
      lines.push('  -> RemoteAddress:Port');
      break;
    case 'persistent-conn':
      lines.push(
        `${pad(head, 33)} ${pad('Weight', 9)} ${pad('PersistConn', 11)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}`,
      );
      lines.push('  -> RemoteAddress:Port');
      break;
    case 'tun-info':
      lines.push('Prot LocalAddress:Port Scheduler Flags');
      lines.push('  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn');
      break;
    default:
      lines.push('Prot LocalAddress:Port Scheduler Flags');
      lines.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn');
  }
  for (const s of sorted(table, options.sort ?? true)) {
    const name = listName(s);
    const st = s.stats64 ?? s.stats ?? zero;
    if (format === 'stats')
      lines.push(
        pad(name, 33) +
          [st.conns, st.inPackets, st.outPackets, st.inBytes, st.outBytes]
            .map((n) => largenum(n, exact))
            .join(''),
      );
    else if (format === 'rate')
      lines.push(
        pad(name, 33) +
          [st.cps, st.inPps, st.outPps, st.inBps, st.outBps].map((n) => largenum(n, exact)).join(''),
      );
    else lines.push(name + serviceFlagsText(s));
    for (const d of s.destinations) {
      let dn = addrPort(d.address, d.port);
      if (s.family !== 'inet6') dn = dn.slice(0, 28);
      const ds = d.stats64 ?? d.stats ?? zero;
      switch (format) {
        case 'stats':
          lines.push(
            `  -> ${pad(dn, 28)}${[ds.conns, ds.inPackets, ds.outPackets, ds.inBytes, ds.outBytes].map((n) => largenum(n, exact)).join('')}`,
          );
          break;
        case 'rate':
          lines.push(
            `  -> ${pad(dn, 28)} ${lpad(ds.cps, 8)} ${lpad(ds.inPps, 8)} ${lpad(ds.outPps, 8)}${largenum(ds.inBps, exact)}${largenum(ds.outBps, exact)}`,
          );
          break;
        case 'thresholds':
          lines.push(
            `  -> ${pad(dn, 28)} ${[d.upperThreshold, d.lowerThreshold, d.activeConns, d.inactiveConns].map((n) => pad(n, 10)).join(' ')}`,
          );
          break;
        case 'persistent-conn':
          lines.push(
            `  -> ${pad(dn, 28)} ${pad(d.weight, 9)} ${pad(d.persistentConns, 11)} ${pad(d.activeConns, 10)} ${pad(d.inactiveConns, 10)}`,
          );
          break;
        case 'tun-info':
          lines.push(
            `  -> ${pad(dn, 28)} ${pad(FWD_NAME[d.forward], 7)} ${pad(tunnelInfo(d), 13)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactiveConns, 10)}`,
          );
          break;
        default:
          lines.push(
            `  -> ${pad(dn, 28)} ${pad(FWD_NAME[d.forward], 7)} ${pad(d.weight, 6)} ${pad(d.activeConns, 10)} ${pad(d.inactiveConns, 10)}`,
          );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `ipvsadm -S -n`: the rules that rebuild the table with `ipvsadm -R`. */
export function formatSave(table: readonly TableService[], options: { sort?: boolean } = {}): string {
  let out = '';
  for (const s of sorted(table, options.sort ?? true)) {
    const name = ruleName(s);
    let line = `-A ${name} -s ${s.scheduler}`;
    if (s.persistent !== undefined) {
      line += ` -p ${s.persistent}`;
      if (!isDefaultMask(s)) line += ` -M ${s.netmask}`;
    }
    if (s.pe) line += ` --pe ${s.pe}`;
    if (s.onePacket) line += ' -o';
    if (s.schedulerFlags.length) line += ` -b ${s.schedulerFlags.join(',')}`;
    out += `${line}\n`;
    for (const d of s.destinations) {
      let dl = `-a ${name} -r ${addrPort(d.address, d.port)} ${FWD_SWITCH[d.forward]} -w ${d.weight}`;
      if (d.forward === 'ipip' && d.tunnelType !== undefined) {
        dl += ` --tun-type ${d.tunnelType}`;
        if (d.tunnelType === 'gue') dl += ` --tun-port ${d.tunnelPort ?? 0}`;
        if (d.tunnelType !== 'ipip') dl += ` --tun-${d.tunnelChecksum ?? 'nocsum'}`;
      }
      out += `${dl}\n`;
    }
  }
  return out;
}

/** A service as `reconcile()` and `parseSave()` describe it: settings plus real servers. */
export type DesiredService = ServiceSpec & { destinations: DestinationSpec[] };

const DEFAULT_PERSISTENT_TIMEOUT = 360; // ipvsadm 1.31: -p without a value

function parseHostPort(text: string, line: number, defaultPort?: number): { address: string; port: number } {
  let host = text;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw new ParseError(line, `"${text}" has no closing ]`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest.startsWith(':')) port = rest.slice(1);
    else if (rest !== '') throw new ParseError(line, `"${text}" is not [address]:port`);
  } else if (text.split(':').length === 2) {
    [host, port] = text.split(':') as [string, string];
  }
  try {
    parseAddress(host);
  } catch {
    throw new ParseError(line, `"${host}" is not a numeric IPv4 or IPv6 address (use ipvsadm -S -n)`);
  }
  const p = port === undefined ? defaultPort : Number(port);
  if (p === undefined || !Number.isInteger(p) || p < 0 || p > 65535)
    throw new ParseError(line, `"${text}" has no valid port`);
  return { address: host, port: p };
}

/**
 * Reads `ipvsadm -S -n` output (the -A/-a lines `ipvsadm -R` accepts; -E/-e
 * are read like -A/-a, -C starts over) into a desired table.
 */
export function parseSave(text: string): DesiredService[] {
  const services = new Map<string, DesiredService>();
  const keyOf = (s: ServiceSpec) =>
    s.fwmark !== undefined ? `f${s.fwmark}/${s.family ?? 'inet'}` : `${s.protocol}/${s.address}/${s.port}`;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const words = raw.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0 || words[0]?.startsWith('#')) return;
    const cmd = words[0];
    if (cmd === '-C' || cmd === '--clear') {
      services.clear();
      return;
    }
    const isService = cmd === '-A' || cmd === '--add-service' || cmd === '-E' || cmd === '--edit-service';
    const isDest = cmd === '-a' || cmd === '--add-server' || cmd === '-e' || cmd === '--edit-server';
    if (!isService && !isDest) throw new ParseError(line, `unknown command "${cmd}" (expected -A or -a)`);
    let proto: Protocol | undefined;
    let vs: string | undefined;
    let fwmark: number | undefined;
    let v6 = false;
    const svc: Partial<ServiceSpec> = {};
    const dest: Partial<DestinationSpec> = {};
    let rs: string | undefined;
    const flags: SchedulerFlag[] = [];
    for (let k = 1; k < words.length; k++) {
      const w = words[k] as string;
      const next = () => {
        const v = words[++k];
        if (v === undefined) throw new ParseError(line, `${w} needs a value`);
        return v;
      };
      const num = (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new ParseError(line, `${w} needs a number, got "${v}"`);
        return n;
      };
      switch (w) {
        case '-t':
        case '--tcp-service':
          proto = 'tcp';
          vs = next();
          break;
        case '-u':
        case '--udp-service':
          proto = 'udp';
          vs = next();
          break;
        case '--sctp-service':
          proto = 'sctp';
          vs = next();
          break;
        case '-f':
        case '--fwmark-service':
          fwmark = num(next());
          break;
        case '-6':
        case '--ipv6':
          v6 = true;
          break;
        case '-s':
        case '--scheduler':
          svc.scheduler = next();
          break;
        case '-p':
        case '--persistent': {
          const v = words[k + 1];
          svc.persistent =
            v !== undefined && /^\d+$/.test(v) ? num(words[++k] as string) : DEFAULT_PERSISTENT_TIMEOUT;
          break;
        }
        case '-M':
        case '--netmask': {
          const v = next();
          svc.netmask = /^\d+$/.test(v) ? Number(v) : v;
          break;
        }
        case '--pe':
          svc.pe = next();
          break;
        case '-o':
        case '--ops':
          svc.onePacket = true;
          break;
        case '-b':
        case '--sched-flags':
          flags.push(...(next().split(',') as SchedulerFlag[]));
          break;
        case '-r':
        case '--real-server':
          rs = next();
          break;
        case '-g':
        case '--gatewaying':
          dest.forward = 'gate';
          break;
        case '-m':
        case '--masquerading':
          dest.forward = 'masq';
          break;
        case '-i':
        case '--ipip':
          dest.forward = 'ipip';
          break;
        case '-w':
        case '--weight':
          dest.weight = num(next());
          break;
        case '-x':
        case '--u-threshold':
          dest.upperThreshold = num(next());
          break;
        case '-y':
        case '--l-threshold':
          dest.lowerThreshold = num(next());
          break;
        case '--tun-type':
          dest.tunnelType = next() as TunnelType;
          if (!['ipip', 'gue', 'gre'].includes(dest.tunnelType))
            throw new ParseError(line, `tunnel type "${dest.tunnelType}" is not ipip, gue or gre`);
          break;
        case '--tun-port':
          dest.tunnelPort = num(next());
          break;
        case '--tun-nocsum':
        case '--tun-csum':
        case '--tun-remcsum':
          dest.tunnelChecksum = w.slice(6) as TunnelChecksum;
          break;
        default:
          throw new ParseError(line, `unknown option "${w}"`);
      }
    }
    let key: ServiceSpec;
    if (fwmark !== undefined) key = { fwmark, family: v6 ? 'inet6' : 'inet' };
    else if (proto && vs) key = { protocol: proto, ...parseHostPort(vs, line, 0) };
    else throw new ParseError(line, 'no virtual service (-t, -u, --sctp-service or -f)');
    const id = keyOf(key);
    if (isService) {
      if (flags.length) svc.schedulerFlags = flags;
      const prev = services.get(id);
      services.set(id, { ...key, ...svc, destinations: prev?.destinations ?? [] } as DesiredService);
      return;
    }
    if (!rs) throw new ParseError(line, '-a needs a real server (-r)');
    const owner = services.get(id);
    if (!owner)
      throw new ParseError(line, `real server for ${vs ?? `fwmark ${fwmark}`} before its service (-A)`);
    const d: DestinationSpec = { ...parseHostPort(rs, line, key.port ?? 0), ...dest };
    // ipvsadm gives a non-NAT real server of a non-fwmark service the service's port.
    if (key.fwmark === undefined && (d.forward ?? 'gate') !== 'masq') d.port = key.port ?? d.port;
    const at = owner.destinations.findIndex((x) => x.address === d.address && x.port === d.port);
    if (at >= 0) owner.destinations[at] = d;
    else owner.destinations.push(d);
  });
  return [...services.values()];
}
