// systemd's notify protocol (sd_notify(3), sd_watchdog_enabled(3)) without
// libsystemd: a service started with Type=notify finds in NOTIFY_SOCKET the
// AF_UNIX datagram socket of its manager (an absolute path, or '@' for a
// name in the abstract namespace) and sends it newline-separated
// VARIABLE=value lines. Node's dgram has no AF_UNIX, so the datagram goes
// through @lvs-ha/sys's libc: socket, sendto, close — one socket per
// message, as sd_notify does.
//
// The watchdog is the point of this module: WATCHDOG=1 is sent by a timer
// of the thread that calls startWatchdog() (lvs-ha start calls it on the
// main thread). When that thread hangs, its timers stop, the pings stop, and
// systemd kills the service after WatchdogSec and starts it again — the
// heartbeat thread, which keeps running beside a hung main thread, must not
// be the one that pings.

import type { ClusterStatus } from '@lvs-ha/cluster';
import {
  AF_UNIX,
  errnoName,
  libc,
  MSG_DONTWAIT,
  MSG_NOSIGNAL,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  sockaddrUn,
  sockaddrUnAbstract,
} from '@lvs-ha/sys';

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type SystemdErrorCode = 'BAD_NOTIFY_SOCKET' | 'BAD_NOTIFY_STATE' | 'NOTIFY_SEND';

