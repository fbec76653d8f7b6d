// Connect checks for thousands of real servers at a time. A connect check
// through Node's net.Socket spends most of its user time on the stream
// machinery around one connect(): with 10,000 real servers at a 1 s interval
// that was more than a core. Here a check is what ldirectord's is in the
// kernel (socket, connect, wait, close) and almost nothing besides: a
// non-blocking socket from libc (through koffi), one epoll set for all
// checks in flight, polled while any is in flight every `tickMs`, and one
// deadline queue per timeout. The price is that a result is seen up to
// `tickMs` late, which nothing measured in seconds minds.
//
// Half-open checks (`halfOpen`) go further, as port scanners do: a SYN sent
// on a raw socket, up on the SYN-ACK, refused on the RST. Our kernel has no
// socket for the reply and answers the SYN-ACK with a reset, so neither side
// builds a connection: about half the kernel work of a connect and nothing
// for the real server's application to accept or log. Needs CAP_NET_RAW;
// without it the check is a full connect.

import { AF_INET, AF_INET6 } from '@lvs-ha/ip';
import {
  EAGAIN,
  EINPROGRESS,
  EPOLL_CLOEXEC,
  EPOLL_CTL_ADD,
  EPOLL_CTL_MOD,
  EPOLL_DATA_OFFSET,
  EPOLL_EVENT_SIZE,
  EPOLLERR,
  EPOLLHUP,
  EPOLLIN,
  EPOLLOUT,
  errnoName,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPV6_CHECKSUM,
  IPV6_V6ONLY,
  type Libc,
  libc,
  MSG_DONTWAIT,
  SO_ERROR,
  SO_LINGER,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOCK_STREAM,
  SOL_SOCKET,
} from '@lvs-ha/sys';
import type { CheckReason, CheckResult, CheckTarget } from './check.js';

const MAX_EVENTS = 1024;
const PEER_CACHE_LIMIT = 100_000;
/**
 * How long an IPv4 source address (for the SYN's checksum) is trusted before
 * the route is asked again; it is also asked again before a retransmission
 * and after a timeout, so a changed route costs one unanswered SYN.
 */
const SOURCE_TTL_MS = 30_000;
/** SYNs are sent again at 1, 3, 7, 15, 31 s, as Linux retransmits a connect's SYN. */
const SYN_RETRANSMIT_MS = [1000, 3000, 7000, 15_000, 31_000];
const SLOTS = 65536;
const HALF_OPEN_CODE = 2 ** 21;
const HANDLE_SEQ = 2 ** 22;
const RAW_RCVBUF = 4 << 20;
/** Where the address is in a sockaddr_in (4) and a sockaddr_in6 (6). */
const ADDR_OFFSET = { 4: 4, 6: 8 } as const;
/** Peers' sockaddrs per shared buffer. */
const SA_CHUNK = 28 * 1024;

/** Copies the peer's sockaddr into `to` (28 bytes at least); returns its length. */
function copySockaddr(peer: Peer, to: Uint8Array): number {
  const c = peer.saChunk;
  const at = peer.saAt;
  for (let i = 0; i < peer.saLen; i++) to[i] = c[at + i] as number;
  return peer.saLen;
}

export type ConnectDone = (r: CheckResult) => void;

/** What a connection said before the server closed it, or why there is nothing. */
export type ExchangeResult = { ok: true; data: Buffer } | { ok: false; reason: CheckReason; detail: string };
export type ExchangeDone = (r: ExchangeResult) => void;

/** A connection that sends a request and reads the answer until the server closes (HTTP/1.0, simpletcp). */
interface Exchange {
  send: Uint8Array;
  sent: number;
  connected: boolean;
  chunks: Buffer[];
  done: ExchangeDone;
}

