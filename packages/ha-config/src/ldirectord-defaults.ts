// ldirectord's defaults made visible: every global and per-virtual setting with
// the value ldirectord 4.12 will use and where it came from. The fallbacks follow
// set_defaults, read_config and ld_setup in the 4.12 code (not the manual: e.g.
// quiescent defaults to no).
import {
  type EmailAlertStatus,
  type ForwardMethod,
  type LdCheckType,
  type LdFallback,
  type LdirectordConfig,
  type LdService,
  type LdVirtual,
  type LdVirtualAddress,
  ldPortNumber,
  virtualProtocol,
} from './ldirectord.js';

/** Where a resolved value came from. */
export type LdSource = 'explicit' | 'global' | 'default' | 'port' | 'derived';

export interface LdResolved<T> {
  value: T;
  source: LdSource;
  /** Set in the file at this level (virtual for per-virtual settings). */
  explicit: boolean;
  line?: number;
}

export interface LdResolvedGlobal {
  autoreload: LdResolved<boolean>;
  callback: LdResolved<string | null>;
  checkcount: LdResolved<number>;
  checkinterval: LdResolved<number>;
  /** null: not set; each virtual falls back along checktimeout → negotiatetimeout → 5. */
  checktimeout: LdResolved<number | null>;
  negotiatetimeout: LdResolved<number | null>;
  cleanstop: LdResolved<boolean>;
  emailalert: LdResolved<string | null>;
  emailalertfreq: LdResolved<number>;
  emailalertstatus: LdResolved<EmailAlertStatus[]>;
  emailalertfrom: LdResolved<string | null>;
  failurecount: LdResolved<number>;
  fallback: LdResolved<LdFallback | null>;
  fallback6: LdResolved<LdFallback | null>;
  fallbackcommand: LdResolved<string | null>;
  fork: LdResolved<boolean>;
  logfile: LdResolved<string>;
  maintenancedir: LdResolved<string | null>;
  quiescent: LdResolved<boolean>;
  readdquiescent: LdResolved<boolean>;
  supervised: LdResolved<boolean>;
  smtp: LdResolved<string | null>;
  execute: string[];
}

export interface LdResolvedReal {
  address: string;
  /** The port connections go to: the real's own, else the virtual service's. */
  port: string;
  forward: ForwardMethod;
  weight: LdResolved<number>;
  request: LdResolved<string>;
  receive: LdResolved<string>;
  lowerThreshold: LdResolved<number>;
  upperThreshold: LdResolved<number>;
  line?: number;
}

export interface LdResolvedVirtual {
  /** ldirectord's id for the service: protocol:address:port or fwm:mark. */
  id: string;
  ipv6: boolean;
  address: LdVirtualAddress;
  line?: number;
  protocol: LdResolved<'tcp' | 'udp' | 'fwm'>;
  service: LdResolved<LdService>;
  scheduler: LdResolved<string>;
  checktype: LdResolved<LdCheckType | number>;
  checkcommand: LdResolved<string>;
  /** null: the real server's port, or the service's well-known port. */
  checkport: LdResolved<number | null>;
  request: LdResolved<string>;
  receive: LdResolved<string>;
  httpmethod: LdResolved<'GET' | 'HEAD'>;
  virtualhost: LdResolved<string | null>;
  login: LdResolved<string>;
  passwd: LdResolved<string>;
  database: LdResolved<string>;
  secret: LdResolved<string>;
  load: LdResolved<string | null>;
  persistent: LdResolved<number | null>;
  netmask: LdResolved<string | null>;
  schedflags: LdResolved<string | null>;
  ops: LdResolved<boolean>;
  checktimeout: LdResolved<number>;
  negotiatetimeout: LdResolved<number>;
  checkinterval: LdResolved<number>;
  checkcount: LdResolved<number>;
  failurecount: LdResolved<number>;
  quiescent: LdResolved<boolean>;
  cleanstop: LdResolved<boolean>;
  fallback: LdResolved<LdFallback | null>;
  fallbackcommand: LdResolved<string | null>;
  emailalert: LdResolved<string | null>;
  emailalertfreq: LdResolved<number>;
  emailalertstatus: LdResolved<EmailAlertStatus[]>;
  smtp: LdResolved<string | null>;
  monitorfile: LdResolved<string | null>;
  servicename: LdResolved<string | null>;
  comment: LdResolved<string | null>;
  reals: LdResolvedReal[];
}

