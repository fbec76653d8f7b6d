// ha.cf, Heartbeat 3.0.6's main configuration file: one directive per line,
// words separated by blanks, `#` comments. Directives take effect in order,
// so udpport and baud must come before the media that use them.
import { type ConfigError, type ConfigErrorCode, fileProblem, type ParseResult } from './errors.js';
import { isIPv4, isIPv6, splitLines, suggest, tokenizeLine } from './source.js';
import { SYSLOG_FACILITIES, syslogFacility } from './syslog.js';
import { formatHeartbeatTime, parseHeartbeatTime } from './time.js';

/** One directive line as written; the typed meaning is in `HaCf.settings`. */
export interface HaCfDirective {
  name: string;
  args: string[];
  line?: number;
  column?: number;
  /** Column of each argument, parallel to `args`. */
  argColumns?: number[];
  /** Comment and blank lines just above, verbatim, so the writer keeps them. */
  before?: string[];
  /** A comment at the end of the line (without the `#`). */
  comment?: string;
}

export type HaMedium =
  | { type: 'bcast'; interface: string; port: number; line?: number }
  | {
      type: 'mcast';
      interface: string;
      group: string;
      port: number;
      ttl: number;
      loop: boolean;
      line?: number;
    }
  | {
      type: 'mcast6';
      interface: string;
      group: string;
      port: number;
      hops: number;
      loop: boolean;
      line?: number;
    }
  | { type: 'ucast'; interface: string; peer: string; port: number; line?: number }
  | { type: 'ucast6'; interface: string; peer: string; port: number; line?: number }
  | { type: 'serial'; device: string; baud: number; line?: number };

export type AutoFailback = 'on' | 'off' | 'legacy';

export interface HaCfSettings {
  /** Every communication path, with the udpport/baud in effect where it was declared. */
  media: HaMedium[];
  /** Node names as written; Heartbeat compares them lower-cased. */
  nodes: string[];
  keepaliveMs: number;
  deadtimeMs: number;
  /** Unset: Heartbeat derives its late-heartbeat warning from deadtime. */
  warntimeMs: number | undefined;
  initdeadMs: number | undefined;
  deadpingMs: number;
  udpport: number;
  autoFailback: AutoFailback;
  /** True when auto_failback was not set (Heartbeat warns and uses legacy). */
  autoFailbackDefaulted: boolean;
  msgfmt: 'classic' | 'netstring';
  ping: string[];
  pingGroups: { name: string; hosts: string[] }[];
  respawn: { user: string; command: string }[];
  apiauth: { group: string; uids: string[]; gids: string[] }[];
  stonith: { type: string; configFile: string } | undefined;
  stonithHosts: { from: string; type: string; params: string[] }[];
  /** Every other single-valued directive that was set, by name, as written. */
  other: Record<string, string>;
}

export interface HaCf {
  directives: HaCfDirective[];
  /** Comment and blank lines after the last directive. */
  trailer: string[];
  settings: HaCfSettings;
}

// ---------------------------------------------------------------------------
// The directive table.

type Kind =
  | 'time'
  | 'bool'
  | 'int'
  | 'enum'
  | 'string'
  | 'words'
  | 'rest'
  | 'bcast'
  | 'mcast'
  | 'mcast6'
  | 'ucast'
  | 'serial'
  | 'apiauth'
  | 'stonith'
  | 'stonith_host'
  | 'ping_group'
  | 'respawn'
  | 'crm';

interface Spec {
  kind: Kind;
  /** May appear more than once (each occurrence adds). */
  repeat?: boolean;
  min?: number;
  max?: number;
  values?: readonly string[];
  deprecated?: string;
}

