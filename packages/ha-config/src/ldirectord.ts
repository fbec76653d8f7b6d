// ldirectord.cf as ldirectord 4.12 reads it (read_config in /usr/sbin/ldirectord).
// The rules that surprise people are kept on purpose and reported:
//  - a virtual section is the run of lines indented by a tab or >= 4 spaces
//    after `virtual=`; a blank line ENDS it, so an indented line after a blank
//    line is an error in ldirectord;
//  - inside a section ldirectord cuts every line at the first `#`, even inside
//    quotes, and keeps the blanks before it in the value; on global lines it
//    strips nothing, so `autoreload = yes # on` is rejected;
//  - yes/no values are compared exactly, trailing blanks included.
// The parser is pure: no DNS, no getservbyname, no files opened.
import {
  type ConfigError,
  type ConfigErrorCode,
  ConfigErrors,
  fileProblem,
  type ParseResult,
} from './errors.js';
import { suggest as closest, isIPv4, isIPv6, splitLines } from './source.js';

export type ForwardMethod = 'gate' | 'masq' | 'ipip';
export const FORWARD_METHODS: readonly ForwardMethod[] = ['gate', 'masq', 'ipip'];

export type LdCheckType = 'connect' | 'negotiate' | 'ping' | 'off' | 'on' | 'external' | 'external-perl';
export const CHECK_TYPES: readonly LdCheckType[] = [
  'connect',
  'negotiate',
  'ping',
  'off',
  'on',
  'external',
  'external-perl',
];

export type LdService =
  | 'dns'
  | 'ftp'
  | 'http'
  | 'https'
  | 'http_proxy'
  | 'imap'
  | 'imaps'
  | 'ldap'
  | 'ldaps'
  | 'nntp'
  | 'mysql'
  | 'none'
  | 'oracle'
  | 'pop'
  | 'pops'
  | 'radius'
  | 'pgsql'
  | 'sip'
  | 'smtp'
  | 'submission'
  | 'simpletcp';
export const SERVICES: readonly LdService[] = [
  'dns',
  'ftp',
  'http',
  'https',
  'http_proxy',
  'imap',
  'imaps',
  'ldap',
  'ldaps',
  'nntp',
  'mysql',
  'none',
  'oracle',
  'pop',
  'pops',
  'radius',
  'pgsql',
  'sip',
  'smtp',
  'submission',
  'simpletcp',
];

export type EmailAlertStatus = 'all' | 'none' | 'starting' | 'running' | 'stopping' | 'reloading';
const EMAIL_STATUSES: readonly EmailAlertStatus[] = [
  'all',
  'none',
  'starting',
  'running',
  'stopping',
  'reloading',
];

/** Schedulers shipped with the Linux kernel's IPVS. Others may be out-of-tree modules. */
export const KERNEL_SCHEDULERS: readonly string[] = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
];

/** Where a directive was read, and the comment lines kept with it. */
export interface LdNode {
  line?: number;
  column?: number;
  /** Comment and blank lines just above, verbatim, so the writer keeps them. */
  before?: string[];
  /** A comment at the end of the line (without the `#`). */
  comment?: string;
}

export interface LdSetting<T> extends LdNode {
  value: T;
}

/** `host[:port] [gate|masq|ipip]`; the port as written (number or service name). */
export interface LdFallback {
  host: string;
  port?: string;
  forward?: ForwardMethod;
}

export interface LdGlobalValues {
  checktimeout: number;
  negotiatetimeout: number;
  checkinterval: number;
  checkcount: number;
  failurecount: number;
  fallback: LdFallback;
  fallback6: LdFallback;
  fallbackcommand: string;
  autoreload: boolean;
  callback: string;
  logfile: string;
  fork: boolean;
  supervised: boolean;
  quiescent: boolean;
  readdquiescent: boolean;
  cleanstop: boolean;
  emailalert: string;
  emailalertfreq: number;
  emailalertstatus: EmailAlertStatus[];
  emailalertfrom: string;
  smtp: string;
  maintenancedir: string;
}
export type LdGlobalSettings = { [K in keyof LdGlobalValues]?: LdSetting<LdGlobalValues[K]> };

export interface LdVirtualValues {
  checktype: LdCheckType | number;
  service: LdService;
  checkcommand: string;
  checkport: number;
  request: string;
  receive: string;
  httpmethod: 'GET' | 'HEAD';
  virtualhost: string;
  login: string;
  passwd: string;
  database: string;
  secret: string;
  load: string;
  scheduler: string;
  persistent: number;
  schedflags: string;
  netmask: string;
  protocol: 'tcp' | 'udp' | 'fwm';
  ops: boolean;
  monitorfile: string;
  servicename: string;
  comment: string;
  checktimeout: number;
  negotiatetimeout: number;
  checkinterval: number;
  checkcount: number;
  failurecount: number;
  fallback: LdFallback;
  fallbackcommand: string;
  quiescent: boolean;
  emailalert: string;
  emailalertfreq: number;
  emailalertstatus: EmailAlertStatus[];
  cleanstop: boolean;
  smtp: string;
}
export type LdVirtualSettings = { [K in keyof LdVirtualValues]?: LdSetting<LdVirtualValues[K]> };

export type LdVirtualAddress =
  | { kind: 'address'; host: string; port: string }
  | { kind: 'fwmark'; mark: number };

export interface LdReal extends LdNode {
  /** Written as `real6`. */
  ipv6: boolean;
  host: string;
  /** End of an `A->B` range, as written. */
  rangeEnd?: string;
  /** As written; absent means the virtual service's port. */
  port?: string;
  forward: ForwardMethod;
  weight?: number;
  request?: string;
  receive?: string;
  lowerThreshold?: number;
  upperThreshold?: number;
  /** Every address the line stands for: an IPv4 range expanded; a hostname range cannot be (no DNS) and is empty. */
  addresses: string[];
}

export interface LdVirtual extends LdNode {
  /** Written as `virtual6`. */
  ipv6: boolean;
  address: LdVirtualAddress;
  reals: LdReal[];
  settings: LdVirtualSettings;
}

export interface LdirectordConfig {
  settings: LdGlobalSettings;
  /** `execute = FILE` may repeat: one more ldirectord instance per line. */
  execute: LdSetting<string>[];
  virtuals: LdVirtual[];
  /** Comment and blank lines after the last directive. */
  trailer: string[];
}

// ---------------------------------------------------------------------------
// Directive table

type Scope = 'global' | 'virtual' | 'both';
/**
 * How a global line's `#` is treated: ldirectord never strips it there.
 * 'strip': the value regex stops before it anyway (numbers); 'quoted': the
 * value is `"(.*)"` and what follows the last quote is ignored; 'error': a
 * `#` would end up in a value that cannot hold one; 'keep': it is part of the value.
 */
