// `lvs-ha check`: read a Heartbeat configuration directory (or a lone
// ldirectord.cf), say what it describes and every problem found, exit 0 when
// it would run (warnings allowed) and 1 otherwise — like `keepalived -t` or
// `nginx -t`. Besides the parsers' problems it warns, once per directive and
// at its line, about everything the files ask that lvs-ha accepts but does
// not do; it never prints authkeys' keys (nor their comments, which often
// hold old keys), in text or JSON.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hasBgpCf, loadActiveConfig } from '@lvs-ha/cluster';
import {
  type Authkeys,
  type ConfigDir,
  ConfigError,
  type HaCf,
  type HaMedium,
  type LdirectordConfig,
  type LdVirtual,
  loadConfigDir,
  loadLdirectordCf,
  parseHeartbeatBoolean,
  resolveLdirectordDefaults,
} from '@lvs-ha/ha-config';
import type { CliCommand, CliIo } from '../cli-main.js';
import { describeTarget, type LogPlan, ldirectordLogTargets, nodeLogPlan } from '../logging.js';

const HELP = `usage: lvs-ha check [--config-dir DIR | --ldirectord FILE] [--json] [--quiet]

Validates ha.cf, authkeys, haresources and ldirectord.cf (DIR/ldirectord.cf or
DIR/conf/ldirectord.cf, or the file haresources passes to ldirectord) and the
agreement between them, and warns about every directive lvs-ha accepts but
does not act on. With --ldirectord, checks that ldirectord.cf alone (what
'lvs-ha director' runs). A DIR with a bgp.cf is an active/active director's
(lvs-ha start's mode): bgp.cf and ldirectord.cf are checked, and what
ldirectord.cf asks against the mode (another scheduler than mh, masq,
quiescent = no, a fallback…) is said at its line.
Exit status: 0 valid, 1 errors found, 2 bad usage.

  --config-dir DIR     Heartbeat's configuration directory (default /etc/ha.d)
  --ldirectord FILE    a lone ldirectord.cf, for 'lvs-ha director'
  --json               print the parsed files and problems as JSON (keys redacted)
  --quiet              print problems only
`;

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function medium(m: HaMedium): string {
  switch (m.type) {
    case 'bcast':
      return `bcast ${m.interface}:${m.port}`;
    case 'ucast':
    case 'ucast6':
      return `${m.type} ${m.interface} -> ${m.peer}:${m.port}`;
    case 'mcast':
      return `mcast ${m.interface} ${m.group}:${m.port} ttl ${m.ttl}`;
    case 'mcast6':
      return `mcast6 ${m.interface} ${m.group}:${m.port} hops ${m.hops}`;
    case 'serial':
      return `serial ${m.device} ${m.baud} baud`;
  }
}

function describeLdirectord(file: string, parsed: LdirectordConfig): string[] {
  const out: string[] = [];
  const resolved = resolveLdirectordDefaults(parsed);
  out.push(
    `${file}: ${resolved.virtuals.length} virtual service(s), check every ${resolved.global.checkinterval.value}s, quiescent ${resolved.global.quiescent.value ? 'yes' : 'no'}`,
  );
  for (const v of resolved.virtuals) {
    const ct = v.checktype.value;
    const check =
      typeof ct === 'number'
        ? `negotiate ${v.service.value}, then ${ct} connect checks, and again (as ldirectord: first check negotiates)`
        : `${ct}${ct === 'negotiate' ? ` ${v.service.value}` : ''}`;
    out.push(`  ${v.id} ${v.scheduler.value}, check: ${check}`);
    for (const r of v.reals)
      out.push(`    real ${r.address}:${r.port} ${r.forward} weight ${r.weight.value}`);
    const fb = v.fallback.value;
    if (fb) out.push(`    fallback ${fb.host}${fb.port ? `:${fb.port}` : ''} ${fb.forward ?? 'gate'}`);
  }
  return out;
}

