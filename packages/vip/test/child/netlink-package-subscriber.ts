// What the README warns about: a daemon that subscribes to rtnetlink
// address notifications through the `netlink` package's own socket, and
// whose main thread is busy for a while (a GC pause, a long computation)
// during a burst of changes. Prints the datagrams it has seen until killed.
// argv: [receive buffer bytes] [ms to block the main thread after subscribing]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RawNetlinkSocket } = require('netlink') as {
  RawNetlinkSocket: new (
    protocol: number,
    options?: object,
  ) => {
    on(e: string, f: (...a: unknown[]) => void): void;
    addMembership(g: number): void;
    setRecvBufferSize(n: number): void;
  };
};
const sock = new RawNetlinkSocket(0);
sock.setRecvBufferSize(Number(process.argv[2] ?? 212992));
sock.addMembership(5); // RTNLGRP_IPV4_IFADDR
let n = 0;
sock.on('message', () => {
  n++;
});
sock.on('error', (e) => console.log(`error event: ${(e as Error).message}`));
setInterval(() => console.log(`datagrams ${n}`), 200);
console.log('subscribed');
const blockMs = Number(process.argv[3] ?? 0);
if (blockMs > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, blockMs);