type GlobalHash = 'strip' | 'quoted' | 'error' | 'keep';

interface Ctx {
  line: number;
  /** 1-based column where the value starts in the original line. */
  col: number;
  inVirtual: boolean;
  virtual: LdVirtual | undefined;
  report(
    code: ConfigErrorCode,
    message: string,
    hint?: string,
    severity?: 'error' | 'warning',
    col?: number,
  ): void;
}

interface Spec {
  scope: Scope;
  /** Returns undefined when the value is unusable (already reported). */
  parse(v: string, c: Ctx, name: string): unknown;
  format(value: never): string;
  /** yes/no style: ldirectord compares the whole rest of the line, blanks included. */
  exact?: boolean;
  globalHash: GlobalHash;
}

const yesNo: Pick<Spec, 'parse' | 'format' | 'exact' | 'globalHash'> = {
  exact: true,
  globalHash: 'error',
  parse(v, c, name) {
    if (v === 'yes') return true;
    if (v === 'no') return false;
    const t = v.trim();
    if (t === 'yes' || t === 'no') {
      c.report(
        'BAD_VALUE',
        `${name} must be 'yes' or 'no' exactly; ldirectord sees ${JSON.stringify(v)}`,
        'remove the blanks (or the comment) after the value: ldirectord compares the whole rest of the line',
      );
      return t === 'yes';
    }
    if (t === '') c.report('MISSING_VALUE', `${name} needs a value: yes or no`);
    else
      c.report(
        'BAD_VALUE',
        `${name} must be 'yes' or 'no', not ${JSON.stringify(t)}`,
        suggest(t, ['yes', 'no']),
      );
    return undefined;
  },
  format: (b: boolean) => (b ? 'yes' : 'no'),
};

function intSpec(what: string, min: number, max: number, globalHash: GlobalHash = 'strip') {
  return {
    globalHash,
    parse(v: string, c: Ctx, name: string) {
      return intValue(v.trim(), c, name, what, min, max);
    },
    format: (n: number) => String(n),
  };
}

function intValue(
  v: string,
  c: Ctx,
  name: string,
  what: string,
  min: number,
  max: number,
): number | undefined {
  let digits = v;
  if (!/^\d+$/.test(v)) {
    const d = /\d+/.exec(v);
    if (!d) {
      if (v === '') c.report('MISSING_VALUE', `${name} needs ${what}`);
      else c.report('BAD_VALUE', `${name} must be ${what}, not ${JSON.stringify(v)}`);
      return undefined;
    }
    digits = d[0];
    c.report(
      'BAD_VALUE',
      `ldirectord reads only ${d[0]} from ${JSON.stringify(v)}`,
      `write ${name} = ${d[0]}`,
      'warning',
      c.col + d.index,
    );
  }
  const n = Number(digits);
  if (n < min || n > max) {
    c.report('OUT_OF_RANGE', `${name} ${digits} is out of range ${min}..${max}`);
    return undefined;
  }
  return n;
}

/** `"(.*)"` as ldirectord matches it: greedy, so the value ends at the LAST quote. */
function quotedValue(
  v: string,
  c: Ctx,
  name: string,
  required: boolean,
  allowEmpty = false,
): string | undefined {
  const m = /^"(.*)"/.exec(v);
  if (m) {
    const content = m[1] as string;
    const after = v.slice(m[0].length).trim();
    if (after !== '')
      c.report(
        'BAD_VALUE',
        `ldirectord ignores ${JSON.stringify(after)} after the closing quote`,
        undefined,
        'warning',
        c.col + m[0].length,
      );
    if (content === '' && !allowEmpty) {
      c.report('MISSING_VALUE', `${name} is empty`);
      return undefined;
    }
    return content;
  }
  const t = v.trim();
  if (!required) {
    if (t === '' && !allowEmpty) {
      c.report('MISSING_VALUE', `${name} needs a value`);
      return undefined;
    }
    return t;
  }
  if (t === '') {
    c.report('MISSING_VALUE', `${name} needs a value in double quotes`);
    return undefined;
  }
  const cut = c.inVirtual && t.startsWith('"');
  c.report(
    'BAD_VALUE',
    `${name} must be in double quotes`,
    cut
      ? 'ldirectord cuts lines inside a virtual section at the first #, even inside quotes'
      : `write ${name} = "${t.replace(/"/g, '')}"`,
  );
  return undefined;
}

const quoted = (allowEmpty = false) => ({
  globalHash: 'quoted' as GlobalHash,
  parse: (v: string, c: Ctx, name: string) => quotedValue(v, c, name, true, allowEmpty),
  format: (s: string) => `"${s}"`,
});
const optQuoted = {
  globalHash: 'keep' as GlobalHash,
  parse: (v: string, c: Ctx, name: string) => quotedValue(v, c, name, false),
  format: (s: string) => `"${s}"`,
};
const rawText = (allowEmpty: boolean) => ({
  globalHash: 'keep' as GlobalHash,
  parse(v: string, c: Ctx, name: string) {
    const t = v.trim();
    if (t === '' && !allowEmpty) {
      c.report('MISSING_VALUE', `${name} needs a value`);
      return undefined;
    }
    return t;
  },
  format: (s: string) => s,
});

const emailStatus = {
  globalHash: 'error' as GlobalHash,
  parse(v: string, c: Ctx, name: string) {
    const items = v.trim().split(/\s*,\s*/);
    const out: EmailAlertStatus[] = [];
    let ok = true;
    for (const i of items) {
      if (!(EMAIL_STATUSES as readonly string[]).includes(i)) {
        c.report(
          i === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
          `invalid ${name} ${JSON.stringify(i)}`,
          suggest(i, EMAIL_STATUSES) ?? `one or more of ${EMAIL_STATUSES.join(', ')}, separated by commas`,
        );
        ok = false;
      } else out.push(i as EmailAlertStatus);
    }
    if (out.includes('none') && out.length > 1) {
      c.report('BAD_VALUE', `${name} "none" cannot be combined with other statuses`);
      ok = false;
    }
    return ok ? out : undefined;
  },
  format: (a: EmailAlertStatus[]) => a.join(','),
};