export class SystemdError extends Error {
  override name = 'SystemdError';
  readonly code: SystemdErrorCode;
  constructor(code: SystemdErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** NOTIFY_SOCKET is neither an absolute path nor '@name' (systemd 254's vsock: addresses included). */
export class BadNotifySocketError extends SystemdError {
  override name = 'BadNotifySocketError';
  constructor(
    readonly socket: string,
    options?: { cause?: unknown },
  ) {
    super(
      'BAD_NOTIFY_SOCKET',
      `NOTIFY_SOCKET=${JSON.stringify(socket)} is neither an absolute path nor @name (an AF_UNIX socket)`,
      options,
    );
  }
}

/** A state systemd would misread: an empty message, a variable name that is not VARIABLE, a value with a newline. */
export class BadNotifyStateError extends SystemdError {
  override name = 'BadNotifyStateError';
  constructor(message: string) {
    super('BAD_NOTIFY_STATE', message);
  }
}

/** The datagram could not be sent (the manager's socket gone, full, refused…): errno as its name. */
export class NotifySendError extends SystemdError {
  override name = 'NotifySendError';
  constructor(
    readonly socket: string,
    readonly errno: string,
  ) {
    super('NOTIFY_SEND', `sd_notify to ${socket}: ${errno}`);
  }
}

/** What sd_notify sends: one VARIABLE=value per line (a string is sent as it is). */
export type NotifyState = Readonly<Record<string, string | number>> | string;

const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

/** The datagram's text for `state`; throws BadNotifyStateError for what systemd would misread. */
export function formatNotifyState(state: NotifyState): string {
  if (typeof state === 'string') {
    if (state.length === 0) throw new BadNotifyStateError('an empty notification');
    return state;
  }
  const lines = Object.entries(state).map(([k, v]) => {
    const value = String(v);
    if (!VARIABLE.test(k)) throw new BadNotifyStateError(`not a notification variable: ${JSON.stringify(k)}`);
    if (value.includes('\n')) throw new BadNotifyStateError(`${k}= holds a newline`);
    return `${k}=${value}`;
  });
  if (lines.length === 0) throw new BadNotifyStateError('an empty notification');
  return lines.join('\n');
}

/** struct sockaddr_un for NOTIFY_SOCKET's value; throws BadNotifySocketError. */
function notifyAddress(socket: string): Uint8Array {
  try {
    if (socket.startsWith('@')) return sockaddrUnAbstract(socket.slice(1));
    if (socket.startsWith('/')) return sockaddrUn(socket);
  } catch (e) {
    throw new BadNotifySocketError(socket, { cause: e });
  }
  throw new BadNotifySocketError(socket);
}

/**
 * sd_notify(0, state) to `socket` (default: NOTIFY_SOCKET). false when
 * there is no socket (not started by systemd as Type=notify); true once the
 * datagram is sent. Never blocks: a manager whose queue is full makes it
 * throw NotifySendError (EAGAIN) rather than hold the event loop. Throws
 * BadNotifySocketError, BadNotifyStateError, and @lvs-ha/sys's
 * LibcUnavailableError where koffi cannot load.
 */
export function notify(state: NotifyState, socket: string | undefined = process.env.NOTIFY_SOCKET): boolean {
  if (!socket) return false;
  const addr = notifyAddress(socket);
  const text = new TextEncoder().encode(formatNotifyState(state));
  const c = libc();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new NotifySendError(socket, errnoName(c.errno()));
  try {
    const n = c.sendto(fd, text, text.length, MSG_NOSIGNAL | MSG_DONTWAIT, addr, addr.length);
    if (n < 0) throw new NotifySendError(socket, errnoName(c.errno()));
    return true;
  } finally {
    c.close(fd);
  }
}

/**
 * sd_watchdog_enabled(): the watchdog's timeout in microseconds when
 * WATCHDOG_USEC is a positive integer and WATCHDOG_PID is unset or names
 * `pid` (a watchdog meant for our parent is not ours); else undefined.
 */
export function watchdogUsec(
  env: Readonly<Record<string, string | undefined>> = process.env,
  pid: number = process.pid,
): number | undefined {
  const usec = env.WATCHDOG_USEC;
  if (!usec || !/^[0-9]+$/.test(usec) || Number(usec) <= 0 || !Number.isSafeInteger(Number(usec)))
    return undefined;
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '' && Number(wpid) !== pid) return undefined;
  return Number(usec);
}

/** watchdogUsec() in milliseconds (what timers take), undefined when there is no watchdog for us. */
export function watchdogInterval(
  env: Readonly<Record<string, string | undefined>> = process.env,
  pid: number = process.pid,
): number | undefined {
  const usec = watchdogUsec(env, pid);
  return usec === undefined ? undefined : usec / 1000;
}

/** CLOCK_MONOTONIC in microseconds (libuv's hrtime is CLOCK_MONOTONIC on Linux), as RELOADING=1 carries it. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

export interface SystemdNotifierOptions {
  /** NOTIFY_SOCKET's value; none: every notification is a no-op returning false. */
  socket?: string | undefined;
  /** WATCHDOG_USEC as watchdogUsec() read it; none: startWatchdog() does nothing. */
  watchdogUsec?: number | undefined;
  /**
   * Where a notification that fails goes (a bad NOTIFY_SOCKET, a send
   * refused): with it, the notifier never throws — a service goes on doing
   * its job, and says why systemd did not hear it. Without it, they throw.
   */
  onError?: ((e: unknown) => void) | undefined;
}

/** The environment variables a service manager passes that must not reach our children. */
export const SYSTEMD_NOTIFY_ENVIRONMENT = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;

/**
 * The notifications of one service process. Made with fromEnvironment(),
 * which (as sd_notify's unset_environment) takes NOTIFY_SOCKET, WATCHDOG_USEC
 * and WATCHDOG_PID out of process.env: the resource scripts and checks we
 * spawn inherit process.env, and a daemon an init.d script starts must not
 * send READY=1 or MAINPID= in our name, nor think our watchdog is its own.
 */
export class SystemdNotifier {
  readonly socket: string | undefined;
  readonly watchdogUsec: number | undefined;
  readonly #onError: ((e: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastStatus: string | undefined;

