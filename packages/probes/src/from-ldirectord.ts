// ldirectord.cf → Monitor: every real server of every virtual service becomes
// one MonitoredServer whose check is what ldirectord 4.12 would run, with the
// globals, the per-virtual overrides and the per-real request/receive already
// resolved by @lvs-ha/ha-config (resolveLdirectordDefaults). Pure: no DNS, no
// files opened.
import {
  ConfigErrors,
  type LdirectordConfig,
  type LdResolvedConfig,
  type LdResolvedVirtual,
  ldPortNumber,
  parseLdirectordCf,
  type ResolveLdirectordOptions,
  resolveLdirectordDefaults,
} from '@lvs-ha/ha-config';
import type { MonitoredServer, MonitorOptions, MonitorSpec } from './monitor.js';

/** ldirectord's ld_service_to_port: the port a check uses when neither checkport nor the real server has one. */
const SERVICE_TO_PORT: Record<string, number> = {
  ftp: 21,
  smtp: 25,
  dns: 53,
  http: 80,
  pop: 110,
  nntp: 119,
  imap: 143,
  ldap: 389,
  https: 443,
  submission: 587,
  ldaps: 636,
  imaps: 993,
  pops: 995,
  oracle: 1521,
  radius: 1812,
  http_proxy: 3128,
  mysql: 3306,
  sip: 5060,
  pgsql: 5432,
};

/** A MonitoredServer that remembers where in ldirectord.cf it came from. */
export interface LdirectordServer extends MonitoredServer {
  /** ldirectord's id of the virtual service: tcp:192.0.2.50:80, fwm:7… */
  virtual: string;
  /** Line of the real = directive. */
  line?: number;
}

export interface LdirectordMonitorConfig {
  servers: LdirectordServer[];
  /** Options for `new Monitor(servers, options)`: the global maintenancedir. */
  options: Pick<MonitorOptions, 'maintenancedir'>;
  /** Real servers that cannot be checked as written (a host-name range, an unknown port name). */
  skipped: { virtual: string; real: string; why: string }[];
}

/** ldirectord's ld_strip_brackets: [2001:db8::21] → 2001:db8::21. */
function stripBrackets(host: string): string {
  return /^\[(.*)\]$/.exec(host)?.[1] ?? host;
}

function isResolved(c: LdirectordConfig | LdResolvedConfig): c is LdResolvedConfig {
  return 'global' in c;
}

function specFor(v: LdResolvedVirtual, request: string, receive: string): MonitorSpec {
  const a = v.address;
  const spec: MonitorSpec = {
    checktype: v.checktype.value as MonitorSpec['checktype'],
    service: v.service.value as MonitorSpec['service'],
    timeout: v.checktimeout.value,
    negotiatetimeout: v.negotiatetimeout.value,
    checkcount: v.checkcount.value,
    protocol: v.protocol.value,
    request,
    httpmethod: v.httpmethod.value,
    checkcommand: v.checkcommand.value,
    virtual:
      a.kind === 'fwmark'
        ? { host: String(a.mark), port: 0 }
        : { host: stripBrackets(a.host), port: ldPortNumber(a.port) ?? Number(a.port) },
  };
  // ldirectord's receive = "" means "anything": leave it out.
  if (receive !== '') spec.receive = receive;
  if (v.checkport.value !== null) spec.checkport = v.checkport.value;
  if (v.virtualhost.value !== null) spec.virtualhost = v.virtualhost.value;
  const extra = spec as Record<string, unknown>;
  if (v.login.value !== '') extra.login = v.login.value;
  if (v.passwd.value !== '') extra.passwd = v.passwd.value;
  if (v.database.value !== '') extra.database = v.database.value;
  if (v.secret.value !== '') extra.secret = v.secret.value;
  return spec;
}

/**
 * The Monitor's servers for an ldirectord.cf (parsed, or parsed and resolved).
 * Ids are `<virtual id>/<real IP>:<port>`, stable across reloads, so
 * `monitor.reconfigure(servers)` after a change keeps the state of every real
 * server whose check did not change.
 */
export function monitorFromLdirectord(
  config: LdirectordConfig | LdResolvedConfig,
  options: ResolveLdirectordOptions = {},
): LdirectordMonitorConfig {
  const resolved = isResolved(config) ? config : resolveLdirectordDefaults(config, options);
  const servers: LdirectordServer[] = [];
  const skipped: LdirectordMonitorConfig['skipped'] = [];
  for (const v of resolved.virtuals) {
    // The reals of a virtual mostly share their check: one spec object each
    // (at 10,000 real servers a copy per server was megabytes).
    const specs = new Map<string, MonitorSpec>();
    for (const r of v.reals) {
      const port = ldPortNumber(r.port);
      if (port === undefined) {
        skipped.push({
          virtual: v.id,
          real: `${r.address}:${r.port}`,
          why: `port ${JSON.stringify(r.port)} is not a number or a well-known service name`,
        });
        continue;
      }
      const key = `${r.request.value}\0${r.receive.value}\0${port === 0}`;
      let spec = specs.get(key);
      if (!spec) {
        spec = specFor(v, r.request.value, r.receive.value);
        // ld_checkport: checkport, else the real server's port, else the service's.
        if (spec.checkport === undefined && port === 0) {
          const p = SERVICE_TO_PORT[v.service.value];
          if (p !== undefined) spec.checkport = p;
        }
        specs.set(key, spec);
      }
      const host = stripBrackets(r.address);
      const s: LdirectordServer = {
        // joined, not a template: a template keeps a tree of three string pieces per id
        id: [v.id, '/', host, ':', port].join(''),
        virtual: v.id,
        target: { host, port },
        spec,
        interval: v.checkinterval.value,
        fall: v.failurecount.value,
        line: r.line, // in the literal: a property added later costs every server a property array
      };
      servers.push(s);
    }
  }
  const options_: LdirectordMonitorConfig['options'] = {};
  const dir = resolved.global.maintenancedir.value;
  if (dir !== null) options_.maintenancedir = dir;
  return { servers, options: options_, skipped };
}

/**
 * Parses ldirectord.cf text and returns the Monitor's servers. Throws
 * ConfigErrors (from @lvs-ha/ha-config, each with file, line and a hint) when
 * ldirectord would refuse the file; warnings are ignored.
 */
export function monitorFromLdirectordCf(
  text: string,
  options: ResolveLdirectordOptions & { file?: string } = {},
): LdirectordMonitorConfig {
  const r = parseLdirectordCf(text, options.file === undefined ? {} : { file: options.file });
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0) throw new ConfigErrors(errors);
  return monitorFromLdirectord(r.value, options);
}