const fallbackSpec = {
  globalHash: 'error' as GlobalHash,
  parse(v: string, c: Ctx, name: string): LdFallback | undefined {
    const tokens = v.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0) {
      c.report('MISSING_VALUE', `${name} needs a server: host[:port] [gate|masq|ipip]`);
      return undefined;
    }
    if (tokens.length > 2) {
      c.report(
        'BAD_VALUE',
        `${name} takes host[:port] and a forwarding method, got ${JSON.stringify(v.trim())}`,
      );
      return undefined;
    }
    const hp = /^(.*?)(?::([0-9A-Za-z_-]+))?$/.exec(tokens[0] as string) as RegExpExecArray;
    const host = hp[1] as string;
    const ipv6 = name === 'fallback6' || (c.virtual?.ipv6 ?? false);
    if (!checkHost(host, ipv6, c, name)) return undefined;
    const out: LdFallback = { host };
    if (hp[2] !== undefined) {
      if (!checkPort(hp[2], c, name)) return undefined;
      out.port = hp[2];
    }
    const fwd = tokens[1];
    if (fwd !== undefined) {
      if (!(FORWARD_METHODS as readonly string[]).includes(fwd)) {
        c.report(
          'BAD_VALUE',
          `forward method must be gate, masq or ipip, not ${JSON.stringify(fwd)}`,
          suggest(fwd, FORWARD_METHODS),
        );
        return undefined;
      }
      out.forward = fwd as ForwardMethod;
    }
    return out;
  },
  format: (f: LdFallback) =>
    `${f.host}${f.port !== undefined ? `:${f.port}` : ''}${f.forward ? ` ${f.forward}` : ''}`,
};

const smtpSpec = {
  globalHash: 'strip' as GlobalHash,
  parse(v: string, c: Ctx, name: string) {
    const t = v.trim();
    const m = /^[0-9A-Za-z._+-]+/.exec(t);
    if (!m) {
      c.report(
        t === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
        `invalid ${name} server address ${JSON.stringify(t)}`,
      );
      return undefined;
    }
    if (m[0] !== t)
      c.report(
        'BAD_VALUE',
        `ldirectord reads only ${JSON.stringify(m[0])} from ${JSON.stringify(t)}`,
        undefined,
        'warning',
      );
    return m[0];
  },
  format: (s: string) => s,
};

/** ldirectord keeps the first match of its pattern and drops the rest of the value: warn when there is a rest. */
function readsOnly(c: Ctx, name: string, got: string, from: string): void {
  if (got !== from)
    c.report(
      'BAD_VALUE',
      `ldirectord reads ${name} ${got} from ${JSON.stringify(from)}`,
      undefined,
      'warning',
    );
}

const SPECS: Record<string, Spec> = {
  // Both global and per virtual.
  checktimeout: { scope: 'both', ...intSpec('a number of seconds > 0', 1, 2 ** 31 - 1) },
  negotiatetimeout: { scope: 'both', ...intSpec('a number of seconds > 0', 1, 2 ** 31 - 1) },
  checkinterval: { scope: 'both', ...intSpec('a number of seconds > 0', 1, 2 ** 31 - 1) },
  checkcount: { scope: 'both', ...intSpec('a count > 0', 1, 2 ** 31 - 1) },
  failurecount: { scope: 'both', ...intSpec('a count > 0', 1, 2 ** 31 - 1) },
  fallback: { scope: 'both', ...fallbackSpec },
  fallback6: { scope: 'both', ...fallbackSpec },
  fallbackcommand: { scope: 'both', ...optQuoted },
  quiescent: { scope: 'both', ...yesNo },
  cleanstop: { scope: 'both', ...yesNo },
  emailalert: {
    scope: 'both',
    // ldirectord takes the whole rest of the line, blanks and all, and strips
    // the quotes only when they enclose all of it (read_emailalert).
    exact: true,
    globalHash: 'error',
    parse(v, c, name) {
      const m = /^"([^"]*)"$/.exec(v);
      const addr = m ? (m[1] as string) : v;
      if (addr === '') {
        c.report('MISSING_VALUE', `no ${name} address specified`);
        return undefined;
      }
      if (!m && /\s$/.test(addr))
        c.report(
          'BAD_VALUE',
          `ldirectord keeps the blanks after the ${name} address ${JSON.stringify(addr)}`,
          'remove them',
          'warning',
        );
      return addr;
    },
    // Quotes keep leading blanks, which `=\s*` would otherwise eat.
    format: (s: string) => (/^\s/.test(s) && !s.includes('"') ? `"${s}"` : s),
  },
  emailalertfreq: { scope: 'both', ...intSpec('a number of seconds (0 = once)', 0, 2 ** 31 - 1) },
  emailalertstatus: { scope: 'both', ...emailStatus },
  smtp: { scope: 'both', ...smtpSpec },
  // Global only.
  autoreload: { scope: 'global', ...yesNo },
  callback: { scope: 'global', ...quoted(true) },
  logfile: { scope: 'global', ...quoted() },
  fork: { scope: 'global', ...yesNo },
  supervised: { scope: 'global', ...yesNo },
  readdquiescent: { scope: 'global', ...yesNo },
  emailalertfrom: { scope: 'global', ...rawText(false) },
  maintenancedir: { scope: 'global', ...rawText(false) },
  execute: { scope: 'global', ...rawText(true) },
  // Per virtual only.
  real: { scope: 'virtual', globalHash: 'keep', parse: () => undefined, format: () => '' },
  real6: { scope: 'virtual', globalHash: 'keep', parse: () => undefined, format: () => '' },
  checktype: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const t = v.trim();
      const d = /\d+/.exec(t);
      if (d) {
        readsOnly(c, name, d[0], t);
        // Negotiate, then N connect checks (ldirectord); beyond 2^31-1 the number no longer survives a round trip.
        return intValue(d[0], c, name, 'a number of checks', 0, 2 ** 31 - 1);
      }
      const w = /[\w-]+/.exec(t);
      if (w && (CHECK_TYPES as readonly string[]).includes(w[0])) {
        readsOnly(c, name, w[0], t);
        return w[0];
      }
      c.report(
        t === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
        `${name} must be connect, negotiate, on, off, ping, external, external-perl or a number, not ${JSON.stringify(t)}`,
        suggest(t, CHECK_TYPES),
      );
      return undefined;
    },
    format: (x: string | number) => String(x),
  },
  service: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const t = v.trim();
      const w = /\w+/.exec(t);
      if (w && (SERVICES as readonly string[]).includes(w[0])) {
        readsOnly(c, name, w[0], t);
        return w[0];
      }
      c.report(
        t === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
        `${name} must be one of ${SERVICES.join(', ')}; not ${JSON.stringify(t)}`,
        suggest(t, SERVICES),
      );
      return undefined;
    },
    format: (s: string) => s,
  },
  checkcommand: { scope: 'virtual', ...optQuoted },
  checkport: {
    scope: 'virtual',
    globalHash: 'keep',
    parse: (v, c, name) => intValue(v.trim(), c, name, 'a port number', 1, 65535),
    format: (n: number) => String(n),
  },
  request: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const s = quotedValue(v, c, name, true);
      // ldirectord makes every request an absolute path.
      return s === undefined ? undefined : s.startsWith('/') ? s : `/${s}`;
    },
    format: (s: string) => `"${s}"`,
  },
  receive: { scope: 'virtual', ...quoted() },
  httpmethod: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const w = /\w+/.exec(v);
      const m = w ? w[0].toUpperCase() : '';
      if (m === 'GET' || m === 'HEAD') return m;
      c.report(
        w ? 'BAD_VALUE' : 'MISSING_VALUE',
        `${name} must be GET or HEAD, not ${JSON.stringify(v.trim())}`,
      );
      return undefined;
    },
    format: (s: string) => s,
  },
  virtualhost: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const m = /^"?([^"]*)"?/.exec(v.trim()) as RegExpExecArray;
      const s = (m[1] as string).trim();
      if (s === '') {
        c.report('MISSING_VALUE', `${name} needs a host name`);
        return undefined;
      }
      return s;
    },
    format: (s: string) => `"${s}"`,
  },
  login: { scope: 'virtual', ...quoted() },
  passwd: { scope: 'virtual', ...quoted() },
  database: { scope: 'virtual', ...quoted() },
  secret: { scope: 'virtual', ...quoted() },
  load: { scope: 'virtual', ...quoted() },
  scheduler: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const t = v.trim();
      if (!/^[a-z]+$/.test(t)) {
        const m = /[a-z]+/.exec(t);
        if (!m) {
          c.report(
            t === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
            `invalid ${name} ${JSON.stringify(t)}: only lowercase letters (a-z)`,
            suggest(t.toLowerCase(), KERNEL_SCHEDULERS),
          );
          return undefined;
        }
        readsOnly(c, name, m[0], t);
        return m[0];
      }
      if (!KERNEL_SCHEDULERS.includes(t))
        c.report(
          'BAD_VALUE',
          `${name} ${t} is not one the kernel ships (${KERNEL_SCHEDULERS.join(' ')})`,
          suggest(t, KERNEL_SCHEDULERS) ?? 'fine if you load your own ip_vs_' + t + ' module',
          'warning',
        );
      return t;
    },
    format: (s: string) => s,
  },
  persistent: {
    scope: 'virtual',
    globalHash: 'keep',
    parse: (v, c, name) => intValue(v.trim(), c, name, 'a timeout in seconds', 0, 2 ** 31 - 1),
    format: (n: number) => String(n),
  },
  schedflags: { scope: 'virtual', ...rawText(false), format: (s: string) => s },
  netmask: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const t = v.trim();
      if (c.virtual?.ipv6) {
        if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 128) {
          c.report(
            'BAD_VALUE',
            `invalid ${name} ${JSON.stringify(t)}: a prefix length between 1 and 128 is required`,
          );
          return undefined;
        }
        return t;
      }
      if (!isIPv4(t)) {
        c.report(
          'BAD_VALUE',
          `invalid ${name} ${JSON.stringify(t)}: dotted quad notation is required`,
          'e.g. 255.255.255.0',
        );
        return undefined;
      }
      return t;
    },
    format: (s: string) => s,
  },
  protocol: {
    scope: 'virtual',
    globalHash: 'keep',
    parse(v, c, name) {
      const w = /\w+/.exec(v);
      if (!w) {
        c.report('MISSING_VALUE', `${name} needs tcp, udp or fwm`);
        return undefined;
      }
      const p = w[0];
      const fwm = c.virtual?.address.kind === 'fwmark';
      if (fwm ? p !== 'fwm' : p !== 'tcp' && p !== 'udp') {
        c.report(
          'BAD_VALUE',
          fwm
            ? `${name} must be fwm when the virtual service is a firewall mark`
            : `${name} must be tcp or udp when the virtual service is an address and port`,
          suggest(p, fwm ? ['fwm'] : ['tcp', 'udp']),
        );
        return undefined;
      }
      return p;
    },
    format: (s: string) => s,
  },
  ops: { scope: 'virtual', ...yesNo },
  monitorfile: { scope: 'virtual', ...optQuoted },
  servicename: { scope: 'virtual', ...rawText(true) },
  comment: { scope: 'virtual', ...rawText(true) },
};