function describeLogging(plan: LogPlan, ldirectordOnly: boolean): string {
  const list = (ts: LogPlan['heartbeat']) => ts.map(describeTarget).join(', ');
  const parts: string[] = [];
  if (!ldirectordOnly && plan.heartbeat.length > 0)
    parts.push(`Heartbeat's lines to ${list(plan.heartbeat)}`);
  if (plan.ldirectord.length > 0) parts.push(`ldirectord's to ${list(plan.ldirectord)}`);
  if (parts.length === 0)
    return ldirectordOnly
      ? 'logging: stdout only (no logfile in ldirectord.cf)'
      : 'logging: stdout only (ha.cf names no logfile, debugfile or logfacility, ldirectord.cf no logfile)';
  return `logging: ${parts.join('; ')}; every line on stdout too`;
}

function describe(cfg: ConfigDir): string[] {
  const out: string[] = [];
  if (cfg.haCf) {
    const s = cfg.haCf.value.settings;
    out.push(
      `${cfg.haCf.file}: nodes ${s.nodes.join(', ') || '(none)'}; ${s.media.map(medium).join(', ') || 'no media'}; ` +
        `keepalive ${seconds(s.keepaliveMs)}, deadtime ${seconds(s.deadtimeMs)}; auto_failback ${s.autoFailback}`,
    );
  }
  if (cfg.authkeys) {
    const a = cfg.authkeys.value;
    const signing = a.keys.find((k) => k.index === a.auth);
    const mode = a.mode === undefined ? '' : `; mode ${a.mode.toString(8).padStart(4, '0')}`;
    out.push(
      `${cfg.authkeys.file}: signs with key ${a.auth} (${signing?.method ?? 'undefined'}); ${a.keys.length} key(s)${mode}`,
    );
  }
  if (cfg.haresources) {
    for (const g of cfg.haresources.value.groups) {
      const res = g.resources.map((r) =>
        r.kind === 'ipaddr'
          ? `VIP ${r.address}${r.prefix === undefined ? '' : `/${r.prefix}`}${r.interface ? ` on ${r.interface}` : ''}`
          : [r.name, ...r.args].join(' '),
      );
      out.push(`${cfg.haresources.file}: ${g.node} is the preferred holder of ${res.join(', ')}`);
    }
  }
  if (cfg.ldirectord) out.push(...describeLdirectord(cfg.ldirectord.file, cfg.ldirectord.value));
  if (cfg.haCf || cfg.ldirectord) out.push(describeLogging(nodeLogPlan(cfg), false));
  return out;
}

// ---------------------------------------------------------------------------
// What lvs-ha accepts and does not do. Each rule says why, as the warning
// does; `when` narrows it to the values that differ from what lvs-ha does.

interface Rule {
  when?: (value: string) => boolean;
  why: string;
}

const on = (v: string) => parseHeartbeatBoolean(v) === true;
const notOff = (v: string) => parseHeartbeatBoolean(v) !== false;

