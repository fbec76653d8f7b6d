// Requests over one NetlinkTransport: sequence numbers, acknowledgements,
// multipart dumps, errno taken from the NLMSG_ERROR payload. One operation at
// a time per socket (a dump in progress makes the kernel refuse another with
// EBUSY, and interleaved replies are where the `netlink` package broke), but
// an operation may be a batch: many messages per datagram, only the last of
// each datagram asking for an ACK. The kernel handles a datagram's messages
// in order and NACKs failures with their own sequence number, so the final
// ACK says every earlier message is done; failures came before it.
import { endianness } from 'node:os';
import {
  align4,
  decodeDoneErrno,
  decodeErrorPayload,
  type NetlinkMessage,
  NLM_F,
  NLMSG,
  NLMSG_HDRLEN,
} from '@lvs-ha/netlink-frame';
import { IpvsError } from './errors.js';
import { decodeNetlinkMessages } from './genl.js';
import type { NetlinkTransport } from './transport.js';

const LE = endianness() === 'LE';

/** Outcome of one message of a batch: errno 0 = done; replies = what the kernel answered (GET). */
export interface BatchResult {
  errno: number;
  replies: NetlinkMessage[];
}

/** A dump or request the kernel refused with this errno. */
export class NetlinkErrnoError extends IpvsError {
  override name = 'NetlinkErrnoError';
  constructor(
    readonly errno: number,
    readonly type: number,
  ) {
    super('KERNEL', `netlink request type ${type} refused with errno ${errno}`);
  }
}

export interface ChannelOptions {
  /** Largest datagram to write. Default 128 KiB (the kernel refuses more than SO_SNDBUF). */
  maxDatagram?: number;
  /** Base timeout for an operation, ms. Default 10 s (TCG guests are slow); batches add 2 ms per message. */
  timeoutMs?: number;
}

interface Batch {
  first: number;
  count: number;
  /** Per message: 0 ok, >0 errno, -1 an ACK still awaited. */
  errnos: Int32Array;
  replies: Map<number, NetlinkMessage[]>;
  acksLeft: number;
}

interface Pending {
  replies: NetlinkMessage[];
  errno: number;
  done: boolean;
  dump: boolean;
}