/** Every directive name ldirectord 4.12 accepts, and where. */
export const LDIRECTORD_DIRECTIVES: Readonly<Record<string, Scope>> = Object.fromEntries(
  Object.entries(SPECS).map(([k, s]) => [k, s.scope]),
);
const DEPRECATED: Record<string, string> = {
  connecttimeout: 'connecttimeout was replaced by negotiatetimeout',
  timeout: 'timeout was replaced by checktimeout and negotiatetimeout',
};
const ALL_NAMES = [...Object.keys(SPECS), 'virtual', 'virtual6'];

/** @internal the writer formats values through the same table. */
export function formatLdValue(name: string, value: unknown): string {
  const spec = SPECS[name];
  if (!spec) throw new Error(`unknown ldirectord directive ${name}`);
  return (spec.format as (v: unknown) => string)(value);
}
/** @internal */
export function isExactLdDirective(name: string): boolean {
  return SPECS[name]?.exact === true;
}
/** @internal */
export function ldGlobalHash(name: string): GlobalHash {
  return SPECS[name]?.globalHash ?? 'keep';
}

// ---------------------------------------------------------------------------
// Helpers

/** A valid dotted quad as a number. */
function ipToInt(s: string): number {
  let n = 0;
  let octet = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      n = n * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return n * 256 + octet;
}
function intToIp(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const HOSTNAME = /^[A-Za-z0-9.-]+$/;

function checkHost(host: string, ipv6: boolean, c: Ctx, name: string): boolean {
  if (host === '') {
    c.report('MISSING_VALUE', `${name} needs an address`);
    return false;
  }
  const b = /^\[(.*)\]$/.exec(host);
  if (b) {
    if (!ipv6) {
      c.report('BAD_VALUE', `${name}: an IPv6 address needs the IPv6 directive`, `use ${name}6 / virtual6`);
      return false;
    }
    if (!isIPv6(b[1] as string)) {
      c.report('BAD_VALUE', `${name}: invalid IPv6 address ${JSON.stringify(b[1])}`);
      return false;
    }
    return true;
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    if (!isIPv4(host)) {
      c.report(
        'BAD_VALUE',
        `${name}: invalid IPv4 address ${host}`,
        /(^|\.)0\d/.test(host)
          ? 'drop the leading zeros: inet_aton reads 010 as octal (8)'
          : 'each of the four numbers is 0..255',
      );
      return false;
    }
    if (ipv6) {
      c.report(
        'BAD_VALUE',
        `${name}: IPv4 address ${host} in an IPv6 service`,
        'write IPv6 addresses as [2001:db8::1]',
      );
      return false;
    }
    return true;
  }
  if (!HOSTNAME.test(host)) {
    c.report('BAD_VALUE', `${name}: invalid address or host name ${JSON.stringify(host)}`);
    return false;
  }
  return true;
}

/** Well-known service names (as /etc/services spells them) ldirectord configs use. */
export const SERVICE_PORTS: Readonly<Record<string, number>> = {
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  www: 80,
  pop3: 110,
  nntp: 119,
  ntp: 123,
  imap2: 143,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pop3s: 995,
  'ms-sql-s': 1433,
  oracle: 1521,
  radius: 1812,
  'radius-acct': 1813,
  nfs: 2049,
  'http-alt': 8080,
  squid: 3128,
  mysql: 3306,
  sip: 5060,
  'sip-tls': 5061,
  postgresql: 5432,
  x11: 6000,
  memcache: 11211,
};

/** A port as written → its number, or undefined for an unknown service name. */
export function ldPortNumber(port: string): number | undefined {
  if (/^\d+$/.test(port)) return Number(port);
  return SERVICE_PORTS[port];
}

function checkPort(port: string, c: Ctx, name: string, min = 0): boolean {
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    if (n < min || n > 65535) {
      c.report('OUT_OF_RANGE', `${name}: port ${port} is out of range ${min}..65535`);
      return false;
    }
    return true;
  }
  if (SERVICE_PORTS[port] === undefined)
    c.report(
      'BAD_VALUE',
      `${name}: service name ${JSON.stringify(port)} is not a well-known one`,
      'ldirectord resolves it with getservbyname (/etc/services) on the director; a number is safer',
      'warning',
    );
  return true;
}