/** A real server's address as the sockets want it, computed once. */
export interface Peer {
  host: string;
  port: number;
  family: 4 | 6;
  /**
   * sockaddr_in/sockaddr_in6 with the port, for connect(): `saLen` bytes at
   * `saAt` in `saChunk`, a buffer shared by many peers (copied into a
   * scratch buffer for each call, see copySockaddr). The address bytes are
   * at ADDR_OFFSET[family] in it. A buffer of its own per peer was 200 bytes
   * (a typed array, its ArrayBuffer and backing store): 2 MB at 10,000
   * real servers.
   */
  saChunk: Uint8Array;
  saAt: number;
  saLen: 16 | 28;
  /** IPv4: the source address the route gives, its pseudo-header sum, and when it was asked. */
  pseudoSum: number;
  sourceAt: number;
}

interface InFlight {
  seq: number;
  start: number;
  reset: boolean;
  peer: Peer;
  done: ConnectDone;
  /** Set when the connection carries a request (`exchange()`), not only a connect. */
  x?: Exchange;
}

/** Entries added with the same delay come due in the order they were added: a FIFO is their queue. */
class DueQueue {
  ids: number[] = [];
  seqs: number[] = [];
  at: number[] = [];
  head = 0;
  constructor(readonly delayMs: number) {}
  push(id: number, seq: number, at: number): void {
    this.ids.push(id);
    this.seqs.push(seq);
    this.at.push(at);
  }
  due(now: number): boolean {
    return this.head < this.ids.length && (this.at[this.head] as number) <= now;
  }
  compact(): void {
    if (this.head < 1024 || this.head * 2 < this.ids.length) return;
    this.ids.splice(0, this.head);
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

/** Internet checksum words of `b` (big-endian 16-bit), not folded. */
function sum16(b: Uint8Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i += 2) s += ((b[i] as number) << 8) | (b[i + 1] as number);
  return s;
}

/**
 * One address family's half-open machinery: a raw TCP socket that only sees
 * segments to our port (a BPF filter), the port itself held by a bound
 * TCP socket that never connects or listens (so no connection of ours takes
 * it, and the kernel resets every SYN-ACK that comes to it), and a slot per
 * SYN in flight, whose number is the low 16 bits of the SYN's sequence.
 */
class HalfOpen {
  readonly port: number;
  private readonly syn = new Uint8Array(24);
  private readonly synView = new DataView(this.syn.buffer);
  readonly peers: (Peer | undefined)[] = new Array(SLOTS);
  readonly isns = new Uint32Array(SLOTS);
  readonly seqs = new Int32Array(SLOTS);
  readonly starts = new Float64Array(SLOTS);
  readonly dones: (ConnectDone | undefined)[] = new Array(SLOTS);
  readonly deadlines = new Float64Array(SLOTS);
  private readonly free: number[] = [];
  private readonly rbuf = new Uint8Array(256);
  private readonly from = new Uint8Array(28);
  /** The destination of a SYN (see send()). */
  private readonly to = new Uint8Array(28);
  private readonly fromLen = new Uint8Array(4);
  private readonly fromLenView = new DataView(this.fromLen.buffer);

  private constructor(
    private readonly c: Libc,
    readonly family: 4 | 6,
    private readonly fd: number,
    /** The bound TCP socket that holds the port, open as long as the process. */
    readonly reserve: number,
    port: number,
  ) {
    this.port = port;
    for (let i = SLOTS - 1; i >= 0; i--) this.free.push(i);
    // The fixed part of every SYN: our port, data offset 6 words, SYN, a window, MSS 1460.
    this.synView.setUint16(0, port);
    this.syn[12] = 6 << 4;
    this.syn[13] = 0x02;
    this.synView.setUint16(14, 64240);
    this.syn.set([2, 4, 0x05, 0xb4], 20);
  }