/** ha.cf: what @lvs-ha/hb-proto's HeartbeatNode.optionsFromHaCf and @lvs-ha/cluster do not read. */
export const HACF_NOT_ACTED_ON: Readonly<Record<string, Rule>> = {
  crm: { when: notOff, why: 'lvs-ha runs the haresources groups; a CRM (Pacemaker) cluster is not managed' },
  pacemaker: { when: notOff, why: 'lvs-ha runs the haresources groups; Pacemaker is not started' },
  crm_daemon_dir: { why: 'no CRM daemons are started' },
  crmd_spawns_pengine: { why: 'no CRM daemons are started' },
  record_config_changes: { why: 'a CRM setting: there is no CIB' },
  record_pengine_inputs: { why: 'a CRM setting: there is no policy engine' },
  enable_config_writes: { why: 'a CRM setting: there is no CIB' },
  ping: { why: 'ping nodes are not pinged (no ipfail-style decisions on them)' },
  ping_group: { why: 'ping nodes are not pinged (no ipfail-style decisions on them)' },
  hbaping: { why: 'ping nodes are not pinged' },
  deadping: { why: 'there are no ping nodes to declare dead' },
  respawn: { why: 'lvs-ha starts no helper processes (ipfail and the like are not run)' },
  apiauth: {
    why: "there is no Heartbeat client API to authorise; lvs-ha's control socket is root's alone (mode 0600)",
  },
  watchdog: { why: 'lvs-ha does not feed a kernel watchdog device' },
  stonith: { why: 'no STONITH: nothing is fenced' },
  stonith_host: { why: 'no STONITH: nothing is fenced' },
  serial: { why: 'serial media are not used: heartbeats go over bcast, mcast and ucast only' },
  baud: { why: 'serial media are not used' },
  hopfudge: { why: 'serial media are not used, so nothing is forwarded along a ring' },
  compression: { why: 'lvs-ha sends its messages uncompressed' },
  compression_threshold: { why: 'lvs-ha sends its messages uncompressed' },
  traditional_compression: { when: on, why: 'lvs-ha sends its messages uncompressed' },
  use_logd: {
    when: on,
    why: "lvs-ha does not talk to ha_logd: it writes ha.cf's logfile, debugfile and logfacility itself (Heartbeat would follow logd.cf instead)",
  },
  conn_logd_time: { why: 'lvs-ha does not talk to ha_logd' },
  coredumps: { when: on, why: "lvs-ha does not set up Heartbeat's core-dump directory" },
  realtime: {
    when: on,
    why: 'no realtime scheduling or locked memory: the membership runs on a thread of its own instead',
  },
  rtprio: { why: 'no realtime scheduling' },
  debug: {
    when: (v) => Number(v) > 0,
    why: 'lvs-ha has no debug-level lines: debugfile gets every line there is',
  },
  uuidfrom: { why: 'the node uuid is a new random one each run' },
  hbgenmethod: { when: (v) => v.toLowerCase() === 'file', why: 'the generation is taken from the clock' },
  max_rexmit_delay: { why: 'retransmissions wait up to 250 ms, whatever it says' },
  memreserve: { why: 'no memory is reserved or locked' },
  syslogmsgfmt: {
    when: (v) => parseHeartbeatBoolean(v) === false,
    why: "log files are always written in syslog's format",
  },
  quorum_server: { why: 'no quorum server is asked: two nodes, no quorum' },
  env: { why: 'resource scripts get the environment lvs-ha was started with, not env lines' },
  autojoin: {
    when: (v) => ['other', 'any'].includes(v.toLowerCase()),
    why: "only the nodes of ha.cf's node lines are members: other nodes are not let in",
  },
  msgfmt: {
    when: (v) => v.toLowerCase() === 'netstring',
    why: "lvs-ha sends Heartbeat 3.0.6's default form (classic fields and the netstring trailer)",
  },
};

/** ldirectord.cf: what @lvs-ha/director and @lvs-ha/probes do not read (global and per-virtual settings). */
export const LDIRECTORD_NOT_ACTED_ON: Readonly<Record<string, Rule>> = {
  emailalert: { why: 'lvs-ha sends no email alerts' },
  emailalertfreq: { why: 'lvs-ha sends no email alerts' },
  emailalertstatus: { why: 'lvs-ha sends no email alerts' },
  emailalertfrom: { why: 'lvs-ha sends no email alerts' },
  smtp: { why: 'lvs-ha sends no email alerts (smtp is their server)' },
  servicename: { why: 'it names the service in email alerts only, which lvs-ha does not send' },
  comment: { why: 'it is shown in email alerts only, which lvs-ha does not send' },
  monitorfile: { why: 'check results are not written to a monitorfile' },
  load: { why: 'nothing reads it (ldirectord 4.12 ignores it too)' },
  fork: {
    when: (v) => v === 'yes',
    why: 'every real server is checked on its own period anyway: there are no per-virtual children',
  },
  supervised: {
    why: 'lvs-ha always runs in the foreground with its lines on stdout, and also writes logfile (ldirectord with supervised = yes would not)',
  },
};