/** A "did you mean …?" hint, or undefined when no known word is close. */
function suggest(word: string, options: readonly string[]): string | undefined {
  const best = closest(word, options);
  return best === undefined ? undefined : `did you mean ${best}?`;
}

/** Width of leading blanks as ldirectord sees them: every tab becomes 4 spaces. */
function indentWidth(s: string): { width: number; end: number } {
  let w = 0;
  let i = 0;
  for (; i < s.length; i++) {
    if (s[i] === ' ') w++;
    else if (s[i] === '\t') w += 4;
    else break;
  }
  return { width: w, end: i };
}

// ---------------------------------------------------------------------------
// Parser

export interface ParseLdirectordOptions {
  file?: string;
}

const MAX_RANGE = 65536;
const ADDR = '(\\d+\\.\\d+\\.\\d+\\.\\d+|\\[[0-9A-Fa-f:]+\\]|[A-Za-z0-9.-]+)';
/** ADDRESS[->ADDRESS][:PORT] of a real server line (compiled once: it ran per line). */
const REAL_ADDRESS = new RegExp(`^${ADDR}(?:->${ADDR})?(?::(\\d+|[A-Za-z0-9_-]+))?$`);

export function parseLdirectordCf(
  text: string,
  options: ParseLdirectordOptions = {},
): ParseResult<LdirectordConfig> {
  const file = options.file ?? 'ldirectord.cf';
  const problems: ConfigError[] = [];
  const config: LdirectordConfig = { settings: {}, execute: [], virtuals: [], trailer: [] };
  // An empty file has no lines (not one empty line).
  const lines = text === '' ? [] : splitLines(text);
  if (/\r\n/.test(text))
    problems.push(
      fileProblem({
        code: 'SYNTAX',
        file,
        line: 1,
        column: 1,
        severity: 'warning',
        message:
          'file has CRLF line endings; ldirectord 4.12 keeps the carriage return in values, so yes/no settings fail there',
        hint: 'convert with dos2unix',
      }),
    );

  let pending: string[] = [];
  let current: LdVirtual | undefined;
  /** Line number of the blank line that ended the last virtual section. */
  /** Where and why the last virtual section ended, while no global line followed. */
  let sectionEnd: { line: number; blank: boolean } | undefined;
  /** True while lines still belong to the open virtual section. */
  let inSection = false;
  const seenGlobal = new Map<string, number>();
  const seenVirtual = new Map<string, number>();
  let seenInVirtual = new Map<string, number>();
  let realKeys = new Map<string | number, number>();

  const mkReport =
    (line: number, defaultCol: number) =>
    (
      code: ConfigErrorCode,
      message: string,
      hint?: string,
      severity: 'error' | 'warning' = 'error',
      col?: number,
    ) => {
      const init = { code, file, line, column: col ?? defaultCol, message, severity };
      problems.push(fileProblem(hint === undefined ? init : { ...init, hint }));
    };

  const takeBefore = (): string[] | undefined => {
    if (pending.length === 0) return undefined;
    const b = pending;
    pending = [];
    return b;
  };

  function startVirtual(ipv6: boolean, value: string, line: number, col: number, lineText: string): void {
    const report = mkReport(line, col);
    const c: Ctx = { line, col, inVirtual: false, virtual: undefined, report };
    const name = ipv6 ? 'virtual6' : 'virtual';
    let address: LdVirtualAddress | undefined;
    let rest = '';
    // Global lines are not cut at `#`; ldirectord ignores what follows the address anyway.
    const hashAt = value.search(/\s#/);
    const comment = hashAt >= 0 ? value.slice(hashAt).replace(/^\s*#/, '') : undefined;
    const v = hashAt >= 0 ? value.slice(0, hashAt) : value;
    // ldirectord tries IPv4:port before host:port; both give the same host and port.
    const mh = /^([0-9A-Za-z._+-]+):([0-9A-Za-z_-]+)/.exec(v);
    const mf = /^(\d+)/.exec(v);
    const m6 = /^\[([0-9A-Fa-f:]+)\]:([0-9A-Za-z_-]+)/.exec(v);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(v.trim()) || /^\[[0-9A-Fa-f:.]+\]$/.test(v.trim())) {
      report(
        'MISSING_VALUE',
        `${name} ${v.trim()} has no port; ldirectord would read it as firewall mark ${/^\d+/.exec(v.trim())?.[0] ?? '(none)'}`,
        `write ${v.trim()}:80 (address:port), or a firewall mark number`,
      );
    } else if (mh) {
      const m = mh;
      if (checkHost(m[1] as string, ipv6, c, name) && checkPort(m[2] as string, c, name))
        address = { kind: 'address', host: m[1] as string, port: m[2] as string };
      rest = v.slice(m[0].length);
    } else if (mf) {
      const m = mf;
      const mark = Number(m[1]);
      if (mark < 1 || mark > 0xffffffff)
        report('OUT_OF_RANGE', `firewall mark ${m[1]} is out of range 1..4294967295`);
      else address = { kind: 'fwmark', mark };
      rest = v.slice(m[0].length);
    } else if (m6) {
      const m = m6;
      if (!ipv6) report('BAD_VALUE', 'cannot use an IPv6 address in virtual', 'use virtual6 instead');
      else if (!isIPv6(m[1] as string))
        report('BAD_VALUE', `invalid IPv6 address ${m[1]} for virtual server`);
      else if (checkPort(m[2] as string, c, name))
        address = { kind: 'address', host: `[${m[1]}]`, port: m[2] as string };
      rest = v.slice(m[0].length);
    } else {
      report(
        v.trim() === '' ? 'MISSING_VALUE' : 'BAD_VALUE',
        `invalid address for virtual server ${JSON.stringify(v.trim())}`,
        ipv6
          ? 'write [IPv6]:PORT, HOST:SERVICE or a firewall mark'
          : 'write ADDRESS:PORT, HOST:SERVICE or a firewall mark',
      );
    }
    if (rest.trim() !== '')
      report(
        'BAD_VALUE',
        `ldirectord ignores ${JSON.stringify(rest.trim())} after the address`,
        undefined,
        'warning',
      );
    const virt: LdVirtual = {
      ipv6,
      address: address ?? { kind: 'address', host: '', port: '0' },
      reals: [],
      settings: {},
      line,
      column: 1,
    };
    const before = takeBefore();
    if (before) virt.before = before;
    if (comment !== undefined) virt.comment = comment;
    void lineText;
    config.virtuals.push(virt);
    current = virt;
    seenInVirtual = new Map();
    realKeys = new Map();
  }

  function parseReal(virt: LdVirtual, ipv6: boolean, v: string, c: Ctx, name: string): LdReal | undefined {
    const report = c.report;
    const m = /^(\S+)(\s+(.*))?$/.exec(v.trim());
    if (!m) {
      report('MISSING_VALUE', `${name} needs ADDRESS[:PORT] gate|masq|ipip [weight]`);
      return;
    }
    const lead = v.length - v.trimStart().length;
    const spec = m[1] as string;
    const am = REAL_ADDRESS.exec(spec);
    if (!am) {
      report(
        'BAD_VALUE',
        `invalid address for real server ${JSON.stringify(spec)}`,
        'write ADDRESS[->ADDRESS][:PORT]',
      );
      return;
    }
    const host = am[1] as string;
    const end = am[2];
    const port = am[3];
    if (!checkHost(host, ipv6, c, name)) return;
    if (end !== undefined && !checkHost(end, ipv6, c, name)) return;
    if (port !== undefined && !checkPort(port, c, name)) return;
    let flags = m[3];
    if (flags === undefined || flags === '') {
      report(
        'MISSING_VALUE',
        `${name} needs a forwarding method: gate, masq or ipip`,
        `e.g. ${name} = ${spec} gate`,
      );
      return;
    }
    let off = c.col + lead + (m[0].length - flags.length);
    const fm = /^(\w+)/.exec(flags) as RegExpExecArray | null;
    if (!fm || !(FORWARD_METHODS as readonly string[]).includes(fm[1] as string)) {
      const w = fm?.[1] ?? flags.split(/\s/)[0] ?? '';
      report(
        'BAD_VALUE',
        `forward method must be gate, masq or ipip, not ${JSON.stringify(w)}`,
        suggest(w, FORWARD_METHODS) ?? `e.g. ${name} = ${spec} gate`,
        'error',
        off,
      );
      return;
    }
    const real: LdReal = { ipv6, host, forward: fm[1] as ForwardMethod, addresses: [] };
    if (end !== undefined) real.rangeEnd = end;
    if (port !== undefined) real.port = port;
    flags = flags.slice(fm[0].length);
    off += fm[0].length;
    const step = (re: RegExp): RegExpExecArray | null => {
      const r = re.exec(flags as string);
      if (r) {
        const tail = r[r.length - 1] as string;
        off += (flags as string).length - tail.length;
        flags = tail;
      }
      return r;
    };
    let r = step(/^\s+(\d+)(.*)$/);
    if (r) {
      const w = Number(r[1]);
      if (w > 65535) {
        report('OUT_OF_RANGE', `real server weight ${r[1]} is out of range 0..65535`, undefined, 'error');
        return;
      }
      real.weight = w;
    }
    r = step(/^\s+"(.*)"[, ]\s*"(.*)"(.*)$/);
    if (r) {
      const req = r[1] as string;
      real.request = req.startsWith('/') ? req : `/${req}`;
      real.receive = r[2] as string;
    }
    r = step(/^\s+l:(\d+)(.*)$/);
    if (r) real.lowerThreshold = Number(r[1]);
    r = step(/^\s+u:(\d+)(.*)$/);
    if (r) real.upperThreshold = Number(r[1]);
    for (const t of [real.lowerThreshold, real.upperThreshold])
      if (t !== undefined && t > 2 ** 31 - 1) {
        report('OUT_OF_RANGE', `connection threshold ${t} is out of range 0..2147483647`);
        return;
      }
    if (flags.trim() !== '') {
      const junk = flags.trim();
      const col = off + (flags.length - flags.trimStart().length);
      let hint = `the form is: ${name} = ADDRESS[:PORT] gate|masq|ipip [WEIGHT] ["REQUEST", "RECEIVE"] [l:N] [u:N]`;
      if (/^l:\d+/.test(junk) && real.upperThreshold !== undefined)
        hint = 'put l:N before u:N; ldirectord drops a u: that comes first';
      else if (/^["<]*[lu]:/.test(junk) || /<[lu]:/.test(junk))
        hint =
          'write thresholds bare as l:N u:N (ldirectord 4.12 matches blank then l:N, despite the manual\'s "<l:N>")';
      else if (junk.startsWith('"')) hint = 'request and receive come as a pair: "REQUEST", "RECEIVE"';
      report('BAD_VALUE', `invalid real server line around ${JSON.stringify(junk)}`, hint, 'error', col);
      return;
    }
    if (
      real.lowerThreshold !== undefined &&
      real.upperThreshold !== undefined &&
      real.upperThreshold > 0 &&
      real.lowerThreshold > real.upperThreshold
    )
      report(
        'BAD_VALUE',
        `lower threshold ${real.lowerThreshold} is above upper threshold ${real.upperThreshold}`,
        undefined,
        'warning',
      );
    // Addresses the line stands for; the first IPv4 one also as a number, for the duplicate check.
    let first4: number | undefined;
    if (end === undefined) {
      real.addresses = [host];
      if (!ipv6 && isIPv4(host)) first4 = ipToInt(host);
    } else if (ipv6) {
      report('BAD_VALUE', 'address ranges are not supported for IPv6 real servers (ldirectord 4.12)');
      return;
    } else if (isIPv4(host) && isIPv4(end)) {
      const a = ipToInt(host);
      const b = ipToInt(end);
      if (a > b) {
        report('BAD_VALUE', `invalid range ${host}->${end}: the first address must not be above the last`);
        return;
      }
      if (b - a + 1 > MAX_RANGE) {
        report(
          'OUT_OF_RANGE',
          `range ${host}->${end} has ${b - a + 1} addresses; at most ${MAX_RANGE} are expanded`,
        );
        return;
      }
      for (let i = a; i <= b; i++) real.addresses.push(intToIp(i));
      first4 = a;
    } else {
      report(
        'BAD_VALUE',
        `range ${host}->${end} uses host names; it is expanded only after DNS lookup`,
        undefined,
        'warning',
      );
    }
    const vport = virt.address.kind === 'address' ? virt.address.port : '0';
    const rp = port ?? vport;
    const rpn = ldPortNumber(rp) ?? rp;
    // Numeric keys for IPv4 address + numeric port: a large range costs no string per address.
    const numeric = first4 !== undefined && typeof rpn === 'number';
    for (let i = 0; i < real.addresses.length; i++) {
      const a = real.addresses[i] as string;
      const key = numeric ? ((first4 as number) + i) * 65536 + (rpn as number) : `${a}:${rpn}`;
      const first = realKeys.get(key);
      if (first !== undefined) {
        report(
          'DUPLICATE',
          `real server ${a}:${rpn} is listed twice in this virtual service`,
          `first at line ${first}`,
        );
        return;
      }
      realKeys.set(key, c.line);
    }
    return real;
  }

  let nodeExtras: Pick<LdNode, 'before' | 'comment'> = {};

  function directive(
    name: string,
    rawValue: string,
    line: number,
    nameCol: number,
    valueCol: number,
    inVirtual: boolean,
    comment: string | undefined,
  ): void {
    const report = mkReport(line, valueCol);
    const nameReport = mkReport(line, nameCol);
    const virt = inVirtual ? current : undefined;
    const dep = DEPRECATED[name];
    if (dep && (name !== 'timeout' || !inVirtual)) {
      nameReport('DEPRECATED', `${name} is no longer accepted by ldirectord`, dep);
      return;
    }
    const spec = SPECS[name];
    if (!spec) {
      const s = suggest(name, ALL_NAMES);
      nameReport('UNKNOWN_DIRECTIVE', `unknown directive ${JSON.stringify(name)}`, s);
      return;
    }
    if (inVirtual && spec.scope === 'global') {
      nameReport(
        'WRONG_SECTION',
        `${name} is a global directive and cannot appear inside a virtual section`,
        'move it to the top of the file, unindented',
      );
      return;
    }
    if (!inVirtual && spec.scope === 'virtual') {
      nameReport(
        'WRONG_SECTION',
        `${name} belongs inside a virtual section`,
        current
          ? `indent it with a tab under the virtual at line ${current.line}`
          : 'put it under a virtual = line, indented',
      );
      return;
    }
    let value = rawValue;
    let kept = comment;
    if (!inVirtual) {
      const mode = spec.globalHash;
      const h = value.indexOf('#');
      if (h >= 0 && mode === 'strip') {
        kept = value.slice(h + 1);
        value = value.slice(0, h);
      } else if (h >= 0 && mode === 'error') {
        report(
          'BAD_VALUE',
          `ldirectord does not strip comments on global lines; it reads ${JSON.stringify(value)} as the value of ${name}`,
          'put the comment on its own line',
          'error',
          valueCol + h,
        );
        kept = value.slice(h + 1);
        value = value.slice(0, h).trimEnd();
      } else if (h >= 0 && mode === 'quoted' && /^".*"\s*#[^"]*$/s.test(value.trim())) {
        const q = /^(".*")\s*#([^"]*)$/s.exec(value.trim()) as RegExpExecArray;
        value = q[1] as string;
        kept = q[2] as string;
      } else if (h >= 0 && /\s#/.test(value))
        report(
          'BAD_VALUE',
          `the "#..." is part of the value: ldirectord does not strip comments on global lines`,
          'put the comment on its own line',
          'warning',
          valueCol + h,
        );
    }
    nodeExtras = {};
    const before = takeBefore();
    if (before) nodeExtras.before = before;
    if (kept !== undefined) nodeExtras.comment = kept;
    const c: Ctx = { line, col: valueCol, inVirtual, virtual: virt, report };
    if (virt && (name === 'real' || name === 'real6' || name === 'fallback' || name === 'fallback6')) {
      const six = name.endsWith('6');
      if (six !== virt.ipv6) {
        const base = name.replace('6', '');
        nameReport(
          'WRONG_SECTION',
          `cannot use ${name} in a ${virt.ipv6 ? 'virtual6' : 'virtual'} section`,
          `use ${virt.ipv6 ? `${base}6` : base} instead`,
        );
        return;
      }
      if (name.startsWith('real')) {
        const real = parseReal(virt, six, value, c, name);
        if (real) virt.reals.push(Object.assign(real, { line, column: nameCol, ...nodeExtras }));
        return;
      }
    }
    const parsed = spec.parse(value, c, name);
    if (parsed === undefined) return;
    const setting: LdSetting<unknown> = { value: parsed, line, column: nameCol, ...nodeExtras };
    if (!inVirtual && name === 'execute') {
      config.execute.push(setting as LdSetting<string>);
      return;
    }
    const key = name === 'fallback6' && virt ? 'fallback' : name;
    const seen = virt ? seenInVirtual : seenGlobal;
    const first = seen.get(key);
    if (first !== undefined)
      nameReport(
        'DUPLICATE',
        `${name} is set again; ldirectord keeps this last value`,
        `first set at line ${first}`,
        'warning',
      );
    seen.set(key, line);
    if (virt) (virt.settings as Record<string, unknown>)[key] = setting;
    else (config.settings as Record<string, unknown>)[key] = setting;
  }

  for (let idx = 0; idx < lines.length; idx++) {
    const { line, text: lineText } = lines[idx] as { line: number; text: string };
    // Inside a virtual section.
    if (inSection) {
      if (/^\s*#/.test(lineText)) {
        pending.push(lineText);
        continue;
      }
      const hash = lineText.indexOf('#');
      const body = hash >= 0 ? lineText.slice(0, hash) : lineText;
      const comment = hash >= 0 ? lineText.slice(hash + 1) : undefined;
      const ind = indentWidth(body);
      if (ind.width >= 4 && ind.width + (body.length - ind.end) > 4) {
        const rest = body.slice(ind.end).replace(/\t/g, '    ');
        if (rest.trim() === '') {
          mkReport(line, 1)(
            'SYNTAX',
            'a line of blanks inside a virtual section',
            'ldirectord reads it as an unknown command; delete the blanks',
          );
          continue;
        }
        virtualLine(rest, line, ind.end + 1, comment);
        continue;
      }
      // Anything else ends the section; read the line again at the top level.
      inSection = false;
      sectionEnd = { line, blank: /^\s*$/.test(lineText) };
    }
    if (/^\s*$/.test(lineText)) {
      pending.push(lineText);
      continue;
    }
    if (/^\s*#/.test(lineText)) {
      pending.push(lineText);
      continue;
    }
    const vm = /^virtual(6)?(\s*)=(\s*)(.*)$/.exec(lineText);
    if (vm) {
      sectionEnd = undefined;
      const valueCol =
        'virtual'.length + (vm[1] ? 1 : 0) + (vm[2] as string).length + 1 + (vm[3] as string).length + 1;
      startVirtual(vm[1] !== undefined, vm[4] as string, line, valueCol, lineText);
      inSection = true;
      continue;
    }
    const ind = indentWidth(lineText);
    if (ind.end > 0) {
      // An indented line with no virtual section open: ldirectord rejects it.
      const last = config.virtuals[config.virtuals.length - 1];
      const end = current ? sectionEnd : undefined;
      const hint = !end
        ? 'global directives start at column 1; virtual directives follow a virtual = line'
        : end.blank
          ? `the blank line at line ${end.line} ended the virtual section of line ${last?.line}; delete it`
          : end.line === line
            ? 'indent virtual directives with a tab or at least 4 spaces'
            : `the virtual section of line ${last?.line} ended at line ${end.line}, indented by fewer than 4 columns`;
      mkReport(line, ind.end + 1)('SYNTAX', 'indented line outside a virtual section', hint);
      // Best effort: read it where it was probably meant to go.
      const hash = lineText.indexOf('#');
      const body = hash >= 0 ? lineText.slice(0, hash) : lineText;
      if (last && !/^(virtual6?)\s*=/.test(body.slice(ind.end))) {
        const saved = current;
        current = last;
        virtualLine(
          body.slice(ind.end).replace(/\t/g, '    '),
          line,
          ind.end + 1,
          hash >= 0 ? lineText.slice(hash + 1) : undefined,
        );
        current = saved;
      }
      continue;
    }
    // A global line.
    current = undefined;
    sectionEnd = undefined;
    const gm = /^(\w+)(\s*)=(\s*)(.*)$/.exec(lineText);
    if (gm) {
      const name = gm[1] as string;
      const valueCol = name.length + (gm[2] as string).length + 1 + (gm[3] as string).length + 1;
      directive(name, gm[4] as string, line, 1, valueCol, false, undefined);
      continue;
    }
    if (/^supervised\s*$/.test(lineText)) {
      mkReport(line, 1)('DEPRECATED', 'bare "supervised" is deprecated', 'write supervised = yes', 'warning');
      directive('supervised', 'yes', line, 1, 1, false, undefined);
      continue;
    }
    const w = /^(\w+)/.exec(lineText);
    const word = w?.[1];
    if (word && (SPECS[word] || word === 'virtual' || word === 'virtual6'))
      mkReport(line, word.length + 1)('SYNTAX', `expected "=" after ${word}`, `write ${word} = VALUE`);
    else if (word)
      mkReport(line, 1)(
        'UNKNOWN_DIRECTIVE',
        `unknown directive ${JSON.stringify(word)}`,
        suggest(word, ALL_NAMES),
      );
    else
      mkReport(line, 1)(
        'SYNTAX',
        `cannot read ${JSON.stringify(lineText.slice(0, 40))}`,
        'expected name = value',
      );
  }

  function virtualLine(rest: string, line: number, col: number, comment: string | undefined): void {
    const m = /^(\w+)(\s*)=(\s*)(.*)$/.exec(rest);
    if (!m) {
      const w = /^(\w+)/.exec(rest)?.[1];
      if (w && SPECS[w])
        mkReport(line, col + w.length)('SYNTAX', `expected "=" after ${w}`, `write ${w} = VALUE`);
      else if (w)
        mkReport(line, col)(
          'UNKNOWN_DIRECTIVE',
          `unknown directive ${JSON.stringify(w)}`,
          suggest(w, ALL_NAMES),
        );
      else
        mkReport(line, col)(
          'SYNTAX',
          `cannot read ${JSON.stringify(rest.trim().slice(0, 40))}`,
          'expected name = value',
        );
      return;
    }
    const name = m[1] as string;
    if (name === 'virtual' || name === 'virtual6') {
      mkReport(line, col)(
        'WRONG_SECTION',
        `${name} must start at column 1`,
        'remove the indentation: an indented line belongs to the previous virtual',
      );
      return;
    }
    const valueCol = col + name.length + (m[2] as string).length + 1 + (m[3] as string).length;
    directive(name, m[4] as string, line, col, valueCol, true, comment);
  }

  config.trailer = pending;
  // checkinterval inside a virtual only counts when ldirectord forks a child per virtual.
  if (config.settings.fork?.value !== true)
    for (const v of config.virtuals) {
      const ci = v.settings.checkinterval;
      if (ci?.line !== undefined)
        mkReport(ci.line, ci.column ?? 1)(
          'BAD_VALUE',
          'checkinterval in a virtual section is ignored unless fork = yes',
          'set fork = yes, or move checkinterval to the global section',
          'warning',
        );
    }
  for (const v of config.virtuals) {
    if (v.address.kind === 'address' && v.address.host === '') continue;
    const a = v.address;
    const key = `${virtualProtocol(v)}${v.ipv6 && a.kind === 'fwmark' ? '6' : ''}:${a.kind === 'fwmark' ? a.mark : `${a.host}:${ldPortNumber(a.port) ?? a.port}`}`;
    const first = seenVirtual.get(key);
    if (first !== undefined)
      mkReport(v.line ?? 0, 1)(
        'DUPLICATE',
        `duplicate virtual server ${key}`,
        `first defined at line ${first}`,
      );
    else seenVirtual.set(key, v.line ?? 0);
  }
  for (const v of config.virtuals) {
    const s = v.settings;
    const warn = (n: LdNode | undefined, message: string) =>
      mkReport(n?.line ?? v.line ?? 0, n?.column ?? 1)('BAD_VALUE', message, undefined, 'warning');
    if (s.netmask && !s.persistent) warn(s.netmask, 'netmask only takes effect together with persistent');
    if (s.ops?.value === true && virtualProtocol(v) !== 'udp')
      warn(s.ops, 'ops (one-packet scheduling) only applies to UDP services');
  }
  return { value: config, problems };
}

/** The protocol ldirectord uses for a virtual service: explicit, else fwm for a mark, udp for port 53/domain, else tcp. */
export function virtualProtocol(v: LdVirtual): 'tcp' | 'udp' | 'fwm' {
  if (v.address.kind === 'fwmark') return 'fwm';
  const p = v.settings.protocol?.value;
  if (p === 'tcp' || p === 'udp') return p;
  return v.address.port === '53' || v.address.port === 'domain' ? 'udp' : 'tcp';
}

/** Parse and throw ConfigErrors if any problem is an error (warnings are allowed). */
export function parseLdirectordCfStrict(
  text: string,
  options: ParseLdirectordOptions = {},
): LdirectordConfig {
  const r = parseLdirectordCf(text, options);
  const errs = r.problems.filter((p) => p.severity === 'error');
  if (errs.length > 0) throw new ConfigErrors(errs);
  return r.value;
}
