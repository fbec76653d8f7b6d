// Connect checks for thousands of real servers at a time. A connect check
// through Node's net.Socket spends most of its user time on the stream
// machinery around one connect(): with 10,000 real servers at a 1 s interval
// that was more than a core. Here a check is what ldirectord's is in the
// kernel (socket, connect, wait, close) and almost nothing besides: a
// non-blocking socket from libc (through koffi), one epoll set for all
// checks in flight, polled while any is in flight every `tickMs`, and one
// deadline queue per timeout. The kernel's work per check is unchanged; the
// price is that a result is seen up to `tickMs` late, which nothing measured
// in seconds minds.
import type { CheckReason, CheckResult, CheckTarget } from './check.js';
import {
  AF_INET,
  AF_INET6,
  EINPROGRESS,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  EPOLLERR,
  EPOLLHUP,
  EPOLLOUT,
  errnoName,
  type Libc,
  libc,
  SO_ERROR,
  SO_LINGER,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_STREAM,
  SOL_SOCKET,
} from './libc.js';

const MAX_EVENTS = 1024;
const SOCKADDR_CACHE_LIMIT = 100_000;

export type ConnectDone = (r: CheckResult) => void;

interface InFlight {
  seq: number;
  start: number;
  reset: boolean;
  target: CheckTarget;
  done: ConnectDone;
}

/** Checks started with the same timeout end in the order they started: a FIFO is their deadline queue. */
class DeadlineQueue {
  fds: number[] = [];
  seqs: number[] = [];
  at: number[] = [];
  head = 0;
  push(fd: number, seq: number, at: number): void {
    this.fds.push(fd);
    this.seqs.push(seq);
    this.at.push(at);
  }
  compact(): void {
    if (this.head < 1024 || this.head * 2 < this.fds.length) return;
    this.fds.splice(0, this.head);
    this.seqs.splice(0, this.head);
    this.at.splice(0, this.head);
    this.head = 0;
  }
}

function classify(errno: number): CheckReason {
  const name = errnoName(errno);
  if (name === 'ECONNREFUSED' || name === 'ECONNRESET') return 'refused';
  if (name === 'EHOSTUNREACH' || name === 'ENETUNREACH') return 'unreachable';
  if (name === 'ETIMEDOUT') return 'timeout';
  return 'error';
}

/** TCP connect checks on raw non-blocking sockets; one per process (see `connector()`). */
export class Connector {
  private readonly ep: number;
  private readonly events = new Uint8Array(MAX_EVENTS * EPOLL_EVENT_SIZE);
  private readonly eventView: DataView;
  private readonly event = new Uint8Array(EPOLL_EVENT_SIZE);
  private readonly eventSet: DataView;
  private readonly soError = new Uint8Array(4);
  private readonly soErrorLen = new Uint8Array(4);
  /** struct linger { l_onoff = 1, l_linger = 0 }: close() sends a reset. */
  private readonly linger = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly byFd: (InFlight | undefined)[] = [];
  private readonly deadlines = new Map<number, DeadlineQueue>();
  private readonly sockaddrs = new Map<string, Uint8Array | null>();
  private readonly finished: [ConnectDone, CheckResult][] = [];
  private inFlight = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(
    private readonly c: Libc,
    /** Milliseconds between polls of the sockets in flight. */
    readonly tickMs = 5,
  ) {
    this.ep = c.epoll_create1(EPOLL_CLOEXEC);
    if (this.ep < 0) throw new Error(`epoll_create1: ${errnoName(c.errno())}`);
    this.eventView = new DataView(this.events.buffer);
    this.eventSet = new DataView(this.event.buffer);
    this.eventSet.setUint32(0, EPOLLOUT | EPOLLERR | EPOLLHUP, true);
    new DataView(this.soErrorLen.buffer).setUint32(0, 4, true);
  }

  /** sockaddr_in/sockaddr_in6 for an address literal, or null for a name or a zone (net.Socket handles those). */
  sockaddr(host: string, port: number): Uint8Array | null {
    const key = `${host} ${port}`;
    let sa = this.sockaddrs.get(key);
    if (sa !== undefined) return sa;
    sa = null;
    const v6 = host.includes(':');
    if (!host.includes('%')) {
      const buf = new Uint8Array(v6 ? 28 : 16);
      const view = new DataView(buf.buffer);
      view.setUint16(0, v6 ? AF_INET6 : AF_INET, true);
      view.setUint16(2, port, false);
      if (this.c.inet_pton(v6 ? AF_INET6 : AF_INET, host, buf.subarray(v6 ? 8 : 4)) === 1) sa = buf;
    }
    if (this.sockaddrs.size >= SOCKADDR_CACHE_LIMIT) this.sockaddrs.clear();
    this.sockaddrs.set(key, sa);
    return sa;
  }

