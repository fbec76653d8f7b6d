// Logging as Heartbeat's and ldirectord's files ask: ha.cf's logfile,
// debugfile and logfacility for Heartbeat's lines (membership, hand-over,
// VIPs), ldirectord.cf's logfile (a path or a syslog facility) for the
// Director's (real servers, table changes, fallback, reload). stdout is
// always written too: the tests read it, and under systemd it is what
// journald keeps.
//
// - syslog: RFC 3164 datagrams, as glibc's syslog() writes them, to /dev/log
//   (AF_UNIX, through @lvs-ha/sys: Node's dgram has no AF_UNIX). The socket
//   is not connected: every datagram is addressed to the path, so a syslog
//   daemon that restarts (a new socket at the same path) is reached again
//   without a reconnect. Sends never wait (MSG_DONTWAIT); while the daemon is
//   away or busy, lines wait in a bounded queue and are sent when it is back.
// - files: appended to, opened and closed each time (as Heartbeat and
//   ldirectord do, so logrotate needs no signal), asynchronously, in order.
// - nothing here throws into the caller: a destination that fails is said
//   once (onError), and again when it works.
import { appendFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import type { ConfigDir } from '@lvs-ha/ha-config';
import { syslogFacility } from '@lvs-ha/ha-config';
import {
  AF_UNIX,
  EMSGSIZE,
  errnoName,
  type Libc,
  libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrUn,
} from '@lvs-ha/sys';
import type { CliIo } from './cli-main.js';

/** Whose line it is: Heartbeat's (ha.cf's destinations) or ldirectord's (ldirectord.cf's). */
export type LogSource = 'heartbeat' | 'ldirectord';
/** syslog severities the lines map to. */
export type LogLevel = 'err' | 'warning' | 'info';

/** syslog.h's numbers. */
export const SYSLOG_SEVERITIES: Readonly<Record<LogLevel, number>> = { err: 3, warning: 4, info: 6 };
/** Where glibc's syslog() and logger(1) send. */
export const DEFAULT_SYSLOG_SOCKET = '/dev/log';

export type LoggingErrorCode =
  /** The syslog socket cannot be reached (no daemon, busy, gone): lines wait in the queue. */
  | 'SYSLOG_UNAVAILABLE'
  /** The queue was full: the oldest lines were dropped. */
  | 'SYSLOG_DROPPED'
  /** koffi/glibc cannot be loaded here: no syslog at all. */
  | 'SYSLOG_NO_LIBC'
  /** A log file cannot be written (its lines are lost; stdout has them). */
  | 'FILE_WRITE'
  /** A facility name that is no facility, or a socket path sockaddr_un cannot hold. */
  | 'BAD_DESTINATION';

export class LoggingError extends Error {
  override readonly name = 'LoggingError';
  constructor(
    readonly code: LoggingErrorCode,
    /** The destination, as described(): "syslog local0 /dev/log", "file /var/log/ha-log". */
    readonly destination: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---------------------------------------------------------------------------
// Lines: level, source, formats (pure)

/** A line's level: lines beginning `error` are err, `warning` warning, the rest info. */
export function levelOfLine(line: string): LogLevel {
  if (/^error\b/i.test(line)) return 'err';
  if (/^warning\b/i.test(line)) return 'warning';
  return 'info';
}

/** The line without its leading `error`/`warning` word (and colon): the level says it. */
export function withoutLevel(line: string): string {
  return line.replace(/^(error|warning)\b:?\s*/i, '');
}

// The Director's lines, as resources.ts, the Director and `lvs-ha director`
// word them. The ClusterNode's 'log' event carries both daemons' lines with
// no tag; their forms are distinct enough to tell them apart.
const LDIRECTORD_LINES: readonly RegExp[] = [
  /^(tcp|udp|fwm|sctp)6?:\S+ (real|fallback) /, // a real server up/down, the fallback on/off
  /^(add|edit|delete) (virtual|real) /, // a change of the IPVS table (describeOperation)
  /^ldirectord\s/, // ldirectord FILE started/stopped/stays/changed/has errors
  /^reload(ed\s| of\s)/, // reloaded FILE, reload of FILE refused
  /^(IPVS_READ|IPVS_APPLY|NOT_STARTED): /, // DirectorError codes
  /^\S+:\d+:\d+: /, // a problem at file:line:column: at run time only ldirectord.cf is read again
];

/** Whose line it is (see LDIRECTORD_LINES); everything else is Heartbeat's. */
export function sourceOfLine(line: string): LogSource {
  const text = withoutLevel(line);
  return LDIRECTORD_LINES.some((re) => re.test(text)) ? 'ldirectord' : 'heartbeat';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number) => String(n).padStart(2, '0');
const clock = (d: Date) => `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;

/** glibc syslog()'s timestamp (strftime "%h %e %T", local time): `Dec  2 16:38:15`. */
export function syslogTimestamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${clock(d)}`;
}

/** Heartbeat's (cl_log's "%b %d %H:%M:%S"): `Dec 02 16:38:15`. */
export function heartbeatTimestamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${two(d.getDate())} ${clock(d)}`;
}

/** Perl's scalar localtime, which ldirectord writes: `Wed Dec  2 16:38:15 2026`. */
export function ldirectordTimestamp(d: Date): string {
  return `${DAYS[d.getDay()]} ${syslogTimestamp(d)} ${d.getFullYear()}`;
}

/** Heartbeat's priority words (cl_log's prio2str). */
const HEARTBEAT_LEVEL: Readonly<Record<LogLevel, string>> = { err: 'ERROR', warning: 'WARN', info: 'info' };

/** The text after Heartbeat's `[pid]: `: `info: vip … up`, `ERROR: …` (also its syslog message, as Heartbeat sends it). */
export function heartbeatMessage(level: LogLevel, line: string): string {
  return `${HEARTBEAT_LEVEL[level]}: ${withoutLevel(line)}`;
}

/** A line of Heartbeat's logfile/debugfile: `Dec 02 16:38:15 load1 heartbeat: [23905]: info: …`. */
export function formatHeartbeatLine(r: {
  date: Date;
  host: string;
  pid: number;
  level: LogLevel;
  line: string;
}): string {
  return `${heartbeatTimestamp(r.date)} ${r.host} heartbeat: [${r.pid}]: ${heartbeatMessage(r.level, r.line)}`;
}

/** A line of ldirectord's logfile: `[Wed Dec  2 16:38:15 2026|ldirectord.cf|1234] …`. */
export function formatLdirectordLine(r: { date: Date; config: string; pid: number; line: string }): string {
  return `[${ldirectordTimestamp(r.date)}|${r.config}|${r.pid}] ${r.line}`;
}

/** rsyslog's default maxMessageSize: longer datagrams are cut there anyway. */
const MAX_DATAGRAM = 8096;

/** One syslog datagram as glibc's syslog() sends it: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG`. */
export function formatSyslogDatagram(r: {
  facility: number;
  level: LogLevel;
  date: Date;
  tag: string;
  pid: number;
  message: string;
}): string {
  const text = `<${r.facility * 8 + SYSLOG_SEVERITIES[r.level]}>${syslogTimestamp(r.date)} ${r.tag}[${r.pid}]: ${r.message}`;
  if (Buffer.byteLength(text) <= MAX_DATAGRAM) return text;
  return Buffer.from(text)
    .subarray(0, MAX_DATAGRAM)
    .toString()
    .replace(/\uFFFD$/, '');
}

// ---------------------------------------------------------------------------
// Destinations

/** One line as said, with what the logger made of it. */
export interface LogRecord {
  date: Date;
  source: LogSource;
  level: LogLevel;
  /** The line as said (one line: a multi-line text is several records). */
  line: string;
}

export interface LogDestination {
  /** How it is named in error messages and in `lvs-ha check`: "syslog local0 /dev/log", "file /var/log/ha-log". */
  readonly description: string;
  write(r: LogRecord): void;
  /** Resolves once what was written has reached the file or the socket (or was given up). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface DestinationOptions {
  /** Said once when the destination starts failing (and whenever lines are dropped). */
  onError?: (e: LoggingError) => void;
  /** Said once when it works again. */
  onRecovered?: (message: string) => void;
}

export interface SyslogOptions extends DestinationOptions {
  /** Facility number (SYSLOG_FACILITIES): daemon 3, local0 16… */
  facility: number;
  /** The facility's name, for messages. */
  facilityName?: string;
  /** The syslog tag (the program name): heartbeat, ldirectord. */
  tag: string;
  /** Default /dev/log. */
  path?: string;
  pid?: number;
  /** The message of a record (default: the line). */
  message?: (r: LogRecord) => string;
  /** Lines kept while the daemon is away (default 1000): then the oldest go. */
  maxQueue?: number;
  /** How often a waiting queue is tried again (default 250 ms). */
  retryMs?: number;
}

const encoder = new TextEncoder();

/** A syslog client on an AF_UNIX datagram socket (what glibc's syslog() is, without blocking). */
export class SyslogClient implements LogDestination {
  readonly description: string;
  private readonly path: string;
  private readonly address: Uint8Array | undefined;
  private fd = -1;
  private readonly queue: Uint8Array[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** errno name of the failure in progress, if any. */
  private failing: string | undefined;
  private dropped = 0;
  private closed = false;
  private noLibc = false;
  /** Datagrams sent (for tests and status). */
  sent = 0;

  constructor(private readonly o: SyslogOptions) {
    this.path = o.path ?? DEFAULT_SYSLOG_SOCKET;
    this.description = `syslog ${o.facilityName ?? o.facility} ${this.path}`;
    try {
      this.address = sockaddrUn(this.path);
    } catch (e) {
      this.closed = true;
      this.o.onError?.(
        new LoggingError('BAD_DESTINATION', this.description, (e as Error).message, { cause: e }),
      );
    }
  }

  /** Lines waiting for the daemon. */
  get waiting(): number {
    return this.queue.length;
  }

  write(r: LogRecord): void {
    if (this.closed) return;
    const message = this.o.message ? this.o.message(r) : r.line;
    const datagram = encoder.encode(
      formatSyslogDatagram({
        facility: this.o.facility,
        level: r.level,
        date: r.date,
        tag: this.o.tag,
        pid: this.o.pid ?? process.pid,
        message,
      }),
    );
    // behind a waiting queue: keep the order
    if (this.queue.length > 0 || !this.send(datagram)) this.enqueue(datagram);
  }

  async flush(): Promise<void> {
    this.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.drain();
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fd >= 0) this.c()?.close(this.fd);
    this.fd = -1;
  }

  private c(): Libc | undefined {
    if (this.noLibc) return undefined;
    try {
      return libc();
    } catch (e) {
      this.noLibc = true;
      this.queue.length = 0;
      this.o.onError?.(
        new LoggingError('SYSLOG_NO_LIBC', this.description, `${this.description}: ${(e as Error).message}`, {
          cause: e,
        }),
      );
      return undefined;
    }
  }

  /** True when the datagram is done with (sent, or given up for good); false to keep it for later. */
  private send(datagram: Uint8Array): boolean {
    const c = this.c();
    if (!c || !this.address) return true;
    if (this.fd < 0) {
      this.fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (this.fd < 0) return this.failed(errnoName(c.errno()));
    }
    const n = c.sendto(
      this.fd,
      datagram,
      datagram.length,
      MSG_DONTWAIT | MSG_NOSIGNAL,
      this.address,
      this.address.length,
    );
    if (n >= 0) {
      this.sent++;
      if (this.failing !== undefined) {
        const lost = this.dropped ? ` (${this.dropped} line(s) were dropped meanwhile)` : '';
        this.o.onRecovered?.(`${this.description}: sending again after ${this.failing}${lost}`);
        this.failing = undefined;
        this.dropped = 0;
      }
      return true;
    }
    const errno = c.errno();
    if (errno === EMSGSIZE) return true; // cannot ever go: drop it (formatSyslogDatagram keeps them short)
    // ENOENT (no daemon), ECONNREFUSED (a socket file nobody reads), EAGAIN/ENOBUFS
    // (the daemon is behind): the path is tried again as it is. Anything else: a new socket next time.
    if (!['ENOENT', 'ECONNREFUSED', 'EAGAIN', 'ENOBUFS', 'ENOTCONN'].includes(errnoName(errno))) {
      c.close(this.fd);
      this.fd = -1;
    }
    return this.failed(errnoName(errno));
  }

  private failed(why: string): false {
    if (this.failing === undefined) {
      this.failing = why;
      this.o.onError?.(
        new LoggingError(
          'SYSLOG_UNAVAILABLE',
          this.description,
          `${this.description}: ${why}: keeping up to ${this.o.maxQueue ?? 1000} line(s) until it answers`,
        ),
      );
    }
    return false;
  }

  private enqueue(datagram: Uint8Array): void {
    if (this.closed || this.noLibc) return;
    this.queue.push(datagram);
    const max = this.o.maxQueue ?? 1000;
    if (this.queue.length > max) {
      this.queue.splice(0, this.queue.length - max);
      if (this.dropped++ === 0)
        this.o.onError?.(
          new LoggingError(
            'SYSLOG_DROPPED',
            this.description,
            `${this.description}: more than ${max} line(s) waiting: dropping the oldest`,
          ),
        );
    }
    this.schedule();
  }

  private drain(): void {
    while (this.queue.length > 0) {
      if (!this.send(this.queue[0] as Uint8Array)) {
        this.schedule();
        return;
      }
      this.queue.shift();
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, this.o.retryMs ?? 250);
    this.timer.unref(); // a waiting log line never keeps the process alive
  }
}

export interface LogFileOptions extends DestinationOptions {
  path: string;
  /** The text of a record (one line, no newline). */
  format: (r: LogRecord) => string;
  /** Lines kept while a write is in flight (default 10,000): then the oldest go. */
  maxPending?: number;
}

/** A log file appended to in order, without blocking (fs.promises), opened and closed on each write. */
export class LogFile implements LogDestination {
  readonly description: string;
  private pending: string[] = [];
  private writing: Promise<void> | undefined;
  private failing = false;
  private closed = false;

  constructor(private readonly o: LogFileOptions) {
    this.description = `file ${o.path}`;
  }

  write(r: LogRecord): void {
    if (this.closed) return;
    this.pending.push(`${this.o.format(r)}\n`);
    const max = this.o.maxPending ?? 10_000;
    if (this.pending.length > max) this.pending.splice(0, this.pending.length - max);
    this.writing ??= this.drain();
  }

  flush(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const chunk = this.pending.join('');
      this.pending = [];
      try {
        await appendFile(this.o.path, chunk);
        if (this.failing) {
          this.failing = false;
          this.o.onRecovered?.(`${this.description}: writing again`);
        }
      } catch (e) {
        if (!this.failing) {
          this.failing = true;
          this.o.onError?.(
            new LoggingError(
              'FILE_WRITE',
              this.description,
              `${this.description}: ${(e as Error).message} (its lines are lost until it can be written)`,
              { cause: e },
            ),
          );
        }
      }
    }
    this.writing = undefined;
  }
}

// ---------------------------------------------------------------------------
// What the files ask (pure)

export type LogTarget =
  | { kind: 'syslog'; facility: number; facilityName: string; tag: 'heartbeat' | 'ldirectord' }
  | { kind: 'file'; path: string; format: 'heartbeat' | 'ldirectord' };

/** Where each source's lines go, besides stdout. */
export interface LogPlan {
  heartbeat: LogTarget[];
  ldirectord: LogTarget[];
  /** ldirectord.cf's name in its file lines (ldirectord's CFGNAME: the file's base name). */
  ldirectordConfig: string;
  /** Settings that could not be followed, one sentence each (a facility that is no facility…). */
  problems: string[];
}

/** ldirectord.cf's `logfile`: a path (it begins with /), else a syslog facility, as ldirectord reads it. */
export function ldirectordLogTargets(logfile: string | undefined, problems: string[]): LogTarget[] {
  if (logfile === undefined || logfile === '') return [];
  if (logfile.startsWith('/')) return [{ kind: 'file', path: logfile, format: 'ldirectord' }];
  const facility = syslogFacility(logfile);
  if (facility === undefined) {
    problems.push(`ldirectord.cf logfile "${logfile}" is neither a path nor a syslog facility`);
    return [];
  }
  return [{ kind: 'syslog', facility, facilityName: logfile.toLowerCase(), tag: 'ldirectord' }];
}

/**
 * What ha.cf and ldirectord.cf ask for `lvs-ha start`. Heartbeat's lines:
 * `logfacility` (syslog, tag heartbeat; `none` is none), `logfile`, and
 * `debugfile`, which gets every line (the Director's too: the whole story in
 * one file). ldirectord's: its `logfile`. Only what the files say: with none
 * of them, lines go to stdout alone (Heartbeat would use ha_logd's defaults,
 * ldirectord /var/log/ldirectord.log; under systemd journald has stdout).
 */
export function nodeLogPlan(config: Pick<ConfigDir, 'haCf' | 'ldirectord'>): LogPlan {
  const problems: string[] = [];
  const other = config.haCf?.value.settings.other ?? {};
  const heartbeat: LogTarget[] = [];
  const facilityName = other['logfacility'];
  if (facilityName !== undefined && facilityName.toLowerCase() !== 'none') {
    const facility = syslogFacility(facilityName);
    if (facility === undefined) problems.push(`ha.cf logfacility "${facilityName}" is not a syslog facility`);
    else
      heartbeat.push({
        kind: 'syslog',
        facility,
        facilityName: facilityName.toLowerCase(),
        tag: 'heartbeat',
      });
  }
  if (other['logfile']) heartbeat.push({ kind: 'file', path: other['logfile'], format: 'heartbeat' });
  const debugfile = other['debugfile'];
  const ldirectord = ldirectordLogTargets(config.ldirectord?.value.settings.logfile?.value, problems);
  if (debugfile) {
    const t: LogTarget = { kind: 'file', path: debugfile, format: 'heartbeat' };
    heartbeat.push(t);
    ldirectord.push(t);
  }
  return {
    heartbeat,
    ldirectord,
    ldirectordConfig: basename(config.ldirectord?.file ?? 'ldirectord.cf'),
    problems,
  };
}

/** In words, for `lvs-ha check`: "syslog local0 (tag heartbeat)", "file /var/log/ha-log". */
export function describeTarget(t: LogTarget): string {
  return t.kind === 'syslog' ? `syslog ${t.facilityName} (tag ${t.tag})` : `file ${t.path}`;
}

// ---------------------------------------------------------------------------
// The logger

export interface LoggerOptions extends DestinationOptions {
  /** Every line as said, first (stdout). */
  echo?: (line: string) => void;
  /** Where each source's lines go. */
  routes: Partial<Record<LogSource, LogDestination[]>>;
  /** Every line is this source's (lvs-ha director); default: sourceOfLine(). */
  source?: LogSource;
  now?: () => Date;
}

export class Logger {
  private readonly destinations: LogDestination[];

  constructor(private readonly o: LoggerOptions) {
    this.destinations = [...new Set(Object.values(o.routes).flat())];
  }

  /** What the lines are written to besides stdout. */
  describe(): string[] {
    return this.destinations.map((d) => d.description);
  }

  /** Says one line (or several, split at newlines). Never throws. */
  readonly line = (text: string): void => {
    try {
      this.o.echo?.(`${text}\n`);
    } catch {
      // stdout gone (EPIPE is handled by the CLI): the other destinations still get it
    }
    try {
      const date = this.o.now?.() ?? new Date();
      let level: LogLevel | undefined;
      for (const part of text.split(/\r?\n/)) {
        if (part === '') continue;
        level ??= levelOfLine(part); // a continuation line keeps the first line's level
        const source = this.o.source ?? sourceOfLine(text);
        const r: LogRecord = { date, source, level, line: part };
        for (const d of this.o.routes[source] ?? []) d.write(r);
      }
    } catch (e) {
      this.o.onError?.(
        e instanceof LoggingError
          ? e
          : new LoggingError('BAD_DESTINATION', 'logger', String(e), { cause: e }),
      );
    }
  };

  flush(): Promise<void> {
    return Promise.all(this.destinations.map((d) => d.flush().catch(() => undefined))).then(() => undefined);
  }

  close(): Promise<void> {
    return Promise.all(this.destinations.map((d) => d.close().catch(() => undefined))).then(() => undefined);
  }
}

export interface BuildOptions extends DestinationOptions {
  /** The syslog socket (default LVS_HA_SYSLOG_SOCKET from the environment, else /dev/log). */
  syslogPath?: string;
  /** The node name in Heartbeat's file lines (default the host name). */
  host?: string;
  pid?: number;
  now?: () => Date;
  echo?: (line: string) => void;
}

/** The destinations of a plan, built (one per file or socket, shared by the sources that go there). */
export function loggerFromPlan(plan: LogPlan, options: BuildOptions & { source?: LogSource } = {}): Logger {
  const pid = options.pid ?? process.pid;
  const host = options.host ?? hostname();
  const path = options.syslogPath ?? process.env['LVS_HA_SYSLOG_SOCKET'] ?? DEFAULT_SYSLOG_SOCKET;
  const built = new Map<string, LogDestination>();
  const handlers = {
    ...(options.onError && { onError: options.onError }),
    ...(options.onRecovered && { onRecovered: options.onRecovered }),
  };
  const build = (t: LogTarget): LogDestination => {
    const key = t.kind === 'syslog' ? `syslog ${t.tag} ${t.facility}` : `file ${t.path}`;
    let d = built.get(key);
    if (d) return d;
    if (t.kind === 'syslog')
      d = new SyslogClient({
        ...handlers,
        facility: t.facility,
        facilityName: t.facilityName,
        tag: t.tag,
        path,
        pid,
        // Heartbeat sends its level word in the message; ldirectord the bare line
        ...(t.tag === 'heartbeat' && { message: (r: LogRecord) => heartbeatMessage(r.level, r.line) }),
      });
    else
      d = new LogFile({
        ...handlers,
        path: t.path,
        format:
          t.format === 'heartbeat'
            ? (r) => formatHeartbeatLine({ ...r, host, pid })
            : (r) => formatLdirectordLine({ ...r, config: plan.ldirectordConfig, pid }),
      });
    built.set(key, d);
    return d;
  };
  for (const p of plan.problems) options.onError?.(new LoggingError('BAD_DESTINATION', 'configuration', p));
  return new Logger({
    ...handlers,
    routes: { heartbeat: plan.heartbeat.map(build), ldirectord: plan.ldirectord.map(build) },
    ...(options.source && { source: options.source }),
    ...(options.now && { now: options.now }),
    ...(options.echo && { echo: options.echo }),
  });
}

const toStderr = (io: CliIo) => ({
  onError: (e: LoggingError) => io.stderr(`lvs-ha: log: ${e.message}\n`),
  onRecovered: (m: string) => io.stderr(`lvs-ha: log: ${m}\n`),
});

/**
 * `lvs-ha start`'s logger: every line of the ClusterNode on stdout, and to
 * what ha.cf and ldirectord.cf ask (nodeLogPlan). `logger.line` is the
 * 'log' listener.
 */
export function nodeLogger(
  config: Pick<ConfigDir, 'haCf' | 'ldirectord'>,
  io: CliIo,
  options: BuildOptions = {},
): Logger {
  return loggerFromPlan(nodeLogPlan(config), { echo: io.stdout, ...toStderr(io), ...options });
}

/** `lvs-ha director`'s logger: every line is ldirectord's, to the file's `logfile` (a path or a facility). */
export function directorLogger(
  file: string,
  logfile: string | undefined,
  io: CliIo,
  options: BuildOptions = {},
): Logger {
  const problems: string[] = [];
  const ldirectord = ldirectordLogTargets(logfile, problems);
  const plan: LogPlan = { heartbeat: [], ldirectord, ldirectordConfig: basename(file), problems };
  return loggerFromPlan(plan, { ...toStderr(io), ...options, source: 'ldirectord' });
}

/**
 * A CliIo that writes through as before and also gives each complete line
 * (stdout and stderr alike) to `logger` — for `lvs-ha director`, whose every
 * line is an event of ldirectord's.
 */
export function teeIo(io: CliIo, logger: Logger): CliIo {
  const tee = (write: (s: string) => void) => {
    let partial = '';
    return (s: string) => {
      write(s);
      partial += s;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l !== '') logger.line(l);
    };
  };
  return { stdout: tee(io.stdout), stderr: tee(io.stderr) };
}