  constructor(options: SystemdNotifierOptions = {}) {
    this.#onError = options.onError;
    let socket = options.socket || undefined;
    if (socket) {
      try {
        notifyAddress(socket); // a bad one is said now, not at READY=1
      } catch (e) {
        if (!this.#onError) throw e;
        this.#onError(e);
        socket = undefined;
      }
    }
    this.socket = socket;
    this.watchdogUsec = socket ? options.watchdogUsec : undefined;
  }

  /**
   * Reads NOTIFY_SOCKET and the watchdog from `env` and, with `unset`
   * (default), deletes the three variables from it. Throws
   * BadNotifySocketError for a NOTIFY_SOCKET that is not an AF_UNIX address
   * (the variables are deleted first all the same).
   */
  static fromEnvironment(
    env: Record<string, string | undefined> = process.env,
    {
      unset = true,
      pid = process.pid,
      onError,
    }: { unset?: boolean; pid?: number; onError?: (e: unknown) => void } = {},
  ): SystemdNotifier {
    const socket = env.NOTIFY_SOCKET;
    const usec = watchdogUsec(env, pid);
    if (unset) for (const name of SYSTEMD_NOTIFY_ENVIRONMENT) delete env[name];
    return new SystemdNotifier({ socket, watchdogUsec: usec, onError });
  }

  /** Started by systemd with a notify socket. */
  get enabled(): boolean {
    return this.socket !== undefined;
  }

  /** notify() to our socket: false without one (and, with onError, when it failed). */
  notify(state: NotifyState): boolean {
    if (!this.#onError) return notify(state, this.socket);
    try {
      return notify(state, this.socket);
    } catch (e) {
      this.#onError(e);
      return false;
    }
  }

  /** The watchdog timeout in milliseconds, undefined when systemd set none for us. */
  watchdogInterval(): number | undefined {
    return this.watchdogUsec === undefined ? undefined : this.watchdogUsec / 1000;
  }

  /**
   * WATCHDOG=1 now and every half of the timeout (sd_watchdog_enabled's
   * advice), from a timer of the calling thread: a thread that hangs stops
   * pinging, which is what makes systemd restart us. The timer does not keep
   * the process alive. A ping that cannot be sent is given to `onError` and
   * the next is tried on time. Returns whether a watchdog runs.
   */
  startWatchdog(onError: (e: unknown) => void = this.#onError ?? (() => {})): boolean {
    const ms = this.watchdogInterval();
    if (ms === undefined || this.#timer) return this.#timer !== undefined;
    const ping = () => {
      try {
        notify({ WATCHDOG: 1 }, this.socket);
      } catch (e) {
        onError(e);
      }
    };
    ping();
    this.#timer = setInterval(ping, Math.max(1, Math.floor(ms / 2)));
    this.#timer.unref();
    return true;
  }

  stopWatchdog(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** READY=1 (with STATUS= when given): start-up, or a reload, is complete. */
  ready(status?: string): boolean {
    if (status !== undefined) this.#lastStatus = status;
    return this.notify({ READY: 1, ...(status !== undefined && { STATUS: status }) });
  }

  /**
   * RELOADING=1 with MONOTONIC_USEC: systemd 253+ wants the timestamp to
   * match the reload to its READY=1 (Type=notify-reload); 252 ignores it and
   * shows the unit "reloading" until READY=1.
   */
  reloading(status?: string): boolean {
    if (status !== undefined) this.#lastStatus = status;
    return this.notify({
      RELOADING: 1,
      MONOTONIC_USEC: monotonicUsec().toString(),
      ...(status !== undefined && { STATUS: status }),
    });
  }

  /** STOPPING=1: the shutdown has begun (systemd shows "deactivating" and stops expecting READY). */
  stopping(status?: string): boolean {
    if (status !== undefined) this.#lastStatus = status;
    return this.notify({ STOPPING: 1, ...(status !== undefined && { STATUS: status }) });
  }

  /** STATUS=text, sent only when it differs from the last one sent (so a caller may call it on every event). */
  status(text: string): boolean {
    if (text === this.#lastStatus) return false;
    this.#lastStatus = text;
    return this.notify({ STATUS: text });
  }
}

/**
 * A node's state on one line, for STATUS= (what `systemctl status` shows):
 * this node, what it holds, its VIPs, each peer. E.g. "load1 active,
 * holding local (stable), VIPs 192.0.2.50/32; load2 dead".
 */
export function clusterStatusLine(s: ClusterStatus): string {
  const vips = s.vips.length > 0 ? `, VIPs ${s.vips.join(' ')}` : '';
  const peers = s.peers.map((p) => `; ${p.name} ${p.status}`).join('');
  return `${s.node} ${s.nodeStatus}, holding ${s.holding} (${s.state})${vips}${peers}`;
}
