import { connect as netConnect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import type { CheckOptions, CheckReason, CheckResult, CheckTarget } from '../check.js';

/** The ldirectord.cf fields the negotiate services read beyond CheckOptions. */
export interface ServiceOptions extends CheckOptions {
  /** ftp, imap, pop, ldap, mysql, pgsql, radius, sip: the user name. */
  login?: string;
  passwd?: string;
  /** mysql, pgsql: the database to connect to. */
  database?: string;
  /** radius: the shared secret. */
  secret?: string;
  /** The virtual service's protocol: dns and sip talk UDP when it is udp. */
  protocol?: 'tcp' | 'udp' | 'fwm';
}

const DETAIL_BYTES = 200;

/** Thrown inside a service conversation to end it with a reason. */
export class CheckFailure extends Error {
  constructor(
    readonly reason: CheckReason,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'CheckFailure';
  }
}

/** Maps a socket or client-library error to the reason an operator reads. */
export function classifyError(err: unknown): CheckReason {
  const e = err as NodeJS.ErrnoException & { errno?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  // A handshake cut short (reset, or plain text where TLS was expected), as
  // client libraries rethrow it: a TLS problem rather than a refusal.
  if (/SSL routines|wrong version number|before secure TLS connection/i.test(String(e?.message)))
    return 'tls';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'EPIPE':
      return 'refused';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    case 'ETIMEDOUT':
    case 'PROTOCOL_SEQUENCE_TIMEOUT':
      return 'timeout';
    default:
      if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return 'tls';
      return 'error';
  }
}

/** ldirectord's default identity: ldirectord@<hostname>. */
export function ldirectordIdentity(): string {
  return `ldirectord@${hostname()}`;
}

/** A deadline shared by every step of one check (ldirectord's alarm()). */
export interface Deadline {
  signal: AbortSignal;
  /** True when the check's own timer fired (as opposed to the caller aborting). */
  expired(): boolean;
}

/**
 * Runs one service conversation under a single timer. `body` returns the
 * detail of a healthy answer or throws a CheckFailure; any other error is
 * classified. When the timer fires first the result is a timeout carrying
 * whatever the body reported as seen so far.
 */
export async function runService(
  options: { timeout?: number },
  signal: AbortSignal | undefined,
  body: (deadline: Deadline, seen: (text: string) => void) => Promise<string>,
): Promise<CheckResult> {
  const start = performance.now();
  const ctl = new AbortController();
  let expired = false;
  let lastSeen = '';
  const timer = setTimeout(
    () => {
      expired = true;
      ctl.abort(new CheckFailure('timeout', lastSeen));
    },
    (options.timeout ?? 5) * 1000,
  );
  const onAbort = () => ctl.abort(new CheckFailure('error', 'aborted'));
  signal?.addEventListener('abort', onAbort);
  if (signal?.aborted) onAbort();
  const done = (r: { ok: boolean; reason?: CheckReason; detail: string }): CheckResult => ({
    ...r,
    detail: r.detail.slice(0, DETAIL_BYTES),
    durationMs: performance.now() - start,
  });
  const aborted = new Promise<never>((_, reject) => {
    ctl.signal.addEventListener('abort', () => reject(ctl.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  try {
    const detail = await Promise.race([
      body({ signal: ctl.signal, expired: () => expired }, (t) => {
        lastSeen = t;
      }),
      aborted,
    ]);
    return done({ ok: true, detail });
  } catch (err) {
    if (expired) return done({ ok: false, reason: 'timeout', detail: lastSeen });
    if (err instanceof CheckFailure) return done({ ok: false, reason: err.reason, detail: err.detail });
    return done({ ok: false, reason: classifyError(err), detail: (err as Error)?.message ?? String(err) });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (!ctl.signal.aborted) ctl.abort(new CheckFailure('error', 'check finished'));
  }
}

/** Opens TCP (or TLS without verification, as ldirectord) and resolves once connected. */
export function openSocket(target: CheckTarget, tls: boolean, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock: Socket = tls
      ? tlsConnect({ host: target.host, port: target.port, rejectUnauthorized: false })
      : netConnect({ host: target.host, port: target.port });
    const onAbort = () => {
      sock.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    sock.once(tls ? 'secureConnect' : 'connect', () => {
      sock.removeAllListeners('error');
      sock.on('error', () => {});
      resolve(sock);
    });
    let tcpUp = false;
    if (tls) sock.once('connect', () => (tcpUp = true));
    sock.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      // Failing after the TCP connection and before the handshake completed is a TLS failure.
      if (tls && (tcpUp || err.code === undefined)) reject(new CheckFailure('tls', err.message));
      else reject(err);
    });
  });
}

/**
 * A line-oriented conversation (FTP, SMTP, POP3, IMAP, NNTP, SIP over TCP):
 * text in, text out, every read bounded by the check's deadline.
 */
export class TextSession {
  private buf = '';
  private closed = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  /** Everything received so far, for the detail of a failure. */
  transcript = '';

  private constructor(
    readonly socket: Socket,
    private readonly signal: AbortSignal,
    private readonly seen: (text: string) => void,
  ) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
      if (this.transcript.length < DETAIL_BYTES) this.transcript += d;
      seen(this.transcript);
      this.wake?.();
    });
    socket.on('end', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', (err) => {
      this.error = err;
      this.closed = true;
      this.wake?.();
    });
    signal.addEventListener('abort', () => {
      socket.destroy();
      this.wake?.();
    });
  }

  static async open(
    target: CheckTarget,
    o: { tls: boolean; signal: AbortSignal; seen: (text: string) => void },
  ): Promise<TextSession> {
    return new TextSession(await openSocket(target, o.tls, o.signal), o.signal, o.seen);
  }

  /**
   * Waits until `take(buffer)` returns how many characters form a complete
   * unit (or -1 for "not yet"), removes and returns them.
   */
  async read(take: (buf: string) => number): Promise<string> {
    for (;;) {
      const n = take(this.buf);
      if (n >= 0) {
        const out = this.buf.slice(0, n);
        this.buf = this.buf.slice(n);
        return out;
      }
      if (this.signal.aborted) throw this.signal.reason;
      if (this.error) throw this.error;
      if (this.closed) throw new CheckFailure('bad-response', `connection closed: ${this.transcript}`);
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }

  /** One line, without its CRLF. */
  async line(): Promise<string> {
    const l = await this.read((b) => {
      const i = b.indexOf('\n');
      return i < 0 ? -1 : i + 1;
    });
    return l.replace(/\r?\n$/, '');
  }

  /** A numbered reply (FTP, SMTP, NNTP): "250-..." lines up to "250 ...". */
  async reply(): Promise<{ code: number; text: string }> {
    let text = '';
    for (;;) {
      const l = await this.line();
      text += `${l}\n`;
      const m = /^(\d{3})([ -]?)/.exec(l);
      if (!m) throw new CheckFailure('bad-response', text);
      if (m[2] !== '-') return { code: Number(m[1]), text };
    }
  }

  /** Reads until the peer closes (data connections). */
  async rest(): Promise<string> {
    return this.read((b) => (this.closed && !this.error ? b.length : -1));
  }

  write(text: string): void {
    if (!this.socket.destroyed) this.socket.write(text);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `receive` as ldirectord uses it: a regular expression; unset matches anything. */
export function receiveMatches(text: string, receive: string | undefined): boolean {
  if (receive === undefined || receive === '') return true;
  return new RegExp(receive).test(text);
}
