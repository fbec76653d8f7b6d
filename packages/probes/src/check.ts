import { spawn } from 'node:child_process';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type Connector, connector, type ExchangeResult } from './connector.js';

/** Why a check failed, in the words an operator reads in the log. */
export type CheckReason =
  | 'timeout'
  | 'refused'
  | 'bad-response'
  | 'tls'
  | 'unreachable'
  | 'error'
  /** A file in maintenancedir names the server: taken out without a check. */
  | 'maintenance';

export interface CheckResult {
  ok: boolean;
  reason?: CheckReason;
  /** First bytes the server sent (at most 200), or the error text. */
  detail: string;
  durationMs: number;
}

/** A real server as the checks see it: where to connect and what to ask. */
export interface CheckTarget {
  host: string;
  port: number;
}

export interface CheckOptions {
  /** Seconds; ldirectord's checktimeout (default 5). */
  timeout?: number;
  /** http/https: virtualhost sent as Host (defaults to the target host). */
  virtualhost?: string;
  httpmethod?: 'GET' | 'HEAD';
  /** http/https: the path; simpletcp: the bytes sent. */
  request?: string;
  /** A regular expression the response must match (ldirectord: receive). */
  receive?: string;
  /** external: the checkcommand and the virtual service it checks. */
  checkcommand?: string;
  /**
   * external: the virtual service, passed as the first two arguments. For a
   * firewall-mark service ldirectord passes the mark and port 0:
   * `{ host: '7', port: 0 }`.
   */
  virtual?: CheckTarget;
  /** external-perl: run checkcommand with perl (ldirectord evaluates it inside its own perl). */
  perl?: boolean;
  /** Port the check connects to instead of the real server's (ldirectord: checkport; not used by external checks). */
  checkport?: number;
  /** ping: echo requests per check (ldirectord: checkcount). */
  checkcount?: number;
  /**
   * connect: end the connection with a TCP reset instead of a FIN (as
   * HAProxy's checks do): no TIME_WAIT left on the director and less kernel
   * work per check, but the server sees ECONNRESET. Default false, as ldirectord.
   */
  reset?: boolean;
  /**
   * connect: a half-open check, as port scanners do it: a SYN, up on the
   * SYN-ACK, refused on a reset; our kernel resets the SYN-ACK, so no
   * connection is made and the real server's application sees nothing.
   * About half a connect's kernel work. Needs CAP_NET_RAW and an address
   * literal; otherwise a full connect. A host or network unreachable is a
   * timeout here (no ICMP is read). Default false, as ldirectord.
   */
  halfOpen?: boolean;
}

const DETAIL_BYTES = 200;

function now(): number {
  return performance.now();
}

function classify(err: NodeJS.ErrnoException): CheckReason {
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      if (err.code?.startsWith('ERR_SSL') || err.code?.startsWith('ERR_TLS')) return 'tls';
      return 'error';
  }
}

type ExchangeOptions = {
  tls: boolean;
  send?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  readUntilClose: boolean;
  reset?: boolean;
};

/**
 * Opens a connection (TLS when asked), optionally writes `send`, and collects
 * what the server says until it closes. One timer covers the whole exchange,
 * as ldirectord's alarm() does. Plain TCP to an address literal goes through
 * the Connector (no net.Socket); TLS and host names through Node's sockets.
 */
function exchange(target: CheckTarget, o: ExchangeOptions): Promise<ExchangeResult> {
  const c = o.tls || !o.readUntilClose || o.signal?.aborted ? 'not here' : connector();
  const p =
    typeof c === 'string'
      ? undefined
      : onConnector(c, o.signal, (done: (r: ExchangeResult) => void) =>
          c.exchange(target, Buffer.from(o.send ?? '', 'latin1'), o.timeoutMs, done),
        );
  return p ?? exchangeWithNet(target, o);
}

/**
 * A Connector call as a promise that an AbortSignal cancels; undefined when
 * the Connector declined (a host name: the caller uses net.Socket).
 */