export interface LdResolvedConfig {
  global: LdResolvedGlobal;
  virtuals: LdResolvedVirtual[];
}

export interface ResolveLdirectordOptions {
  /** The director's host name, used in ldirectord's default ftp/sip login (ldirectord@HOST). */
  hostname?: string;
}

/** ldirectord's service for a port number (ld_port_to_service). */
export function ldServiceForPort(port: number | undefined): LdService {
  const table: Record<number, LdService> = {
    21: 'ftp',
    25: 'smtp',
    53: 'dns',
    80: 'http',
    110: 'pop',
    119: 'nntp',
    143: 'imap',
    389: 'ldap',
    443: 'https',
    587: 'submission',
    636: 'ldaps',
    995: 'pops',
    993: 'imaps',
    1521: 'oracle',
    1812: 'radius',
    3128: 'http_proxy',
    3306: 'mysql',
    5060: 'sip',
    5432: 'pgsql',
  };
  return (port !== undefined && table[port]) || 'none';
}

/** The defaults of ldirectord 4.12's set_defaults. */
export const LDIRECTORD_GLOBAL_DEFAULTS = {
  autoreload: false,
  callback: null,
  checkcount: 1,
  checkinterval: 10,
  checktimeout: null,
  negotiatetimeout: null,
  cleanstop: true,
  emailalert: null,
  emailalertfreq: 0,
  emailalertstatus: ['all'] as EmailAlertStatus[],
  emailalertfrom: null,
  failurecount: 1,
  fallback: null,
  fallback6: null,
  fallbackcommand: null,
  fork: false,
  logfile: '/var/log/ldirectord.log',
  maintenancedir: null,
  quiescent: false,
  readdquiescent: false,
  supervised: false,
  smtp: null,
} as const;

const DEFAULT_CHECKTIMEOUT = 5;
const DEFAULT_NEGOTIATETIMEOUT = 30;

/** A value the file sets at this level. */
const explicit = <T>(value: T): LdResolved<T> => ({ value, source: 'explicit', explicit: true });

function set<T>(s: { value: T; line?: number } | undefined): LdResolved<T> | undefined {
  if (!s) return undefined;
  const r = explicit(s.value);
  if (s.line !== undefined) r.line = s.line;
  return r;
}
const dflt = <T>(value: T, source: LdSource = 'default'): LdResolved<T> => ({
  value,
  source,
  explicit: false,
});
/** A global value seen from a virtual: inherited, not explicit there. */
const inherit = <T>(g: LdResolved<T>): LdResolved<T> => ({
  value: g.value,
  source: g.explicit ? 'global' : 'default',
  explicit: false,
});

export function resolveLdirectordDefaults(
  config: LdirectordConfig,
  options: ResolveLdirectordOptions = {},
): LdResolvedConfig {
  const host = options.hostname ?? 'localhost';
  const g = config.settings;
  const D = LDIRECTORD_GLOBAL_DEFAULTS;
  const global: LdResolvedGlobal = {
    autoreload: set(g.autoreload) ?? dflt(D.autoreload),
    callback: set(g.callback) ?? dflt<string | null>(D.callback),
    checkcount: set(g.checkcount) ?? dflt(D.checkcount),
    checkinterval: set(g.checkinterval) ?? dflt(D.checkinterval),
    checktimeout: set<number | null>(g.checktimeout) ?? dflt<number | null>(D.checktimeout),
    negotiatetimeout: set<number | null>(g.negotiatetimeout) ?? dflt<number | null>(D.negotiatetimeout),
    cleanstop: set(g.cleanstop) ?? dflt(D.cleanstop),
    emailalert: set<string | null>(g.emailalert) ?? dflt<string | null>(D.emailalert),
    emailalertfreq: set(g.emailalertfreq) ?? dflt(D.emailalertfreq),
    emailalertstatus: set(g.emailalertstatus) ?? dflt([...D.emailalertstatus]),
    emailalertfrom: set<string | null>(g.emailalertfrom) ?? dflt<string | null>(D.emailalertfrom),
    failurecount: set(g.failurecount) ?? dflt(D.failurecount),
    fallback: set<LdFallback | null>(g.fallback) ?? dflt<LdFallback | null>(D.fallback),
    fallback6: set<LdFallback | null>(g.fallback6) ?? dflt<LdFallback | null>(D.fallback6),
    fallbackcommand: set<string | null>(g.fallbackcommand) ?? dflt<string | null>(D.fallbackcommand),
    fork: set(g.fork) ?? dflt(D.fork),
    logfile: set(g.logfile) ?? dflt<string>(D.logfile),
    maintenancedir: set<string | null>(g.maintenancedir) ?? dflt<string | null>(D.maintenancedir),
    quiescent: set(g.quiescent) ?? dflt(D.quiescent),
    readdquiescent: set(g.readdquiescent) ?? dflt(D.readdquiescent),
    supervised: set(g.supervised) ?? dflt(D.supervised),
    smtp: set<string | null>(g.smtp) ?? dflt<string | null>(D.smtp),
    execute: config.execute.map((e) => e.value),
  };
  return { global, virtuals: config.virtuals.map((v) => resolveVirtual(v, global, host)) };
}

