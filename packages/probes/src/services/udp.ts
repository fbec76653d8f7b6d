import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { CheckTarget } from '../check.js';

/**
 * Sends one datagram on a connected UDP socket and resolves with the first
 * reply that `accept` takes. A closed port answers with ICMP port unreachable,
 * which Node reports as ECONNREFUSED on a connected socket: "refused".
 */
export function udpExchange(
  target: CheckTarget,
  payload: Uint8Array | ((local: { address: string; port: number }) => Uint8Array),
  signal: AbortSignal,
  accept: (msg: Buffer) => boolean = () => true,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
    const finish = (err: unknown, msg?: Buffer) => {
      signal.removeEventListener('abort', onAbort);
      try {
        sock.close();
      } catch {}
      if (msg) resolve(msg);
      else reject(err);
    };
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err) => finish(err));
    sock.on('message', (msg) => {
      if (accept(msg)) finish(undefined, msg);
    });
    // SIP names its own address and port in the request: build it once connected.
    sock.connect(target.port, target.host, () =>
      sock.send(typeof payload === 'function' ? payload(sock.address()) : payload),
    );
  });
}