function onConnector<R>(
  c: Connector,
  signal: AbortSignal | undefined,
  start: (done: (r: R) => void) => number | undefined,
): Promise<R> | undefined {
  let handle: number | undefined;
  const p = new Promise<R>((resolve) => {
    const onAbort = () => c.cancel(handle as number);
    handle = start((r) => {
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    });
    if (handle !== undefined) signal?.addEventListener('abort', onAbort);
  });
  return handle === undefined ? undefined : p;
}

function exchangeWithNet(target: CheckTarget, o: ExchangeOptions): Promise<ExchangeResult> {
  return new Promise((resolve) => {
    let done = false;
    const chunks: Buffer[] = [];
    const sock: Socket = o.tls
      ? tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false, servername: undefined })
      : netConnect({ host: target.host, port: target.port });
    const finish = (r: ExchangeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (o.reset && r.ok && !o.tls) (sock as Socket).resetAndDestroy();
      else sock.destroy();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, reason: 'error', detail: 'aborted' });
    // After a stall of the event loop (a busy or starved process) the timers
    // run before the poll phase delivers what already arrived: give the poll
    // phase one turn (setImmediate runs after it) before calling it a timeout.
    const timer = setTimeout(
      () =>
        setImmediate(() =>
          finish({
            ok: false,
            reason: 'timeout',
            detail: Buffer.concat(chunks).subarray(0, DETAIL_BYTES).toString('latin1'),
          }),
        ),
      o.timeoutMs,
    );
    o.signal?.addEventListener('abort', onAbort);
    if (o.signal?.aborted) onAbort();
    sock.once(o.tls ? 'secureConnect' : 'connect', () => {
      if (!o.readUntilClose) return finish({ ok: true, data: Buffer.alloc(0) });
      if (o.send !== undefined) sock.write(o.send);
    });
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish({ ok: true, data: Buffer.concat(chunks) }));
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const reason = o.tls && !sock.readable && err.code === undefined ? 'tls' : classify(err);
      finish({ ok: false, reason, detail: err.message });
    });
  });
}

function result(start: number, r: { ok: boolean; reason?: CheckReason; detail: string }): CheckResult {
  return { ...r, durationMs: now() - start };
}

/**
 * checktype = connect: a TCP connection is accepted within checktimeout.
 * Address literals go through the shared Connector (raw non-blocking
 * sockets, one epoll set); host names, zones, and systems without koffi or
 * glibc through net.Socket. Both close the same way (FIN, or RST with `reset`).
 */
export function checkConnect(
  target: CheckTarget,
  options: CheckOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  const timeoutMs = (options.timeout ?? 5) * 1000;
  const reset = options.reset ?? false;
  const c = connector();
  const p =
    typeof c === 'string' || signal?.aborted
      ? undefined
      : onConnector(c, signal, (done: (r: CheckResult) => void) =>
          c.start(target, timeoutMs, reset, done, options.halfOpen ?? false),
        );
  return p ?? connectWithNet(target, timeoutMs, reset, signal);
}

async function connectWithNet(
  target: CheckTarget,
  timeoutMs: number,
  reset: boolean,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = now();
  const r = await exchange(target, { tls: false, timeoutMs, signal, readUntilClose: false, reset });
  return result(start, r.ok ? { ok: true, detail: '' } : r);
}

function matches(data: Buffer, receive: string | undefined): boolean {
  if (receive === undefined) return true;
  return new RegExp(receive).test(data.toString('latin1'));
}

/**
 * service = http/https negotiate: an HTTP/1.0 request for `request`; up when
 * the status is 2xx and, if `receive` is set, the response matches it.
 * Certificates are not verified, as in ldirectord.
 */