const SPECS: Readonly<Record<string, Spec>> = {
  apiauth: { kind: 'apiauth', repeat: true },
  autojoin: { kind: 'enum', values: ['none', 'other', 'any'] },
  bcast: { kind: 'bcast', repeat: true },
  compression: { kind: 'string' },
  compression_threshold: { kind: 'int', min: 1, max: 1 << 20 },
  conn_logd_time: { kind: 'time' },
  coredumps: { kind: 'bool' },
  crm: { kind: 'crm' },
  pacemaker: { kind: 'crm' },
  crm_daemon_dir: { kind: 'string' },
  crmd_spawns_pengine: { kind: 'bool' },
  deadtime: { kind: 'time' },
  debug: { kind: 'int', min: 0, max: 255 },
  hbgenmethod: { kind: 'enum', values: ['time', 'file'] },
  initdead: { kind: 'time' },
  keepalive: { kind: 'time' },
  logfacility: { kind: 'string' },
  mcast: { kind: 'mcast', repeat: true },
  mcast6: { kind: 'mcast6', repeat: true },
  msgfmt: { kind: 'enum', values: ['classic', 'netstring'] },
  node: { kind: 'words', repeat: true },
  realtime: { kind: 'bool' },
  rtprio: { kind: 'int', min: 1, max: 99 },
  ucast: { kind: 'ucast', repeat: true },
  ucast6: { kind: 'ucast', repeat: true },
  udpport: { kind: 'int', min: 1, max: 65535 },
  use_logd: { kind: 'bool' },
  uuidfrom: { kind: 'enum', values: ['file', 'nodename'] },
  warntime: { kind: 'time' },
  auto_failback: { kind: 'enum', values: ['on', 'off', 'legacy'] },
  baud: { kind: 'int', min: 1, max: 4_000_000, deprecated: 'serial links are obsolete' },
  deadping: { kind: 'time' },
  debugfile: { kind: 'string', deprecated: 'use use_logd and logd.cf' },
  hbaping: { kind: 'string' },
  hopfudge: { kind: 'int', min: 0, max: 255 },
  logfile: { kind: 'string', deprecated: 'use use_logd and logd.cf' },
  ping: { kind: 'words', repeat: true },
  ping_group: { kind: 'ping_group', repeat: true },
  respawn: { kind: 'respawn', repeat: true },
  serial: { kind: 'serial', repeat: true },
  stonith: { kind: 'stonith' },
  stonith_host: { kind: 'stonith_host', repeat: true },
  traditional_compression: { kind: 'bool' },
  watchdog: { kind: 'string' },
  // Accepted by Heartbeat 3.0.6 though missing from ha.cf(5).
  max_rexmit_delay: { kind: 'time' },
  memreserve: { kind: 'int', min: 0, max: 1 << 20 },
  syslogmsgfmt: { kind: 'bool' },
  record_config_changes: { kind: 'bool' },
  record_pengine_inputs: { kind: 'bool' },
  enable_config_writes: { kind: 'bool' },
  quorum_server: { kind: 'string' },
  env: { kind: 'rest', repeat: true },
};

/** Every directive name ha.cf accepts. */
export const HACF_DIRECTIVES: readonly string[] = Object.keys(SPECS);

const MEDIA = new Set(['bcast', 'mcast', 'mcast6', 'ucast', 'ucast6', 'serial']);
const TRUE_WORDS = new Set(['true', 'on', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'off', 'no', 'n', '0']);

/** Heartbeat's boolean words (cl_str_to_boolean). */
export function parseHeartbeatBoolean(s: string): boolean | undefined {
  const w = s.toLowerCase();
  if (TRUE_WORDS.has(w)) return true;
  if (FALSE_WORDS.has(w)) return false;
  return undefined;
}

export const HACF_DEFAULTS = {
  keepaliveMs: 1000,
  deadtimeMs: 30_000,
  deadpingMs: 30_000,
  udpport: 694,
  baud: 19200,
  msgfmt: 'classic',
} as const;

/** Linux interface names: 1–15 bytes, no `/`, no blanks (IFNAMSIZ). */
export function isInterfaceName(s: string): boolean {
  return s.length > 0 && s.length <= 15 && !/[/\s:]/.test(s) && s !== '.' && s !== '..';
}

// ---------------------------------------------------------------------------
// Parser

