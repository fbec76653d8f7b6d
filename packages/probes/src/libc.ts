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
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
/** IPv6 raw sockets: the kernel computes (and checks) the checksum at this offset. */
export const IPV6_CHECKSUM = 7;
export const IPV6_V6ONLY = 26;
export const IPPROTO_ICMPV6 = 58;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SO_ATTACH_FILTER = 26;
export const MSG_DONTWAIT = 0x40;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 1;
export const EPOLLOUT = 4;
export const EPOLLERR = 8;
export const EPOLLHUP = 16;
/** struct epoll_event is packed on x86-64 (4 + 8 bytes), padded to 16 elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
export const EPOLL_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, alen: number): number;
  recvfrom(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array | null,
    alen: Uint8Array | null,
  ): number;
  /** SO_ATTACH_FILTER with a classic BPF program (struct sock_fprog). */
  attachFilter(fd: number, program: SocketFilter[]): number;
  getsockopt(fd: number, level: number, name: number, val: Uint8Array, len: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  close(fd: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  inet_pton(af: number, text: string, dst: Uint8Array): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array): number;
  epoll_wait(epfd: number, events: Uint8Array, max: number, timeoutMs: number): number;
  errno(): number;
}

/** One classic BPF instruction (struct sock_filter). */
export interface SocketFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
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
    const filter = koffi.struct('lvs_ha_sock_filter', {
      code: 'uint16_t',
      jt: 'uint8_t',
      jf: 'uint8_t',
      k: 'uint32_t',
    });
    const fprog = koffi.struct('lvs_ha_sock_fprog', { len: 'uint16_t', filter: koffi.pointer(filter) });
    const setFilter = lib.func('int setsockopt(int, int, int, const lvs_ha_sock_fprog *, uint32_t)');
    const fprogSize = koffi.sizeof(fprog) as number;
    cached = {
      socket: f('int socket(int, int, int)'),
      connect: f('int connect(int, void *, uint32_t)'),
      bind: f('int bind(int, void *, uint32_t)'),
      getsockname: f('int getsockname(int, void *, void *)'),
      sendto: f('long sendto(int, void *, size_t, int, void *, uint32_t)'),
      recvfrom: f('long recvfrom(int, void *, size_t, int, void *, void *)'),
      attachFilter: (fd: number, program: SocketFilter[]) =>
        setFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.length, filter: program }, fprogSize),
      getsockopt: f('int getsockopt(int, int, int, void *, void *)'),
      setsockopt: f('int setsockopt(int, int, int, void *, uint32_t)'),
      close: f('int close(int)'),
      read: f('long read(int, void *, size_t)'),
      write: f('long write(int, void *, size_t)'),
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

export const { EACCES, EPERM, EINPROGRESS, EAGAIN } = constants.errno;