export async function checkHttp(
  target: CheckTarget,
  options: CheckOptions & { tls?: boolean } = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = now();
  const path = options.request ?? '/';
  const host = options.virtualhost ?? target.host;
  const method = options.httpmethod ?? 'GET';
  const send = `${method} ${path.startsWith('/') ? path : `/${path}`} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: lvs-ha-probes\r\nConnection: close\r\n\r\n`;
  const r = await exchange(target, {
    tls: options.tls ?? false,
    send,
    timeoutMs: (options.timeout ?? 5) * 1000,
    signal,
    readUntilClose: true,
  });
  if (!r.ok) return result(start, r);
  const detail = r.data.subarray(0, DETAIL_BYTES).toString('latin1');
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(detail);
  if (!status?.[1]?.startsWith('2')) return result(start, { ok: false, reason: 'bad-response', detail });
  // HEAD has no body: match the headers; GET matches the body, like ldirectord.
  const sep = r.data.indexOf('\r\n\r\n');
  const body = method === 'HEAD' || sep < 0 ? r.data : r.data.subarray(sep + 4);
  if (!matches(body, options.receive)) return result(start, { ok: false, reason: 'bad-response', detail });
  return result(start, { ok: true, detail });
}

/** service = simpletcp: send `request`, the answer must match `receive`. */
export async function checkSimpleTcp(
  target: CheckTarget,
  options: CheckOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = now();
  const r = await exchange(target, {
    tls: false,
    send: options.request ?? '',
    timeoutMs: (options.timeout ?? 5) * 1000,
    signal,
    readUntilClose: true,
  });
  if (!r.ok) return result(start, r);
  const detail = r.data.subarray(0, DETAIL_BYTES).toString('latin1');
  return result(
    start,
    matches(r.data, options.receive) ? { ok: true, detail } : { ok: false, reason: 'bad-response', detail },
  );
}

/**
 * checktype = external (and external-perl with `perl: true`): run
 * checkcommand as ldirectord's check_external does: four arguments (virtual
 * IP or firewall mark, virtual port, real IP, real port), ldirectord's own
 * environment inherited unchanged (ldirectord adds nothing but PERLIO=perlio
 * when unset, set at its start and so seen by every check it runs), exit
 * status 0 means up. At the timeout (checktimeout) the check is down at once
 * and the command gets SIGTERM as in ldirectord's system_timeout, then
 * SIGKILL 2 s later if it is still there.
 */
export function checkExternal(
  target: CheckTarget,
  options: CheckOptions = {},
  signal?: AbortSignal,
): Promise<CheckResult> {
  const start = now();
  const cmd = options.checkcommand;
  if (!cmd) return Promise.resolve(result(start, { ok: false, reason: 'error', detail: 'no checkcommand' }));
  const v = options.virtual ?? target;
  const args = [v.host, String(v.port), target.host, String(target.port)];
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: { ok: boolean; reason?: CheckReason; detail: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result(start, r));
    };
    const child = spawn(options.perl ? 'perl' : cmd, options.perl ? [cmd, ...args] : args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PERLIO: process.env.PERLIO ?? 'perlio' },
    });
    const stop = () => {
      child.kill('SIGTERM');
      const k = setTimeout(() => child.kill('SIGKILL'), 2000);
      k.unref();
      child.once('close', () => clearTimeout(k));
    };
    const onAbort = () => {
      stop();
      settle({ ok: false, reason: 'error', detail: 'aborted' });
    };
    signal?.addEventListener('abort', onAbort);
    const timer = setTimeout(
      () => {
        stop();
        settle({
          ok: false,
          reason: 'timeout',
          detail: `${cmd} still running after ${options.timeout ?? 5} s: ${out}`,
        });
      },
      (options.timeout ?? 5) * 1000,
    );
    let out = '';
    const collect = (c: Buffer) => {
      if (out.length < DETAIL_BYTES) out += c.toString('latin1');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => settle({ ok: false, reason: 'error', detail: `${cmd}: ${err.message}` }));
    child.on('close', (code, sig) => {
      if (code === 0) return settle({ ok: true, detail: out.slice(0, DETAIL_BYTES) });
      settle({
        ok: false,
        reason: 'bad-response',
        detail: `exit ${code ?? sig}: ${out}`.slice(0, DETAIL_BYTES),
      });
    });
    if (signal?.aborted) onAbort();
  });
}

/** checktype = on/off: the server is always up / always down. */
export function checkFixed(up: boolean): CheckResult {
  return up
    ? { ok: true, detail: '', durationMs: 0 }
    : { ok: false, reason: 'error', detail: 'checktype off', durationMs: 0 };
}