export interface ParseHaCfOptions {
  file?: string;
}

export function parseHaCf(text: string, options: ParseHaCfOptions = {}): ParseResult<HaCf> {
  const file = options.file ?? 'ha.cf';
  const problems: ConfigError[] = [];
  const directives: HaCfDirective[] = [];
  let pending: string[] = [];
  for (const { line, text: lineText } of text === '' ? [] : splitLines(text)) {
    const { tokens, comment } = tokenizeLine(lineText);
    const first = tokens[0];
    if (!first) {
      pending.push(lineText);
      continue;
    }
    const d: HaCfDirective = {
      name: first.text,
      args: tokens.slice(1).map((t) => t.text),
      line,
      column: first.column,
      argColumns: tokens.slice(1).map((t) => t.column),
    };
    if (pending.length) d.before = pending;
    if (comment !== undefined) d.comment = comment;
    pending = [];
    directives.push(d);
  }
  const settings = interpretHaCf(directives, file, problems);
  return { value: { directives, trailer: pending, settings }, problems };
}

/** Builds the typed settings from directive lines, reporting every problem. */
function interpretHaCf(directives: HaCfDirective[], file: string, problems: ConfigError[]): HaCfSettings {
  const s: HaCfSettings = {
    media: [],
    nodes: [],
    keepaliveMs: HACF_DEFAULTS.keepaliveMs,
    deadtimeMs: HACF_DEFAULTS.deadtimeMs,
    warntimeMs: undefined,
    initdeadMs: undefined,
    deadpingMs: HACF_DEFAULTS.deadpingMs,
    udpport: HACF_DEFAULTS.udpport,
    autoFailback: 'legacy',
    autoFailbackDefaulted: true,
    msgfmt: HACF_DEFAULTS.msgfmt,
    ping: [],
    pingGroups: [],
    respawn: [],
    apiauth: [],
    stonith: undefined,
    stonithHosts: [],
    other: {},
  };
  let baud: number = HACF_DEFAULTS.baud;
  const seen = new Map<string, HaCfDirective>();
  const lines = { keepalive: 0, deadtime: 0, warntime: 0, initdead: 0 };
  let firstMedium: HaCfDirective | undefined;
  let firstNode: HaCfDirective | undefined;

  for (const d of directives) {
    const line = d.line ?? 0;
    const col = (i: number) => (i < 0 ? (d.column ?? 1) : (d.argColumns?.[i] ?? d.column ?? 1));
    const report = (
      code: ConfigErrorCode,
      message: string,
      argIndex = -1,
      hint?: string,
      severity?: 'warning',
    ) =>
      problems.push(
        fileProblem({
          code,
          file,
          line,
          column: col(argIndex),
          message,
          ...(hint ? { hint } : {}),
          ...(severity ? { severity } : {}),
        }),
      );
    const name = d.name.toLowerCase();
    const spec = SPECS[name];
    if (!spec) {
      const close = suggest(name, HACF_DIRECTIVES);
      report(
        'UNKNOWN_DIRECTIVE',
        `unknown directive '${d.name}'`,
        -1,
        close ? `did you mean '${close}'?` : 'see ha.cf(5)',
      );
      continue;
    }
    if (name !== d.name)
      report('BAD_VALUE', `directive '${d.name}' must be written in lower case`, -1, `write '${name}'`);
    if (spec.deprecated) report('DEPRECATED', `'${name}' is deprecated`, -1, spec.deprecated, 'warning');
    const args = d.args;
    if (args.length === 0) {
      report('MISSING_VALUE', `'${name}' needs a value`, -1, 'see ha.cf(5)');
      continue;
    }
    const prev = seen.get(name);
    if (prev && !spec.repeat)
      report(
        'DUPLICATE',
        `'${name}' is set again (first at line ${prev.line}); the last one wins`,
        -1,
        'remove one of them',
        'warning',
      );
    seen.set(name, d);
    if (MEDIA.has(name)) firstMedium ??= d;
    if (name === 'node') firstNode ??= d;
    if (name === 'udpport' || name === 'baud') {
      const uses = name === 'udpport' ? /^(bcast|ucast6?)$/ : /^serial$/;
      const earlier = directives.find((m) => (m.line ?? 0) < line && uses.test(m.name));
      if (earlier)
        report(
          'ORDER',
          `'${name}' comes after '${earlier.name}' at line ${earlier.line}, which was already set up with the previous value`,
          -1,
          `move '${name}' above line ${earlier.line}`,
        );
    }

    const single = (): string | undefined => {
      if (args.length > 1 && spec.kind !== 'rest')
        report('BAD_VALUE', `'${name}' takes one value, got ${args.length}`, 1, 'remove the extra words');
      return args[0];
    };
    const int = (i: number, min: number, max: number, what: string): number | undefined => {
      const t = args[i];
      if (t === undefined) return undefined;
      if (!/^\d+$/.test(t)) {
        report('BAD_VALUE', `${what} must be a whole number, got '${t}'`, i);
        return undefined;
      }
      const n = Number(t);
      if (n < min || n > max) {
        report('OUT_OF_RANGE', `${what} must be between ${min} and ${max}, got ${n}`, i);
        return undefined;
      }
      return n;
    };
    const need = (count: number, usage: string): boolean => {
      if (args.length < count) {
        report('MISSING_VALUE', `'${name}' needs ${count} values: ${usage}`, -1);
        return false;
      }
      if (args.length > count) report('BAD_VALUE', `'${name}' takes ${count} values: ${usage}`, count);
      return true;
    };
    const iface = (i: number): string | undefined => {
      const t = args[i];
      if (t === undefined) return undefined;
      if (!isInterfaceName(t)) {
        report('BAD_VALUE', `'${t}' is not a network interface name`, i, 'e.g. eth0');
        return undefined;
      }
      return t;
    };

    switch (spec.kind) {
      case 'time': {
        const t = single()!;
        const ms = parseHeartbeatTime(t);
        if (ms === undefined) {
          report(
            'BAD_VALUE',
            `'${t}' is not a Heartbeat time`,
            0,
            "seconds (e.g. 2 or 0.5), or a number with 'ms' or 'us' (e.g. 500ms)",
          );
          break;
        }
        if (name === 'keepalive') [s.keepaliveMs, lines.keepalive] = [ms, line];
        else if (name === 'deadtime') [s.deadtimeMs, lines.deadtime] = [ms, line];
        else if (name === 'warntime') [s.warntimeMs, lines.warntime] = [ms, line];
        else if (name === 'initdead') [s.initdeadMs, lines.initdead] = [ms, line];
        else if (name === 'deadping') s.deadpingMs = ms;
        else s.other[name] = t;
        break;
      }
      case 'bool': {
        const t = single()!;
        if (parseHeartbeatBoolean(t) === undefined)
          report(
            'BAD_VALUE',
            `'${name}' must be on or off, got '${t}'`,
            0,
            'one of on, off, yes, no, true, false',
          );
        else s.other[name] = t;
        break;
      }
      case 'crm': {
        const t = single()!;
        if (parseHeartbeatBoolean(t) === undefined && !['respawn', 'minimal'].includes(t.toLowerCase()))
          report('BAD_VALUE', `'${name}' must be respawn, on or off, got '${t}'`, 0);
        else s.other[name] = t;
        break;
      }
      case 'int': {
        single();
        const n = int(0, spec.min ?? 0, spec.max ?? Number.MAX_SAFE_INTEGER, `'${name}'`);
        if (n === undefined) break;
        if (name === 'udpport') s.udpport = n;
        else if (name === 'baud') baud = n;
        s.other[name] = args[0]!;
        break;
      }
      case 'enum': {
        const t = single()!;
        const v = t.toLowerCase();
        let value = v;
        // Heartbeat reads auto_failback's on/off with its boolean parser.
        if (name === 'auto_failback' && parseHeartbeatBoolean(v) !== undefined)
          value = parseHeartbeatBoolean(v) ? 'on' : 'off';
        if (!spec.values!.includes(value)) {
          report(
            'BAD_VALUE',
            `'${name}' must be one of ${spec.values!.join(', ')}, got '${t}'`,
            0,
            suggestHint(v, spec.values!),
          );
          break;
        }
        if (name === 'auto_failback')
          [s.autoFailback, s.autoFailbackDefaulted] = [value as AutoFailback, false];
        else if (name === 'msgfmt') s.msgfmt = value as 'classic' | 'netstring';
        else s.other[name] = value;
        break;
      }
      case 'string':
        s.other[name] = single()!;
        // Heartbeat refuses a facility it does not know ("Log facility(…) not valid") and does not start.
        if (
          name === 'logfacility' &&
          args[0]!.toLowerCase() !== 'none' &&
          syslogFacility(args[0]!) === undefined
        )
          report(
            'BAD_VALUE',
            `'${args[0]}' is not a syslog facility`,
            0,
            suggestHint(args[0]!.toLowerCase(), [...Object.keys(SYSLOG_FACILITIES), 'none']) ??
              'one of daemon, local0 … local7, user, … or none',
          );
        break;
      case 'rest':
        if (name === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(args[0]!))
          report('BAD_VALUE', `'env' takes NAME=value, got '${args[0]}'`, 0);
        break;
      case 'words':
        if (name === 'node') {
          for (const [i, n] of args.entries()) {
            if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n))
              report(
                'BAD_VALUE',
                `'${n}' is not a valid node name`,
                i,
                'node names are host names, as uname -n prints them',
              );
            else if (s.nodes.some((x) => x.toLowerCase() === n.toLowerCase()))
              report(
                'DUPLICATE',
                `node '${n}' is listed twice`,
                i,
                'Heartbeat compares node names lower-cased',
                'warning',
              );
            else s.nodes.push(n);
          }
        } else s.ping.push(...args);
        break;
      case 'bcast':
        for (const i of args.keys()) {
          const dev = iface(i);
          if (dev) s.media.push({ type: 'bcast', interface: dev, port: s.udpport, line });
        }
        break;
      case 'serial':
        for (const dev of args) {
          if (!dev.startsWith('/'))
            report('BAD_VALUE', `'${dev}' is not a serial device path`, args.indexOf(dev), 'e.g. /dev/ttyS0');
          else s.media.push({ type: 'serial', device: dev, baud, line });
        }
        break;
      case 'ucast': {
        if (!need(2, `${name} DEVICE PEER-ADDRESS`)) break;
        const dev = iface(0);
        const peer = args[1]!;
        const v6 = name === 'ucast6';
        if (!(v6 ? isIPv6(peer) : isIPv4(peer) || /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(peer))) {
          report('BAD_VALUE', `'${peer}' is not an ${v6 ? 'IPv6' : 'IPv4'} address`, 1);
          break;
        }
        if (dev) s.media.push({ type: v6 ? 'ucast6' : 'ucast', interface: dev, peer, port: s.udpport, line });
        break;
      }
      case 'mcast':
      case 'mcast6': {
        const v6 = name === 'mcast6';
        if (!need(5, `${name} DEVICE GROUP PORT ${v6 ? 'HOPS' : 'TTL'} LOOP`)) break;
        const dev = iface(0);
        const group = args[1]!;
        const okGroup = v6
          ? isIPv6(group) && group.toLowerCase().startsWith('ff')
          : isIPv4(group) && Number(group.split('.')[0]) >= 224 && Number(group.split('.')[0]) <= 239;
        if (!okGroup)
          report(
            'BAD_VALUE',
            `'${group}' is not an ${v6 ? 'IPv6' : 'IPv4'} multicast group`,
            1,
            v6 ? 'ff00::/8, e.g. ff12::1:2:3:4' : '224.0.0.0 to 239.255.255.255, e.g. 239.192.0.1',
          );
        const port = int(2, 1, 65535, 'the multicast port');
        const ttl = int(3, v6 ? 0 : 1, v6 ? 4 : 255, v6 ? 'the hop limit' : 'the TTL');
        const loop = int(4, 0, 1, 'loop');
        if (dev && okGroup && port !== undefined && ttl !== undefined && loop !== undefined)
          s.media.push(
            v6
              ? { type: 'mcast6', interface: dev, group, port, hops: ttl, loop: loop === 1, line }
              : { type: 'mcast', interface: dev, group, port, ttl, loop: loop === 1, line },
          );
        break;
      }
      case 'apiauth': {
        const entry = { group: args[0]!, uids: [] as string[], gids: [] as string[] };
        for (const [i, a] of args.slice(1).entries()) {
          const m = /^(uid|gid)=(.+)$/.exec(a);
          if (!m) {
            report('BAD_VALUE', `apiauth takes uid=LIST or gid=LIST, got '${a}'`, i + 1);
            continue;
          }
          (m[1] === 'uid' ? entry.uids : entry.gids).push(...m[2]!.split(',').filter(Boolean));
        }
        if (args.length === 1)
          report('MISSING_VALUE', `apiauth ${entry.group} needs a uid= or gid= list`, -1);
        s.apiauth.push(entry);
        break;
      }
      case 'stonith':
        if (need(2, 'stonith TYPE CONFIG-FILE')) s.stonith = { type: args[0]!, configFile: args[1]! };
        break;
      case 'stonith_host':
        if (args.length < 2) report('MISSING_VALUE', `'stonith_host' needs FROM-HOST TYPE [PARAMS...]`, -1);
        else s.stonithHosts.push({ from: args[0]!, type: args[1]!, params: args.slice(2) });
        break;
      case 'ping_group':
        if (args.length < 2) report('MISSING_VALUE', `'ping_group' needs a NAME and at least one host`, -1);
        else s.pingGroups.push({ name: args[0]!, hosts: args.slice(1) });
        break;
      case 'respawn':
        if (args.length < 2)
          report(
            'MISSING_VALUE',
            `'respawn' needs a USER and a COMMAND`,
            -1,
            'e.g. respawn hacluster /usr/lib/heartbeat/ipfail',
          );
        else s.respawn.push({ user: args[0]!, command: args.slice(1).join(' ') });
        break;
    }
  }

  // Heartbeat's own sanity checks on the timings.
  const at = (l: number) => (l ? l : 1);
  const timing = (message: string, l: number, severity: 'error' | 'warning', hint: string) =>
    problems.push(
      fileProblem({ code: 'OUT_OF_RANGE', file, line: at(l), column: 1, message, hint, severity }),
    );
  if (s.keepaliveMs <= 0)
    timing('keepalive must be greater than zero', lines.keepalive, 'error', 'e.g. keepalive 2');
  if (s.deadtimeMs <= s.keepaliveMs)
    timing(
      `deadtime (${fmt(s.deadtimeMs)}) must be longer than keepalive (${fmt(s.keepaliveMs)})`,
      lines.deadtime || lines.keepalive,
      'error',
      'a node would be declared dead between two heartbeats',
    );
  else if (s.deadtimeMs < 2 * s.keepaliveMs)
    timing(
      `deadtime (${fmt(s.deadtimeMs)}) is less than twice keepalive (${fmt(s.keepaliveMs)})`,
      lines.deadtime || lines.keepalive,
      'warning',
      'one lost heartbeat would declare the node dead',
    );
  if (s.warntimeMs !== undefined) {
    if (s.warntimeMs <= s.keepaliveMs || s.warntimeMs >= s.deadtimeMs)
      timing(
        `warntime (${fmt(s.warntimeMs)}) should lie between keepalive (${fmt(s.keepaliveMs)}) and deadtime (${fmt(s.deadtimeMs)})`,
        lines.warntime,
        'warning',
        'otherwise late-heartbeat warnings never or always fire',
      );
  }
  if (s.initdeadMs !== undefined) {
    if (s.initdeadMs < s.deadtimeMs)
      timing(
        `initdead (${fmt(s.initdeadMs)}) is shorter than deadtime (${fmt(s.deadtimeMs)})`,
        lines.initdead,
        'error',
        'initdead must be at least deadtime',
      );
    else if (s.initdeadMs < 2 * s.deadtimeMs)
      timing(
        `initdead (${fmt(s.initdeadMs)}) is less than twice deadtime (${fmt(s.deadtimeMs)})`,
        lines.initdead,
        'warning',
        'Heartbeat recommends at least twice deadtime, for slow-booting networks',
      );
  }
  const last = directives[directives.length - 1];
  const endLine = last?.line ?? 1;
  if (s.media.length === 0 && !directives.some((d) => MEDIA.has(d.name.toLowerCase())))
    problems.push(
      fileProblem({
        code: 'MISSING_REQUIRED',
        file,
        line: endLine,
        column: 1,
        message: 'no communication media: Heartbeat needs bcast, mcast, ucast or serial',
        hint: "e.g. 'bcast eth1'",
      }),
    );
  if (
    !directives.some((d) => d.name.toLowerCase() === 'node') &&
    !['other', 'any'].includes(s.other['autojoin'] ?? '')
  )
    problems.push(
      fileProblem({
        code: 'MISSING_REQUIRED',
        file,
        line: endLine,
        column: 1,
        message: "no 'node' directive: list every cluster node",
        hint: "e.g. 'node load1 load2' (names as uname -n prints them)",
      }),
    );
  if (s.autoFailbackDefaulted && directives.length > 0)
    problems.push(
      fileProblem({
        code: 'MISSING_REQUIRED',
        file,
        line: endLine,
        column: 1,
        severity: 'warning',
        message: 'auto_failback is not set; Heartbeat uses legacy and warns',
        hint: "add 'auto_failback on' or 'auto_failback off'",
      }),
    );
  if (firstNode && firstMedium && (firstNode.line ?? 0) < (firstMedium.line ?? 0))
    problems.push(
      fileProblem({
        code: 'ORDER',
        file,
        line: firstNode.line ?? 1,
        column: firstNode.column ?? 1,
        message: `'node' comes before the media (first medium at line ${firstMedium.line})`,
        hint: 'ha.cf is read in order: declare udpport, then the media, then the nodes',
      }),
    );
  return s;
}