function notActedOnHaCf(file: string, cf: HaCf): ConfigError[] {
  const out: ConfigError[] = [];
  for (const d of cf.directives) {
    const name = d.name.toLowerCase();
    const rule = HACF_NOT_ACTED_ON[name];
    const value = d.args.join(' ');
    if (!rule || (rule.when && !rule.when(value))) continue;
    out.push(
      new ConfigError({
        code: 'NOT_ACTED_ON',
        file,
        line: d.line ?? 1,
        column: d.column ?? 1,
        severity: 'warning',
        message: `'${name}${value ? ` ${value}` : ''}' is accepted but not acted on: ${rule.why}`,
      }),
    );
  }
  return out;
}

/** A setting's value as the file has it (yes/no for booleans). */
const shown = (v: unknown) =>
  Array.isArray(v) ? v.join(',') : typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);

function notActedOnLdirectord(file: string, cf: LdirectordConfig): ConfigError[] {
  const out: ConfigError[] = [];
  const warn = (name: string, value: unknown, at: { line?: number; column?: number }, why: string) =>
    out.push(
      new ConfigError({
        code: 'NOT_ACTED_ON',
        file,
        line: at.line ?? 1,
        column: at.column ?? 1,
        severity: 'warning',
        message: `'${name} = ${shown(value)}' is accepted but not acted on: ${why}`,
      }),
    );
  const settings = (s: LdirectordConfig['settings'] | LdVirtual['settings']) =>
    Object.entries(s as Record<string, { value: unknown; line?: number; column?: number } | undefined>);
  const scan = (s: LdirectordConfig['settings'] | LdVirtual['settings']) => {
    for (const [name, setting] of settings(s)) {
      const rule = LDIRECTORD_NOT_ACTED_ON[name];
      if (!setting || !rule || (rule.when && !rule.when(shown(setting.value)))) continue;
      warn(name, setting.value, setting, rule.why);
    }
  };
  scan(cf.settings);
  for (const e of cf.execute)
    warn(
      'execute',
      e.value,
      e,
      'no other ldirectord instance is started (lvs-ha start runs a Director per file haresources names)',
    );
  for (const v of cf.virtuals) scan(v.settings);
  // the one ldirectord service @lvs-ha/probes does not implement: its check would be an HTTP request
  for (const v of resolveLdirectordDefaults(cf).virtuals) {
    const ct = v.checktype.value;
    if (v.service.value === 'oracle' && (ct === 'negotiate' || typeof ct === 'number'))
      warn(
        'service',
        'oracle',
        { line: v.service.line ?? v.line ?? 1 },
        `${v.id}: the oracle check is not implemented (it needs Oracle's client); use checktype = connect or external`,
      );
  }
  return out;
}

function loggingProblems(file: string, cf: LdirectordConfig | undefined, plan: LogPlan): ConfigError[] {
  const at = cf?.settings.logfile;
  return plan.problems
    .filter((p) => p.startsWith('ldirectord.cf'))
    .map(
      (p) =>
        new ConfigError({
          code: 'BAD_VALUE',
          file,
          line: at?.line ?? 1,
          column: at?.column ?? 1,
          severity: 'warning',
          message: `${p}: its lines go to stdout only`,
          hint: 'a path beginning with /, or a facility such as local0',
        }),
    );
}

// ---------------------------------------------------------------------------
// Secrets: authkeys' keys never leave this command.

const REDACTED = '[redacted]';