export class NetlinkChannel {
  /** Netlink messages written (requests, not replies). */
  messagesSent = 0;
  datagramsSent = 0;
  private seq = (Math.random() * 0x3fffffff) >>> 0;
  private readonly pending = new Map<number, Pending>();
  private batchState: Batch | undefined;
  private waiter: { check: () => void } | undefined;
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly maxDatagram: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly transport: NetlinkTransport,
    options: ChannelOptions = {},
  ) {
    this.maxDatagram = options.maxDatagram ?? 128 * 1024;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    transport.listen(
      (d) => this.receive(d),
      (err) => this.fail(err),
    );
  }

  /**
   * Sends every message (complete netlink messages; seq and REQUEST/ACK flags
   * are filled in here) pipelined in as few datagrams as fit, and resolves
   * with one result per message once the kernel has handled them all.
   */
  batch(messages: readonly Uint8Array[], options: { timeoutMs?: number } = {}): Promise<BatchResult[]> {
    return this.serial(() => this.runBatch(messages, options.timeoutMs));
  }

  /** One request; resolves with its replies, rejects with NetlinkErrnoError on a NACK. */
  async request(message: Uint8Array, options: { timeoutMs?: number } = {}): Promise<NetlinkMessage[]> {
    const [r] = await this.batch([message], options);
    if (!r) throw new IpvsError('TRANSPORT', 'no result for the request');
    if (r.errno !== 0) throw new NetlinkErrnoError(r.errno, readType(message));
    return r.replies;
  }

  /** A dump (NLM_F_DUMP is set here): every reply up to NLMSG_DONE. */
  dump(message: Uint8Array, options: { timeoutMs?: number } = {}): Promise<NetlinkMessage[]> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const parts = await this.runDump(message, options.timeoutMs);
        // A dump that raced a change is marked DUMP_INTR: ask again.
        if (attempt >= 4 || !parts.some((m) => m.header.flags & NLM_F.DUMP_INTR)) return parts;
      }
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new IpvsError('CLOSED', 'the IPVS netlink socket was closed with a request in flight'));
    this.transport.close();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new IpvsError('CLOSED', 'the IPVS netlink socket is closed'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    if (this.seq === 0) this.seq = 1;
    return this.seq;
  }

  private async runBatch(messages: readonly Uint8Array[], timeoutMs?: number): Promise<BatchResult[]> {
    this.failure = undefined;
    const n = messages.length;
    // Consecutive sequence numbers: message i has seq first + i (mod 2^32).
    const first = this.nextSeq();
    this.seq = (first + n - 1) >>> 0;
    const batch: Batch = {
      first,
      count: n,
      errnos: new Int32Array(n),
      replies: new Map(),
      acksLeft: 0,
    };
    const datagrams: { bytes: Uint8Array; count: number }[] = [];
    let i = 0;
    while (i < n) {
      // Pack messages into one datagram up to maxDatagram (at least one).
      let size = 0;
      let j = i;
      while (j < n && (j === i || size + align4((messages[j] as Uint8Array).length) <= this.maxDatagram)) {
        size += align4((messages[j] as Uint8Array).length);
        j++;
      }
      const out = new Uint8Array(size);
      const dv = new DataView(out.buffer);
      let off = 0;
      for (let k = i; k < j; k++) {
        const m = messages[k] as Uint8Array;
        out.set(m, off);
        // Only the last message of a datagram asks for an ACK.
        const ack = k === j - 1 ? NLM_F.ACK : 0;
        dv.setUint16(off + 6, (dv.getUint16(off + 6, LE) & ~NLM_F.ACK) | NLM_F.REQUEST | ack, LE);
        dv.setUint32(off + 8, (first + k) >>> 0, LE);
        off += align4(m.length);
      }
      batch.errnos[j - 1] = -1; // waiting for this ACK
      batch.acksLeft++;
      datagrams.push({ bytes: out, count: j - i });
      i = j;
    }
    this.batchState = batch;
    try {
      this.transport.hold?.(true);
      const done = this.waitFor(
        () => batch.acksLeft === 0,
        (timeoutMs ?? this.timeoutMs) + n * 2,
        `${n} netlink request(s)`,
      );
      try {
        for (const d of datagrams) {
          await this.transport.send(d.bytes);
          this.messagesSent += d.count;
          this.datagramsSent++;
        }
      } catch (err) {
        this.fail(err as Error);
      }
      await done;
      const results: BatchResult[] = new Array(n);
      for (let k = 0; k < n; k++)
        results[k] = { errno: Math.max(batch.errnos[k] as number, 0), replies: batch.replies.get(k) ?? [] };
      return results;
    } finally {
      this.batchState = undefined;
      this.transport.hold?.(false);
    }
  }

  private async runDump(message: Uint8Array, timeoutMs?: number): Promise<NetlinkMessage[]> {
    this.failure = undefined;
    const out = Uint8Array.from(message);
    const seq = this.nextSeq();
    const dv = new DataView(out.buffer, 0, NLMSG_HDRLEN);
    dv.setUint16(6, dv.getUint16(6, LE) | NLM_F.REQUEST | NLM_F.DUMP, LE);
    dv.setUint32(8, seq, LE);
    const p: Pending = { replies: [], errno: -1, done: false, dump: true };
    this.pending.set(seq, p);
    try {
      this.transport.hold?.(true);
      const done = this.waitFor(() => p.done, timeoutMs ?? this.timeoutMs, 'a netlink dump');
      try {
        await this.transport.send(out);
        this.messagesSent++;
        this.datagramsSent++;
      } catch (err) {
        this.fail(err as Error);
      }
      await done;
      if (p.errno > 0) throw new NetlinkErrnoError(p.errno, readType(message));
      return p.replies;
    } finally {
      this.pending.delete(seq);
      this.transport.hold?.(false);
    }
  }

  private waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new IpvsError('TIMEOUT', `no answer from the kernel to ${what} within ${ms} ms`));
      }, ms);
      const check = () => {
        if (this.failure) {
          clearTimeout(timer);
          this.waiter = undefined;
          reject(this.failure);
        } else if (cond()) {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        }
      };
      this.waiter = { check };
    });
  }

  // Runs inside the socket's callback: records and never throws.
  private receive(datagram: Uint8Array): void {
    let msgs: NetlinkMessage[];
    try {
      // One copy per datagram (the socket's buffer is not ours to keep); replies are views into it.
      msgs = decodeNetlinkMessages(datagram.slice());
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    for (const m of msgs) {
      const b = this.batchState;
      const k = b ? (m.header.seq - b.first) >>> 0 : -1;
      if (b && k < b.count) {
        this.receiveForBatch(b, k, m);
        continue;
      }
      const p = this.pending.get(m.header.seq);
      if (!p) continue;
      if (m.header.type === NLMSG.ERROR) {
        try {
          p.errno = decodeErrorPayload(m.payload).errno;
        } catch {
          p.errno = 71; // EPROTO: an unreadable NACK still ends the request
        }
        p.done = true;
      } else if (m.header.type === NLMSG.DONE) {
        p.errno = decodeDoneErrno(m.payload);
        p.done = true;
      } else if (m.header.type !== NLMSG.NOOP) {
        p.replies.push({ header: m.header, payload: m.payload, offset: 0 });
      }
    }
    this.waiter?.check();
  }

  private receiveForBatch(b: Batch, k: number, m: NetlinkMessage): void {
    if (m.header.type === NLMSG.ERROR) {
      let errno: number;
      try {
        errno = decodeErrorPayload(m.payload).errno;
      } catch {
        errno = 71; // EPROTO: an unreadable NACK still ends the request
      }
      if (b.errnos[k] === -1) b.acksLeft--;
      b.errnos[k] = errno;
    } else if (m.header.type !== NLMSG.NOOP && m.header.type !== NLMSG.DONE) {
      const list = b.replies.get(k) ?? [];
      list.push({ header: m.header, payload: m.payload, offset: 0 });
      b.replies.set(k, list);
    }
  }

  private fail(err: Error): void {
    const e =
      err instanceof IpvsError
        ? err
        : new IpvsError(
            'TRANSPORT',
            (err as { code?: string }).code === 'ENOBUFS'
              ? 'the kernel dropped replies (socket receive buffer full): the outcome of the requests in flight is unknown'
              : `netlink socket error: ${err.message}`,
            { cause: err },
          );
    this.failure = e;
    this.waiter?.check();
  }
}

function readType(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint16(4, LE);
}