function fmt(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function suggestHint(word: string, values: readonly string[]): string | undefined {
  const close = suggest(word, values);
  return close ? `did you mean '${close}'?` : undefined;
}

// ---------------------------------------------------------------------------
// Writer

/** Writes ha.cf text: directives in order, comments kept, one tab after the name. */
export function writeHaCf(cf: Pick<HaCf, 'directives' | 'trailer'>): string {
  const out: string[] = [];
  for (const d of cf.directives) {
    if (d.before) out.push(...d.before);
    let line = d.args.length ? `${d.name}\t${d.args.join(' ')}` : d.name;
    if (d.comment !== undefined) line += `\t#${d.comment}`;
    out.push(line);
  }
  out.push(...cf.trailer);
  return out.length ? `${out.join('\n')}\n` : '';
}

/** A directive line for a typed time value, e.g. `haCfTime('keepalive', 500)` → keepalive 500ms. */
export function haCfTimeDirective(
  name: 'keepalive' | 'deadtime' | 'warntime' | 'initdead' | 'deadping',
  ms: number,
): HaCfDirective {
  return { name, args: [formatHeartbeatTime(ms)] };
}

/** Re-reads settings after directives were edited in code. */
export function haCfFromDirectives(
  directives: HaCfDirective[],
  trailer: string[] = [],
  file = 'ha.cf',
): ParseResult<HaCf> {
  const problems: ConfigError[] = [];
  const settings = interpretHaCf(directives, file, problems);
  return { value: { directives, trailer, settings }, problems };
}