/** Every word of authkeys that may be a key: all but `auth`, method names and numbers (comments too). */
async function secretWords(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  const text = await readFile(file, 'utf8').catch(() => '');
  const words = text
    .split(/\s+/)
    .map((w) => w.replace(/^#+/, ''))
    .filter((w) => w !== '' && !/^(auth|crc|md5|sha1|\d+)$/i.test(w));
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const w of secrets) {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(?<![^\\s'"(])${escaped}(?![^\\s'",:;)])`, 'g'), REDACTED);
  }
  return out;
}

/** A problem as printed, with any authkeys word that may be a key taken out (messages quote the word at fault). */
function redactProblem(
  p: ConfigError,
  authFile: string | undefined,
  secrets: readonly string[],
): ConfigError {
  if (p.file !== authFile || secrets.length === 0) return p;
  return new ConfigError({
    code: p.code,
    file: p.file,
    line: p.line,
    column: p.column,
    severity: p.severity,
    message: redactText(p.reason, secrets),
    ...(p.hint !== undefined && { hint: redactText(p.hint, secrets) }),
  });
}

/** authkeys for JSON: the index signed with, and each key's index, method and line; keys and comments left out. */
function redactAuthkeys(a: Authkeys) {
  return {
    auth: a.auth,
    ...(a.authLine !== undefined && { authLine: a.authLine }),
    keys: a.keys.map((k) => ({
      index: k.index,
      method: k.method,
      ...(k.key !== undefined && { key: REDACTED }),
      ...(k.line !== undefined && { line: k.line }),
    })),
    ...(a.mode !== undefined && { mode: a.mode }),
  };
}

/** ldirectord.cf for JSON: the login passwords and RADIUS secrets of the checks left out too. */
function redactLdirectord(cf: LdirectordConfig): LdirectordConfig {
  return {
    ...cf,
    virtuals: cf.virtuals.map((v) => {
      const settings = { ...v.settings };
      for (const k of ['passwd', 'secret'] as const) {
        const s = settings[k];
        if (s) settings[k] = { ...s, value: REDACTED };
      }
      return { ...v, settings };
    }),
  };
}

const problemJson = (p: ConfigError) => ({ ...p, message: p.message });

// ---------------------------------------------------------------------------

function print(
  io: CliIo,
  quiet: boolean | undefined,
  what: string,
  lines: string[],
  problems: ConfigError[],
): number {
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (!quiet) for (const l of lines) io.stdout(`${l}\n`);
  for (const p of problems) (p.severity === 'error' ? io.stderr : io.stdout)(`${p.severity}: ${p.message}\n`);
  const verdict = errors === 0 ? 'configuration is valid' : 'configuration has errors';
  io.stdout(
    `lvs-ha check: ${what}: ${verdict} (${errors} error(s), ${problems.length - errors} warning(s))\n`,
  );
  return errors === 0 ? 0 : 1;
}

async function checkDir(
  dir: string,
  values: { json?: boolean; quiet?: boolean },
  io: CliIo,
): Promise<number> {
  const cfg = await loadConfigDir(dir);
  const authFile = cfg.authkeys?.file ?? join(dir, 'authkeys');
  const secrets = await secretWords(authFile);
  const extra: ConfigError[] = [];
  if (cfg.haCf) extra.push(...notActedOnHaCf(cfg.haCf.file, cfg.haCf.value));
  if (cfg.ldirectord) {
    extra.push(...notActedOnLdirectord(cfg.ldirectord.file, cfg.ldirectord.value));
    extra.push(...loggingProblems(cfg.ldirectord.file, cfg.ldirectord.value, nodeLogPlan(cfg)));
  }
  const problems = [...cfg.problems, ...extra].map((p) => redactProblem(p, authFile, secrets));
  if (values.json) {
    const out = {
      dir: cfg.dir,
      ...(cfg.haCf && { haCf: { file: cfg.haCf.file, value: cfg.haCf.value } }),
      ...(cfg.authkeys && {
        authkeys: { file: cfg.authkeys.file, value: redactAuthkeys(cfg.authkeys.value) },
      }),
      ...(cfg.haresources && { haresources: { file: cfg.haresources.file, value: cfg.haresources.value } }),
      ...(cfg.ldirectord && {
        ldirectord: { file: cfg.ldirectord.file, value: redactLdirectord(cfg.ldirectord.value) },
      }),
      problems: problems.map(problemJson),
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }
  return print(io, values.quiet, dir, describe(cfg), problems);
}

/** What check says of an ldirectord.cf read without ha.cf (a `director` user's, an active/active director's). */
function addLoneLdirectord(
  file: string,
  parsed: LdirectordConfig,
  problems: ConfigError[],
  lines: string[],
): void {
  const logProblems: string[] = [];
  const targets = ldirectordLogTargets(parsed.settings.logfile?.value, logProblems);
  const plan: LogPlan = { heartbeat: [], ldirectord: targets, ldirectordConfig: '', problems: logProblems };
  problems.push(...notActedOnLdirectord(file, parsed), ...loggingProblems(file, parsed, plan));
  lines.push(...describeLdirectord(file, parsed), describeLogging(plan, true));
}

async function checkLdirectord(
  name: string,
  values: { json?: boolean; quiet?: boolean },
  io: CliIo,
): Promise<number> {
  // found as `lvs-ha director --config` finds it
  const ld = await loadLdirectordCf(name, { configDir: process.cwd() });
  const problems = [...ld.problems];
  const lines: string[] = [];
  if (ld.parsed) addLoneLdirectord(ld.file, ld.parsed, problems, lines);
  if (values.json) {
    const out = {
      ldirectord: { file: ld.file, ...(ld.parsed && { value: redactLdirectord(ld.parsed) }) },
      problems: problems.map(problemJson),
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }
  return print(io, values.quiet, ld.file, lines, problems);
}

/** A directory with bgp.cf: the active/active director's bgp.cf and ldirectord.cf (ha.cf, authkeys, haresources are not read). */
async function checkActive(
  dir: string,
  values: { json?: boolean; quiet?: boolean },
  io: CliIo,
): Promise<number> {
  const a = await loadActiveConfig(dir);
  const ld = await loadLdirectordCf(a.ldirectordFile);
  const problems = [...a.problems];
  const lines: string[] = [];
  if (a.bgp) {
    const b = a.bgp;
    const bfd = b.bfd === false ? 'no BFD' : `BFD ${b.bfd?.intervalMs ?? 100} ms x ${b.bfd?.multiplier ?? 3}`;
    lines.push(
      `${a.bgpFile}: active/active director, router id ${b.routerId}, AS ${b.localAs}; ${b.neighbors.map((n) => `BGP to ${n.address} (AS ${n.as})`).join(', ')}; ${bfd}; hold time ${b.holdTime ?? 9} s`,
      `${a.bgpFile}: announces ${b.vips.join(', ')} while a real server of theirs is up (mh with mh-fallback,mh-port, failed real servers quiesced, sloppy_tcp/sloppy_sctp on, VIPs on lo with ARP suppressed)`,
    );
  }
  if (ld.parsed) addLoneLdirectord(ld.file, ld.parsed, problems, lines);
  if (values.json) {
    const bgp = a.bgp && {
      ...a.bgp,
      neighbors: a.bgp.neighbors.map((n) => ({
        ...n,
        ...(n.password !== undefined && { password: '(redacted)' }),
      })),
    };
    const out = {
      dir,
      mode: 'active-active',
      bgp: { file: a.bgpFile, ...(bgp && { value: bgp }) },
      ldirectord: { file: ld.file, ...(ld.parsed && { value: redactLdirectord(ld.parsed) }) },
      problems: problems.map(problemJson),
    };
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }
  return print(io, values.quiet, dir, lines, problems);
}

async function run(args: readonly string[], io: CliIo): Promise<number> {
  let values: { 'config-dir'?: string; ldirectord?: string; json?: boolean; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        'config-dir': { type: 'string', short: 'c' },
        ldirectord: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values['config-dir'] !== undefined && values.ldirectord !== undefined)
      throw new Error('--config-dir and --ldirectord exclude each other');
  } catch (err) {
    io.stderr(`lvs-ha check: ${(err as Error).message}\n${HELP}`);
    return 2;
  }
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  if (values.ldirectord !== undefined) return checkLdirectord(values.ldirectord, values, io);
  const dir = values['config-dir'] ?? '/etc/ha.d';
  if (await hasBgpCf(dir)) return checkActive(dir, values, io);
  return checkDir(dir, values, io);
}

export const checkCommand: CliCommand = {
  summary: 'validate a Heartbeat/ldirectord configuration directory (or a lone ldirectord.cf)',
  run,
};