function resolveVirtual(v: LdVirtual, global: LdResolvedGlobal, host: string): LdResolvedVirtual {
  const s = v.settings;
  const a = v.address;
  const protocolValue = virtualProtocol(v);
  const protocol: LdResolved<'tcp' | 'udp' | 'fwm'> =
    set(s.protocol) ?? dflt(protocolValue, a.kind === 'fwmark' ? 'derived' : 'port');
  const vport = a.kind === 'address' ? ldPortNumber(a.port) : undefined;
  const service: LdResolved<LdService> =
    set(s.service) ??
    (a.kind === 'fwmark' ? dflt<LdService>('none', 'derived') : dflt(ldServiceForPort(vport), 'port'));
  // ldirectord fills the ftp/sip login only when `service` is written out.
  const explicitService = s.service?.value;
  const login =
    set(s.login) ??
    (explicitService === 'ftp'
      ? dflt('anonymous', 'derived')
      : explicitService === 'sip'
        ? dflt(`ldirectord@${host}`, 'derived')
        : dflt(''));
  const passwd =
    set(s.passwd) ?? (explicitService === 'ftp' ? dflt(`ldirectord@${host}`, 'derived') : dflt(''));

  // checktimeout and negotiatetimeout default to each other (ld_setup).
  const vct = s.checktimeout?.value;
  const vnt = s.negotiatetimeout?.value;
  const gct = global.checktimeout.value;
  const gnt = global.negotiatetimeout.value;
  const checktimeout: LdResolved<number> =
    set(s.checktimeout) ??
    (vnt !== undefined
      ? dflt(vnt, 'derived')
      : gct !== null
        ? dflt(gct, 'global')
        : gnt !== null
          ? dflt(gnt, 'global')
          : dflt(DEFAULT_CHECKTIMEOUT));
  const negotiatetimeout: LdResolved<number> =
    set(s.negotiatetimeout) ??
    (vct !== undefined
      ? dflt(vct, 'derived')
      : gnt !== null
        ? dflt(gnt, 'global')
        : gct !== null
          ? dflt(gct, 'global')
          : dflt(DEFAULT_NEGOTIATETIMEOUT));

  // A per-virtual checkinterval is used only by forked children.
  const checkinterval =
    global.fork.value && s.checkinterval
      ? (set(s.checkinterval) as LdResolved<number>)
      : inherit(global.checkinterval);

  const fallback: LdResolved<LdFallback | null> = (() => {
    const own = set<LdFallback | null>(s.fallback);
    if (own) {
      const f = own.value as LdFallback;
      if (f.port === undefined && a.kind === 'address') own.value = { ...f, port: a.port };
      if (f.forward === undefined) own.value = { ...(own.value as LdFallback), forward: 'gate' };
      return own;
    }
    const gf = v.ipv6 ? global.fallback6 : global.fallback;
    if (gf.value === null) return dflt<LdFallback | null>(null);
    const f = { ...gf.value };
    if (f.port === undefined) f.port = a.kind === 'address' ? a.port : '0';
    if (f.forward === undefined) f.forward = 'gate';
    return { value: f, source: 'global', explicit: false };
  })();

  const request = set(s.request) ?? dflt('/');
  const receive = set(s.receive) ?? dflt('');
  const vportStr = a.kind === 'address' ? a.port : '0';
  const reals: LdResolvedReal[] = [];
  // What a real server does not set itself is one object per virtual, shared
  // by its reals (10,000 reals would otherwise hold 50,000 copies of it).
  const derived = (g: LdResolved<string>): LdResolved<string> =>
    g.source === 'explicit' ? { value: g.value, source: 'derived', explicit: false } : inherit(g);
  const shared = {
    weight: dflt(1),
    request: derived(request),
    receive: derived(receive),
    threshold: dflt(0),
  };
  for (const r of v.reals) {
    const addrs = r.addresses.length > 0 ? r.addresses : [r.host];
    const perReal = r.request !== undefined && r.receive !== undefined;
    // a range's addresses share them too
    const own: Pick<LdResolvedReal, 'weight' | 'request' | 'receive' | 'lowerThreshold' | 'upperThreshold'> =
      {
        weight: r.weight !== undefined ? explicit(r.weight) : shared.weight,
        request: perReal ? explicit(r.request as string) : shared.request,
        receive: perReal ? explicit(r.receive as string) : shared.receive,
        lowerThreshold: r.lowerThreshold !== undefined ? explicit(r.lowerThreshold) : shared.threshold,
        upperThreshold: r.upperThreshold !== undefined ? explicit(r.upperThreshold) : shared.threshold,
      };
    for (const address of addrs) {
      // every field in one literal: one hidden class, no properties added later
      const rr: LdResolvedReal = {
        address,
        port: r.port ?? vportStr,
        forward: r.forward,
        weight: own.weight,
        request: own.request,
        receive: own.receive,
        lowerThreshold: own.lowerThreshold,
        upperThreshold: own.upperThreshold,
        line: r.line,
      };
      reals.push(rr);
    }
  }
  const id =
    a.kind === 'fwmark'
      ? `fwm${v.ipv6 ? '6' : ''}:${a.mark}`
      : `${protocolValue}:${a.host}:${ldPortNumber(a.port) ?? a.port}`;
  const orNull = <T>(x: LdResolved<T> | undefined): LdResolved<T | null> => x ?? dflt<T | null>(null);
  const out: LdResolvedVirtual = {
    id,
    ipv6: v.ipv6,
    address: a,
    protocol,
    service,
    scheduler: set(s.scheduler) ?? dflt('wrr'),
    checktype: set(s.checktype) ?? dflt<LdCheckType | number>('negotiate'),
    checkcommand: set(s.checkcommand) ?? dflt('/bin/true'),
    checkport: orNull(set(s.checkport)),
    request,
    receive,
    httpmethod: set(s.httpmethod) ?? dflt<'GET' | 'HEAD'>('GET'),
    virtualhost: orNull(set(s.virtualhost)),
    login,
    passwd,
    database: set(s.database) ?? dflt(''),
    secret: set(s.secret) ?? dflt(''),
    load: orNull(set(s.load)),
    persistent: orNull(set(s.persistent)),
    netmask: orNull(set(s.netmask)),
    schedflags: orNull(set(s.schedflags)),
    ops: set(s.ops) ?? dflt(false),
    checktimeout,
    negotiatetimeout,
    checkinterval,
    checkcount: set(s.checkcount) ?? inherit(global.checkcount),
    failurecount: set(s.failurecount) ?? inherit(global.failurecount),
    quiescent: set(s.quiescent) ?? inherit(global.quiescent),
    cleanstop: set(s.cleanstop) ?? inherit(global.cleanstop),
    fallback,
    fallbackcommand: set<string | null>(s.fallbackcommand) ?? inherit(global.fallbackcommand),
    emailalert: set<string | null>(s.emailalert) ?? inherit(global.emailalert),
    emailalertfreq: set(s.emailalertfreq) ?? inherit(global.emailalertfreq),
    emailalertstatus: set(s.emailalertstatus) ?? inherit(global.emailalertstatus),
    smtp: set<string | null>(s.smtp) ?? inherit(global.smtp),
    monitorfile: orNull(set(s.monitorfile)),
    servicename: orNull(set(s.servicename)),
    comment: orNull(set(s.comment)),
    reals,
  };
  if (v.line !== undefined) out.line = v.line;
  return out;
}
