// Request/response over an rtnetlink socket from the `netlink` package
// (its RawNetlinkSocket: a native socket watched by libuv). We only send
// requests on it, never join multicast groups: that package aborts the
// process when a subscribed socket overruns or a listener throws, so the
// listener here catches everything and notifications go through watch.ts.
import { createRequire } from 'node:module';
import { encodeNetlinkMessage, type NetlinkMessage, NLM_F, NLMSG } from '@lvs-ha/netlink-frame';
import { VipError } from './errors.js';
import { inNetns, type NetnsOption } from './netns.js';
import { decodeErrorMessage, decodeNetlinkMessages } from './rtnetlink.js';

interface RawSocket {
  on(event: 'message', fn: (msg: Buffer) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  send(msg: Uint8Array, options: { port: number }, cb: (err?: Error) => void): void;
  close(): void;
  unref(): void;
}

/** A request the kernel refused: positive errno and its name. */
export class KernelRefusal extends Error {
  constructor(
    readonly errno: number,
    readonly request: string,
  ) {
    super(`${request}: errno ${errno}`);
  }
}

export interface RtnlRequestOptions {
  /** Milliseconds before giving up on an answer. Default 5000. */
  timeout?: number;
}

/** One rtnetlink socket, one request at a time in flight per sequence number. */
export class Rtnl {
  private readonly socket: RawSocket;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly pending = new Map<
    number,
    {
      parts: NetlinkMessage[];
      resolve: (m: NetlinkMessage[]) => void;
      reject: (e: Error) => void;
      dump: boolean;
    }
  >();
  private closed = false;

  private constructor(socket: RawSocket) {
    this.socket = socket;
    socket.on('message', (buf) => {
      try {
        this.receive(buf);
      } catch (err) {
        // Never let anything escape into the native callback.
        this.failAll(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.on('error', (err) => this.failAll(err));
  }

  static open(options: NetnsOption = {}): Rtnl {
    const require = createRequire(import.meta.url);
    const { RawNetlinkSocket } = require('netlink') as {
      RawNetlinkSocket: new (protocol: number, options?: object) => RawSocket;
    };
    return inNetns(options.netns, () => new Rtnl(new RawNetlinkSocket(0 /* NETLINK_ROUTE */)));
  }

  /**
   * Sends one message and resolves with the replies: for a dump, every
   * message up to NLMSG_DONE; otherwise an ACK (empty array) requested with
   * NLM_F_ACK. Rejects with KernelRefusal on a non-zero NLMSG_ERROR.
   */
  async request(
    type: number,
    flags: number,
    payload: Uint8Array,
    options: RtnlRequestOptions = {},
  ): Promise<NetlinkMessage[]> {
    // A dump that raced a change is marked NLM_F_DUMP_INTR: its view may be
    // inconsistent, so ask again (a burst of changes settles quickly).
    for (let attempt = 0; ; attempt++) {
      const parts = await this.requestOnce(type, flags, payload, options);
      if (attempt >= 4 || !parts.some((m) => (m.header.flags & NLM_F.DUMP_INTR) !== 0)) return parts;
    }
  }

  private requestOnce(type: number, flags: number, payload: Uint8Array, options: RtnlRequestOptions) {
    if (this.closed) return Promise.reject(new VipError('NETLINK', 'rtnetlink socket is closed'));
    this.seq = (this.seq + 1) >>> 0;
    const seq = this.seq;
    const dump = (flags & NLM_F.DUMP) === NLM_F.DUMP;
    const msg = encodeNetlinkMessage(
      { type, flags: flags | NLM_F.REQUEST | (dump ? 0 : NLM_F.ACK), seq },
      payload,
    );
    return new Promise<NetlinkMessage[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(
          new VipError(
            'TIMEOUT',
            `no rtnetlink answer to message type ${type} in ${options.timeout ?? 5000} ms`,
          ),
        );
      }, options.timeout ?? 5000);
      this.pending.set(seq, {
        parts: [],
        dump,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.socket.send(msg, { port: 0 }, (err) => {
        if (err) this.settle(seq, err);
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new VipError('NETLINK', 'rtnetlink socket closed with a request in flight'));
    this.socket.close();
  }

  private receive(buf: Buffer): void {
    for (const m of decodeNetlinkMessages(new Uint8Array(buf.buffer, buf.byteOffset, buf.length))) {
      const p = this.pending.get(m.header.seq);
      if (!p) continue;
      if (m.header.type === NLMSG.ERROR) {
        const e = decodeErrorMessage(m.payload);
        if (e.errno === 0) this.settle(m.header.seq, undefined, p.parts);
        else this.settle(m.header.seq, new KernelRefusal(e.errno, `rtnetlink type ${e.request.type}`));
      } else if (m.header.type === NLMSG.DONE) {
        this.settle(m.header.seq, undefined, p.parts);
      } else {
        p.parts.push({ header: m.header, payload: Uint8Array.from(m.payload), offset: m.offset });
        if (!p.dump) this.settle(m.header.seq, undefined, p.parts);
      }
    }
  }

  private settle(seq: number, err?: Error, parts: NetlinkMessage[] = []): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (err) p.reject(err);
    else p.resolve(parts);
  }

  private failAll(err: Error): void {
    for (const seq of [...this.pending.keys()]) this.settle(seq, err);
  }
}

/** Opens a socket, runs `fn`, always closes it. */
export async function withRtnl<T>(options: NetnsOption, fn: (rtnl: Rtnl) => Promise<T>): Promise<T> {
  const rtnl = Rtnl.open(options);
  try {
    return await fn(rtnl);
  } finally {
    rtnl.close();
  }
}