  /** The machinery for `family`, or why it cannot be had (no CAP_NET_RAW, no IPv6). */
  static open(c: Libc, family: 4 | 6): HalfOpen | string {
    const af = family === 4 ? AF_INET : AF_INET6;
    const fd = c.socket(af, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) return `raw TCP socket: ${errnoName(c.errno())}`;
    const fail = (what: string, ...fds: number[]) => {
      const why = `${what}: ${errnoName(c.errno())}`;
      for (const x of fds) c.close(x);
      return why;
    };
    const reserve = c.socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (reserve < 0) return fail('socket', fd);
    const int = (v: number) => new Uint8Array(new Int32Array([v]).buffer);
    if (family === 6) {
      c.setsockopt(reserve, IPPROTO_IPV6, IPV6_V6ONLY, int(1), 4);
      // The kernel fills in the SYN's checksum (pseudo-header with the source it picks) and checks replies'.
      if (c.setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, int(16), 4) < 0)
        return fail('IPV6_CHECKSUM', fd, reserve);
    }
    const any = new Uint8Array(family === 4 ? 16 : 28);
    new DataView(any.buffer).setUint16(0, af, true);
    if (c.bind(reserve, any, any.length) < 0) return fail('bind', fd, reserve);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, any.length, true);
    if (c.getsockname(reserve, any, len) < 0) return fail('getsockname', fd, reserve);
    const port = new DataView(any.buffer).getUint16(2);
    // Only segments to our port reach the socket: IPv4 raw sockets see the IP header first, IPv6 ones do not.
    const program =
      family === 4
        ? [
            { code: 0xb1, jt: 0, jf: 0, k: 0 }, // ldxb 4*([0]&0xf): X = IP header length
            { code: 0x48, jt: 0, jf: 0, k: 2 }, // ldh [x+2]: destination port
            { code: 0x15, jt: 0, jf: 1, k: port }, // jeq port
            { code: 0x06, jt: 0, jf: 0, k: 0xffff }, // ret accept
            { code: 0x06, jt: 0, jf: 0, k: 0 }, // ret drop
          ]
        : [
            { code: 0x28, jt: 0, jf: 0, k: 2 }, // ldh [2]: destination port
            { code: 0x15, jt: 0, jf: 1, k: port },
            { code: 0x06, jt: 0, jf: 0, k: 0xffff },
            { code: 0x06, jt: 0, jf: 0, k: 0 },
          ];
    if (c.attachFilter(fd, program) < 0) return fail('SO_ATTACH_FILTER', fd, reserve);
    // Replies arrive in bursts between two polls: room for thousands (root may exceed rmem_max).
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, int(RAW_RCVBUF), 4) < 0)
      c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, int(RAW_RCVBUF), 4);
    // What queued before the filter was attached: drop it.
    const scratch = new Uint8Array(256);
    while (c.recvfrom(fd, scratch, scratch.length, MSG_DONTWAIT, null, null) >= 0);
    return new HalfOpen(c, family, fd, reserve, port);
  }

  slot(): number | undefined {
    return this.free.pop();
  }

  release(slot: number): void {
    this.peers[slot] = undefined;
    this.dones[slot] = undefined;
    this.free.push(slot);
  }

  /** Sends the SYN of `slot`; false when the kernel refused it (errno in `c.errno()`). */
  send(slot: number): boolean {
    const peer = this.peers[slot] as Peer;
    const v = this.synView;
    v.setUint16(2, peer.port);
    v.setUint32(4, this.isns[slot] as number);
    v.setUint16(16, 0);
    if (this.family === 4) {
      let s = peer.pseudoSum + sum16(this.syn, 0, 24);
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      v.setUint16(16, ~s & 0xffff);
    }
    // The peer's sockaddr with port 0: a raw socket for IPv6 refuses any other.
    const to = this.to;
    const len = copySockaddr(peer, to);
    to[2] = 0;
    to[3] = 0;
    return this.c.sendto(this.fd, this.syn, 24, 0, to, len) >= 0;
  }

  /** Replies waiting on the socket: `(slot, ok)` for each SYN-ACK or RST that answers a SYN in flight. */
  drain(answer: (slot: number, ok: boolean) => void): void {
    const b = this.rbuf;
    for (;;) {
      this.fromLenView.setUint32(0, 28, true);
      const n = this.c.recvfrom(this.fd, b, b.length, MSG_DONTWAIT, this.from, this.fromLen);
      if (n < 0) return;
      let tcp = 0;
      let src: Uint8Array;
      if (this.family === 4) {
        tcp = ((b[0] as number) & 0xf) * 4;
        src = b.subarray(12, 16);
      } else src = this.from.subarray(8, 24);
      if (n < tcp + 14) continue;
      const flags = b[tcp + 13] as number;
      const ack =
        (((b[tcp + 8] as number) << 24) |
          ((b[tcp + 9] as number) << 16) |
          ((b[tcp + 10] as number) << 8) |
          (b[tcp + 11] as number)) >>>
        0;
      const isn = (ack - 1) >>> 0;
      const slot = isn & 0xffff;
      const peer = this.peers[slot];
      if (!peer || this.isns[slot] !== isn || (flags & 0x10) === 0) continue; // not an answer to our SYN
      if ((((b[tcp] as number) << 8) | (b[tcp + 1] as number)) !== peer.port) continue;
      let same = true;
      const off = peer.saAt + ADDR_OFFSET[this.family];
      for (let i = 0; i < src.length; i++) if (src[i] !== peer.saChunk[off + i]) same = false;
      if (!same) continue;
      if (flags & 0x04) answer(slot, false);
      else if (flags & 0x02) answer(slot, true);
    }
  }
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
  private readonly name = new Uint8Array(28);
  private readonly nameLen = new Uint8Array(4);
  /** struct linger { l_onoff = 1, l_linger = 0 }: close() sends a reset. */
  private readonly linger = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]);
  private readonly byFd: (InFlight | undefined)[] = [];
  private readonly deadlines = new Map<number, DueQueue>();
  private readonly retransmits = SYN_RETRANSMIT_MS.map((ms) => new DueQueue(ms));
  private readonly peers = new Map<string, Peer | null>();
  /** The chunk new peers' sockaddrs go to, and how much of it is taken. */
  private saChunk = new Uint8Array(SA_CHUNK);
  private saUsed = 0;
  /** Scratch sockaddr for connect() (see copySockaddr) and its address field per family, for inet_pton. */
  private readonly sa = new Uint8Array(28);
  private readonly saAddr = { 4: this.sa.subarray(4, 8), 6: this.sa.subarray(8, 24) } as const;
  private readonly finished: [(r: never) => void, CheckResult | ExchangeResult][] = [];
  private readonly readBuf = new Uint8Array(65536);
  private readonly halfOpen: (HalfOpen | string | undefined)[] = [];
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

  /** The sockets' view of a real server, or null for a name or a zone (net.Socket handles those). */
  peer(host: string, port: number): Peer | null {
    const key = `${host} ${port}`;
    let p = this.peers.get(key);
    if (p !== undefined) return p;
    p = null;
    const v6 = host.includes(':');
    if (!host.includes('%')) {
      const saLen = v6 ? 28 : 16;
      const sa = this.sa.fill(0, 0, saLen);
      // sa_family in host order (little-endian on Linux's x86/arm64), the port in network order
      const af = v6 ? AF_INET6 : AF_INET;
      sa[0] = af & 0xff;
      sa[1] = af >> 8;
      sa[2] = port >> 8;
      sa[3] = port & 0xff;
      if (this.c.inet_pton(af, host, this.saAddr[v6 ? 6 : 4]) === 1) {
        if (this.saUsed + saLen > this.saChunk.length) {
          this.saChunk = new Uint8Array(SA_CHUNK);
          this.saUsed = 0;
        }
        this.saChunk.set(sa.subarray(0, saLen), this.saUsed);
        p = {
          host,
          port,
          family: v6 ? 6 : 4,
          saChunk: this.saChunk,
          saAt: this.saUsed,
          saLen,
          pseudoSum: 0,
          sourceAt: Number.NEGATIVE_INFINITY,
        };
        this.saUsed += saLen;
      }
    }
    if (this.peers.size >= PEER_CACHE_LIMIT) this.peers.clear();
    this.peers.set(key, p);
    return p;
  }

  /** Why half-open checks of this family are full connects here, or undefined when they are not. */
  halfOpenUnavailable(family: 4 | 6): string | undefined {
    const h = this.halfOpenFor(family);
    return typeof h === 'string' ? h : undefined;
  }

  /** The local port the half-open checks of this family come from (to allow its SYN-ACKs in a firewall). */
  halfOpenPort(family: 4 | 6): number | undefined {
    const h = this.halfOpenFor(family);
    return typeof h === 'string' ? undefined : h.port;
  }

  private halfOpenFor(family: 4 | 6): HalfOpen | string {
    let h = this.halfOpen[family];
    if (h === undefined) {
      h = HalfOpen.open(this.c, family);
      this.halfOpen[family] = h;
    }
    return h;
  }

  /**
   * Starts a connect check of `target`; `done` is called once, never before
   * this returns. Returns a handle for `cancel` (0 when the check already
   * failed), or undefined when the host is not an address literal (the
   * caller uses net.Socket).
   */
  start(
    target: CheckTarget | Peer,
    timeoutMs: number,
    reset: boolean,
    done: ConnectDone,
    halfOpen = false,
  ): number | undefined {
    const peer = 'saChunk' in target ? target : this.peer(target.host, target.port);
    if (!peer) return undefined;
    if (halfOpen) {
      const h = this.halfOpenFor(peer.family);
      if (typeof h !== 'string') return this.startHalfOpen(h, peer, timeoutMs, done);
    }
    const start = performance.now();
    const seq = this.nextSeq();
    const fd = this.open(peer, seq, start, done);
    if (fd < 0) return 0;
    this.byFd[fd] = { seq, start, reset, peer, done };
    this.deadline(timeoutMs).push(fd, seq, start + timeoutMs);
    this.inFlight++;
    this.schedule();
    return seq * HANDLE_SEQ + fd;
  }

  /**
   * Connects to `target`, sends `send`, and collects what the server says
   * until it closes the connection; `done` is called once, never before this
   * returns. One deadline covers the whole exchange, as ldirectord's alarm()
   * does. Returns a handle for `cancel`, or undefined when the host is not an
   * address literal (the caller uses net.Socket).
   */
  exchange(target: CheckTarget, send: Uint8Array, timeoutMs: number, done: ExchangeDone): number | undefined {
    const peer = this.peer(target.host, target.port);
    if (!peer) return undefined;
    const start = performance.now();
    const fail: ConnectDone = (r) => done({ ok: false, reason: r.reason ?? 'error', detail: r.detail });
    const seq = this.nextSeq();
    const fd = this.open(peer, seq, start, fail);
    if (fd < 0) return 0;
    this.byFd[fd] = {
      seq,
      start,
      reset: false,
      peer,
      done: fail,
      x: { send, sent: 0, connected: false, chunks: [], done },
    };
    this.deadline(timeoutMs).push(fd, seq, start + timeoutMs);
    this.inFlight++;
    this.schedule();
    return seq * HANDLE_SEQ + fd;
  }

  /** A non-blocking socket connecting to `peer`, in the epoll set; -1 (and `done` called later) when that failed. */
  private open(peer: Peer, seq: number, start: number, done: ConnectDone): number {
    const c = this.c;
    const fd = c.socket(
      peer.family === 6 ? AF_INET6 : AF_INET,
      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) {
      this.failNow(done, start, 'error', `socket: ${errnoName(c.errno())}`);
      return -1;
    }
    if (c.connect(fd, this.sa, copySockaddr(peer, this.sa)) < 0) {
      const errno = c.errno();
      if (errno !== EINPROGRESS) {
        c.close(fd);
        this.failNow(done, start, classify(errno), `connect ${errnoName(errno)} ${peer.host}:${peer.port}`);
        return -1;
      }
    }
    this.setEvent(EPOLLOUT | EPOLLERR | EPOLLHUP, fd, seq);
    if (c.epoll_ctl(this.ep, EPOLL_CTL_ADD, fd, this.event) < 0) {
      const errno = c.errno();
      c.close(fd);
      this.failNow(done, start, 'error', `epoll_ctl: ${errnoName(errno)}`);
      return -1;
    }
    return fd;
  }

  private startHalfOpen(h: HalfOpen, peer: Peer, timeoutMs: number, done: ConnectDone): number {
    const start = performance.now();
    if (peer.family === 4 && start - peer.sourceAt > SOURCE_TTL_MS) {
      const why = this.routeSource(peer, start);
      if (why) return this.failNow(done, start, 'unreachable', why);
    }
    const slot = h.slot();
    if (slot === undefined)
      return this.failNow(done, start, 'error', 'more than 65,536 half-open checks in flight');
    const seq = this.nextSeq();
    h.peers[slot] = peer;
    h.dones[slot] = done;
    h.starts[slot] = start;
    h.seqs[slot] = seq;
    h.deadlines[slot] = start + timeoutMs;
    h.isns[slot] = (((Math.random() * 0x10000) << 16) | slot) >>> 0;
    if (!h.send(slot)) {
      const errno = this.c.errno();
      h.release(slot);
      return this.failNow(
        done,
        start,
        classify(errno),
        `SYN to ${peer.host}:${peer.port}: ${errnoName(errno)}`,
      );
    }
    const id = -(HALF_OPEN_CODE + (peer.family === 6 ? SLOTS : 0) + slot);
    this.deadline(timeoutMs).push(id, seq, start + timeoutMs);
    if ((SYN_RETRANSMIT_MS[0] as number) < timeoutMs)
      this.retransmits[0]?.push(id, seq, start + (SYN_RETRANSMIT_MS[0] as number));
    this.inFlight++;
    this.schedule();
    return seq * HANDLE_SEQ - id;
  }

  /** IPv4's SYN checksum covers the source address: asks the route for it (a UDP connect() sends nothing). */
  private routeSource(peer: Peer, now: number): string | undefined {
    const c = this.c;
    const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return `socket: ${errnoName(c.errno())}`;
    try {
      if (c.connect(fd, this.sa, copySockaddr(peer, this.sa)) < 0)
        return `no route to ${peer.host}: ${errnoName(c.errno())}`;
      new DataView(this.nameLen.buffer).setUint32(0, 16, true);
      if (c.getsockname(fd, this.name, this.nameLen) < 0) return `getsockname: ${errnoName(c.errno())}`;
    } finally {
      c.close(fd);
    }
    const pseudo = new Uint8Array(12);
    pseudo.set(this.name.subarray(4, 8), 0);
    const at = peer.saAt + ADDR_OFFSET[4];
    pseudo.set(peer.saChunk.subarray(at, at + 4), 4);
    pseudo[9] = IPPROTO_TCP;
    pseudo[11] = 24; // TCP length: the SYN's 24 bytes
    peer.pseudoSum = sum16(pseudo, 0, 12);
    peer.sourceAt = now;
    return undefined;
  }

  /** Ends a check in flight (its `done` gets 'aborted'); a finished one is left alone. */
  cancel(handle: number): void {
    const seq = Math.floor(handle / HANDLE_SEQ);
    const code = handle - seq * HANDLE_SEQ;
    const r = (start: number): CheckResult => ({
      ok: false,
      reason: 'error',
      detail: 'aborted',
      durationMs: performance.now() - start,
    });
    if (code < HALF_OPEN_CODE) {
      const f = this.byFd[code];
      if (!f || f.seq !== seq) return;
      if (f.x) this.endExchange(code, f, { ok: false, reason: 'error', detail: 'aborted' });
      else this.end(code, f, r(f.start));
    } else {
      const hs = this.halfOpenOf(-code, seq);
      if (!hs) return;
      this.endHalfOpen(hs[0], hs[1], r(hs[0].starts[hs[1]] as number));
    }
    this.flush();
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) & 0x7fffffff;
    return this.seq;
  }

  private deadline(timeoutMs: number): DueQueue {
    let q = this.deadlines.get(timeoutMs);
    if (!q) {
      q = new DueQueue(timeoutMs);
      this.deadlines.set(timeoutMs, q);
    }
    return q;
  }

  private failNow(done: ConnectDone, start: number, reason: CheckReason, detail: string): number {
    this.finished.push([done, { ok: false, reason, detail, durationMs: performance.now() - start }]);
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.flush();
    });
    return 0;
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

  private endExchange(fd: number, f: InFlight, r: ExchangeResult): undefined {
    this.c.close(fd);
    this.byFd[fd] = undefined;
    this.inFlight--;
    this.finished.push([(f.x as Exchange).done, r]);
  }

  /** One turn of an exchange whose socket is ready: finish connecting, write what is left, read what came. */
  private step(fd: number, f: InFlight, x: Exchange): undefined {
    const c = this.c;
    if (!x.connected) {
      const failed = this.connectFailure(fd, f);
      if (failed) return this.endExchange(fd, f, failed);
      x.connected = true;
      if (x.send.length === 0) this.awaitAnswer(fd, f.seq);
    }
    if (x.sent < x.send.length) {
      const n = c.write(fd, x.sent === 0 ? x.send : x.send.subarray(x.sent), x.send.length - x.sent);
      if (n < 0) {
        const errno = c.errno();
        if (errno === EAGAIN) return;
        return this.endExchange(fd, f, {
          ok: false,
          reason: classify(errno),
          detail: `write ${errnoName(errno)}`,
        });
      }
      x.sent += n;
      if (x.sent < x.send.length) return;
      this.awaitAnswer(fd, f.seq);
    }
    for (;;) {
      const n = c.read(fd, this.readBuf, this.readBuf.length);
      if (n > 0) {
        x.chunks.push(Buffer.from(this.readBuf.subarray(0, n)));
        continue;
      }
      if (n === 0) return this.endExchange(fd, f, { ok: true, data: Buffer.concat(x.chunks) });
      const errno = c.errno();
      if (errno === EAGAIN) return;
      return this.endExchange(fd, f, {
        ok: false,
        reason: classify(errno),
        detail: `read ${errnoName(errno)} ${f.peer.host}:${f.peer.port}`,
      });
    }
  }

  /** Why a socket epoll reported ready did not connect (SO_ERROR), or undefined when it did. */
  private connectFailure(
    fd: number,
    f: InFlight,
  ): { ok: false; reason: CheckReason; detail: string } | undefined {
    this.c.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.soError, this.soErrorLen);
    const errno = (this.soError[0] as number) | ((this.soError[1] as number) << 8);
    if (errno === 0) return undefined;
    return {
      ok: false,
      reason: classify(errno),
      detail: `connect ${errnoName(errno)} ${f.peer.host}:${f.peer.port}`,
    };
  }

  /** Everything is sent: from now on the socket matters when it is readable. */
  private awaitAnswer(fd: number, seq: number): void {
    this.setEvent(EPOLLIN | EPOLLERR | EPOLLHUP, fd, seq);
    this.c.epoll_ctl(this.ep, EPOLL_CTL_MOD, fd, this.event);
  }

  /**
   * The epoll_event to register: the fd and the check's seq. An fd number
   * is reused as soon as it is closed, and a registration outlives close()
   * while a forked child still holds the socket: the seq tells such a stale
   * event from the new check's.
   */
  private setEvent(events: number, fd: number, seq: number): void {
    this.eventSet.setUint32(0, events, true);
    this.eventSet.setInt32(EPOLL_DATA_OFFSET, fd, true);
    this.eventSet.setInt32(EPOLL_DATA_OFFSET + 4, seq, true);
  }

  private endHalfOpen(h: HalfOpen, slot: number, r: CheckResult): void {
    const done = h.dones[slot] as ConnectDone;
    h.release(slot);
    this.inFlight--;
    this.finished.push([done, r]);
  }

  /** The half-open slot an id of the due queues names, if that check is still the one in flight. */
  private halfOpenOf(id: number, seq: number): [HalfOpen, number] | undefined {
    const v = -id - HALF_OPEN_CODE;
    const h = this.halfOpen[v >= SLOTS ? 6 : 4];
    const slot = v % SLOTS;
    if (!h || typeof h === 'string' || !h.peers[slot] || h.seqs[slot] !== seq) return undefined;
    return [h, slot];
  }

  private readonly answer = (h: HalfOpen, slot: number, ok: boolean): void => {
    const peer = h.peers[slot] as Peer;
    const durationMs = performance.now() - (h.starts[slot] as number);
    this.endHalfOpen(
      h,
      slot,
      ok
        ? { ok: true, detail: '', durationMs }
        : {
            ok: false,
            reason: 'refused',
            detail: `connect ECONNREFUSED ${peer.host}:${peer.port} (reset)`,
            durationMs,
          },
    );
  };

  private readonly tick = (): void => {
    this.timer = undefined;
    const c = this.c;
    const now = performance.now();
    // What arrived first, then the deadlines: an answer that came during a stall is not a timeout.
    for (;;) {
      const n = c.epoll_wait(this.ep, this.events, MAX_EVENTS, 0);
      for (let i = 0; i < n; i++) {
        const at = i * EPOLL_EVENT_SIZE + EPOLL_DATA_OFFSET;
        const fd = this.eventView.getInt32(at, true);
        const f = this.byFd[fd];
        if (!f || f.seq !== this.eventView.getInt32(at + 4, true)) continue;
        if (f.x) {
          this.step(fd, f, f.x);
          continue;
        }
        const failed = this.connectFailure(fd, f);
        this.end(fd, f, { ok: true, detail: '', ...failed, durationMs: now - f.start });
      }
      if (n < MAX_EVENTS) break;
    }
    for (const h of this.halfOpen)
      if (h && typeof h !== 'string') h.drain((slot, ok) => this.answer(h, slot, ok));
    for (const [timeoutMs, q] of this.deadlines) {
      for (; q.due(now); q.head++) {
        const id = q.ids[q.head] as number;
        const seq = q.seqs[q.head] as number;
        if (id >= 0) {
          const f = this.byFd[id];
          if (f?.x && f.seq === seq)
            this.endExchange(id, f, {
              ok: false,
              reason: 'timeout',
              detail: Buffer.concat(f.x.chunks).subarray(0, 200).toString('latin1'),
            });
          else if (f && f.seq === seq)
            this.end(id, f, {
              ok: false,
              reason: 'timeout',
              detail: `no connection to ${f.peer.host}:${f.peer.port} within ${timeoutMs / 1000} s`,
              durationMs: now - f.start,
            });
        } else {
          const hs = this.halfOpenOf(id, seq);
          if (hs) {
            const peer = hs[0].peers[hs[1]] as Peer;
            peer.sourceAt = Number.NEGATIVE_INFINITY; // the route may have changed: ask it for the next SYN
            this.endHalfOpen(hs[0], hs[1], {
              ok: false,
              reason: 'timeout',
              detail: `no SYN-ACK from ${peer.host}:${peer.port} within ${timeoutMs / 1000} s`,
              durationMs: now - (hs[0].starts[hs[1]] as number),
            });
          }
        }
      }
      q.compact();
    }
    this.retransmits.forEach((q, stage) => {
      for (; q.due(now); q.head++) {
        const id = q.ids[q.head] as number;
        const seq = q.seqs[q.head] as number;
        const hs = this.halfOpenOf(id, seq);
        if (!hs) continue;
        const [h, slot] = hs;
        const peer = h.peers[slot] as Peer;
        if (peer.family === 4) this.routeSource(peer, now);
        h.send(slot); // a refused resend is as good as a lost one: the deadline decides
        const next = this.retransmits[stage + 1];
        const at = (h.starts[slot] as number) + (next?.delayMs ?? Number.POSITIVE_INFINITY);
        if (next && at < (h.deadlines[slot] as number)) next.push(id, seq, at);
      }
      q.compact();
    });
    this.flush();
    this.schedule();
  };

  private flush(): void {
    // Called back after the bookkeeping, so a callback may start the next check at once.
    const list = this.finished.splice(0);
    for (const [done, r] of list) (done as (r: CheckResult | ExchangeResult) => void)(r);
  }
}

let shared: Connector | string | undefined;

/** The process's Connector, or why there is none (no koffi or glibc: connect checks use net.Socket). */
export function connector(): Connector | string {
  if (shared === undefined) {
    try {
      shared = new Connector(libc()); // LibcUnavailableError's message says why not
    } catch (e) {
      shared = (e as Error).message;
    }
  }
  return shared;
}