  /**
   * Starts a connect check of `target`; `done` is called once, never before
   * this returns. Returns a handle for `cancel`, or undefined when the host
   * is not an address literal (the caller uses net.Socket).
   */
  start(target: CheckTarget, timeoutMs: number, reset: boolean, done: ConnectDone): number | undefined {
    const sa = this.sockaddr(target.host, target.port);
    if (!sa) return undefined;
    const c = this.c;
    const start = performance.now();
    const fd = c.socket(sa.length === 28 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      this.later(done, start, 'error', `socket: ${errnoName(c.errno())}`);
      return 0;
    }
    if (c.connect(fd, sa, sa.length) < 0) {
      const errno = c.errno();
      if (errno !== EINPROGRESS) {
        c.close(fd);
        this.later(done, start, classify(errno), `connect ${errnoName(errno)} ${target.host}:${target.port}`);
        return 0;
      }
    }
    this.eventSet.setInt32(EPOLL_DATA_OFFSET, fd, true);
    if (c.epoll_ctl(this.ep, EPOLL_CTL_ADD, fd, this.event) < 0) {
      const errno = c.errno();
      c.close(fd);
      this.later(done, start, 'error', `epoll_ctl: ${errnoName(errno)}`);
      return 0;
    }
    const seq = ++this.seq;
    this.byFd[fd] = { seq, start, reset, target, done };
    let q = this.deadlines.get(timeoutMs);
    if (!q) {
      q = new DeadlineQueue();
      this.deadlines.set(timeoutMs, q);
    }
    q.push(fd, seq, start + timeoutMs);
    this.inFlight++;
    this.schedule();
    return seq * 65536 + fd;
  }

  /** Ends a check in flight (its `done` gets 'aborted'); a finished one is left alone. */
  cancel(handle: number): void {
    const fd = handle % 65536;
    const f = this.byFd[fd];
    if (!f || f.seq !== Math.floor(handle / 65536)) return;
    this.end(fd, f, {
      ok: false,
      reason: 'error',
      detail: 'aborted',
      durationMs: performance.now() - f.start,
    });
    this.flush();
  }

  private later(done: ConnectDone, start: number, reason: CheckReason, detail: string): void {
    this.finished.push([done, { ok: false, reason, detail, durationMs: performance.now() - start }]);
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
  }

  private schedule(): void {
    if (this.timer === undefined && this.inFlight > 0) this.timer = setTimeout(this.tick, this.tickMs);
  }

  private end(fd: number, f: InFlight, r: CheckResult): void {
    if (f.reset) this.c.setsockopt(fd, SOL_SOCKET, SO_LINGER, this.linger, 8);
    this.c.close(fd); // also takes it out of the epoll set
    this.byFd[fd] = undefined;
    this.inFlight--;
    this.finished.push([f.done, r]);
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    const c = this.c;
    const now = performance.now();
    // What arrived first, then the deadlines: an answer that came during a stall is not a timeout.
    for (;;) {
      const n = c.epoll_wait(this.ep, this.events, MAX_EVENTS, 0);
      for (let i = 0; i < n; i++) {
        const fd = this.eventView.getInt32(i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET, true);
        const f = this.byFd[fd];
        if (!f) continue;
        c.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.soError, this.soErrorLen);
        const errno = this.soError[0]! | (this.soError[1]! << 8);
        const durationMs = now - f.start;
        this.end(
          fd,
          f,
          errno === 0
            ? { ok: true, detail: '', durationMs }
            : {
                ok: false,
                reason: classify(errno),
                detail: `connect ${errnoName(errno)} ${f.target.host}:${f.target.port}`,
                durationMs,
              },
        );
      }
      if (n < MAX_EVENTS) break;
    }
    for (const [timeoutMs, q] of this.deadlines) {
      while (q.head < q.fds.length && (q.at[q.head] as number) <= now) {
        const fd = q.fds[q.head] as number;
        const f = this.byFd[fd];
        if (f && f.seq === q.seqs[q.head])
          this.end(fd, f, {
            ok: false,
            reason: 'timeout',
            detail: `no connection to ${f.target.host}:${f.target.port} within ${timeoutMs / 1000} s`,
            durationMs: now - f.start,
          });
        q.head++;
      }
      q.compact();
    }
    this.flush();
    this.schedule();
  };

  private flush(): void {
    // Called back after the bookkeeping, so a callback may start the next check at once.
    const list = this.finished.splice(0);
    for (const [done, r] of list) done(r);
  }
}

let shared: Connector | string | undefined;

/** The process's Connector, or why there is none (no koffi or glibc: connect checks use net.Socket). */
export function connector(): Connector | string {
  if (shared === undefined) {
    const c = libc();
    try {
      shared = typeof c === 'string' ? c : new Connector(c);
    } catch (e) {
      shared = (e as Error).message;
    }
  }
  return shared;
}
