// The libc calls the checks make that Node does not offer, through koffi (an
// FFI whose npm package ships prebuilt binaries, so installing needs no
// compiler): ICMP datagram sockets for ping, and plain non-blocking TCP
// sockets polled with epoll for connect checks. Loaded lazily, once; where
// koffi or glibc is missing, `libc()` says why and the checks fall back to
// Node's own sockets or to commands.
import { createRequire } from 'node:module';
import { constants } from 'node:os';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLLOUT = 4;
export const EPOLLERR = 8;
export const EPOLLHUP = 16;
/** struct epoll_event is packed on x86-64 (4 + 8 bytes), padded to 16 elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  getsockopt(fd: number, level: number, name: number, val: Uint8Array, len: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  close(fd: number): number;
  inet_pton(af: number, text: string, dst: Uint8Array): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array): number;
  epoll_wait(epfd: number, events: Uint8Array, max: number, timeoutMs: number): number;
  errno(): number;
}

let cached: Libc | string | undefined;

/** The binding, or why it cannot be had here (no koffi, no glibc). */
export function libc(): Libc | string {
  if (cached !== undefined) return cached;
  try {
    const require = createRequire(import.meta.url);
    // biome-ignore lint/suspicious/noExplicitAny: koffi's own types are loose; Libc types the calls used.
    const koffi = require('koffi') as any;
    const lib = koffi.load('libc.so.6');
    const f = (decl: string) => lib.func(decl);
    cached = {
      socket: f('int socket(int, int, int)'),
      connect: f('int connect(int, void *, uint32_t)'),
      getsockopt: f('int getsockopt(int, int, int, void *, void *)'),
      setsockopt: f('int setsockopt(int, int, int, void *, uint32_t)'),
      close: f('int close(int)'),
      inet_pton: f('int inet_pton(int, const char *, void *)'),
      epoll_create1: f('int epoll_create1(int)'),
      epoll_ctl: f('int epoll_ctl(int, int, int, void *)'),
      epoll_wait: f('int epoll_wait(int, void *, int, int)'),
      errno: () => koffi.errno() as number,
    };
  } catch (e) {
    cached = `koffi cannot load libc: ${(e as Error).message}`;
  }
  return cached;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** "ECONNREFUSED" for 111, and so on. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const { EACCES, EPERM, EINPROGRESS, EINTR } = constants.errno;
