// The seam between the IPVS client and the kernel: a NetlinkTransport moves
// whole datagrams (one or more netlink messages) each way. The real one wraps
// the `netlink` package's RawNetlinkSocket (its native socket, nothing of its
// request/ack layer, which loses the errno); tests pass a fake kernel.
import { createRequire } from 'node:module';
import { IpvsError } from './errors.js';
import { NETLINK_GENERIC } from './genl.js';

export interface NetlinkTransport {
  /** Sends one datagram to the kernel (port 0). Resolves when written. */
  send(datagram: Uint8Array): Promise<void>;
  /**
   * Registers the receiver (called once, before any send). `onDatagram` gets
   * every datagram from the kernel; `onError` socket errors (ENOBUFS…).
   */
  listen(onDatagram: (datagram: Uint8Array) => void, onError: (err: Error) => void): void;
  /** Keeps the event loop alive while requests are in flight (optional). */
  hold?(busy: boolean): void;
  close(): void;
}

interface RawSocket {
  on(event: 'message', fn: (msg: Buffer) => void): void;
  on(event: 'error', fn: (err: Error & { code?: string; errno?: number }) => void): void;
  send(msg: Uint8Array, options: { port: number }, cb: (err?: Error) => void): void;
  close(): void;
  ref(): void;
  unref(): void;
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
}

export interface SocketTransportOptions {
  /** SO_RCVBUF to ask for (the kernel caps it at net.core.rmem_max). Default 1 MiB. */
  recvBufferSize?: number;
  /** SO_SNDBUF to ask for (capped at net.core.wmem_max). Default 1 MiB. */
  sendBufferSize?: number;
}

/** A NETLINK_GENERIC socket from the `netlink` package. */
export function openSocketTransport(options: SocketTransportOptions = {}): NetlinkTransport {
  const require = createRequire(import.meta.url);
  let RawNetlinkSocket: new (protocol: number) => RawSocket;
  try {
    ({ RawNetlinkSocket } = require('netlink') as { RawNetlinkSocket: typeof RawNetlinkSocket });
  } catch (err) {
    throw new IpvsError('TRANSPORT', 'cannot load the `netlink` package (its native addon)', { cause: err });
  }
  let socket: RawSocket;
  try {
    socket = new RawNetlinkSocket(NETLINK_GENERIC);
  } catch (err) {
    throw new IpvsError('TRANSPORT', `cannot open a generic netlink socket: ${(err as Error).message}`, {
      cause: err,
    });
  }
  for (const [set, size] of [
    [(n: number) => socket.setRecvBufferSize(n), options.recvBufferSize ?? 1 << 20],
    [(n: number) => socket.setSendBufferSize(n), options.sendBufferSize ?? 1 << 20],
  ] as const) {
    try {
      set(size);
    } catch {
      // Best effort: the defaults work, just with smaller batches.
    }
  }
  socket.unref();
  let closed = false;
  return {
    send(datagram) {
      return new Promise((resolve, reject) => {
        if (closed) {
          reject(new IpvsError('CLOSED', 'the IPVS netlink socket is closed'));
          return;
        }
        socket.send(datagram, { port: 0 }, (err) => {
          if (err) reject(new IpvsError('TRANSPORT', `netlink send failed: ${err.message}`, { cause: err }));
          else resolve();
        });
      });
    },
    listen(onDatagram, onError) {
      // The package aborts the process if a listener throws: catch everything here.
      socket.on('message', (buf) => {
        try {
          onDatagram(new Uint8Array(buf.buffer, buf.byteOffset, buf.length));
        } catch (err) {
          try {
            onError(err instanceof Error ? err : new Error(String(err)));
          } catch {
            // nothing may escape into the native callback
          }
        }
      });
      socket.on('error', (err) => {
        try {
          onError(err);
        } catch {
          // as above
        }
      });
    },
    hold(busy) {
      if (closed) return;
      if (busy) socket.ref();
      else socket.unref();
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
}
