// The libc calls Node does not offer (packet and raw sockets, netlink reads,
// epoll, setns…), through koffi: an FFI whose npm package ships prebuilt
// binaries for every Linux architecture, so installing needs no compiler.
// Bound lazily and once for the whole process, so importing this package
// (for errnoName, say) costs nothing and works where koffi cannot load.
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { BadSocketPathError, LibcUnavailableError } from './errors.js';

// Linux values (include/uapi, asm-generic). Address families AF_INET and
// AF_INET6 are @lvs-ha/ip's.
/** Unix domain sockets (AF_LOCAL): /dev/log, control sockets. */
export const AF_UNIX = 1;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
/** IPv6 raw sockets: the kernel computes (and checks) the checksum at this offset. */
export const IPV6_CHECKSUM = 7;
export const IPV6_V6ONLY = 26;
export const NETLINK_ROUTE = 0;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const SOL_SOCKET = 1;
export const SOL_NETLINK = 270;
export const SO_ERROR = 4;
export const SO_RCVBUF = 8;
export const SO_LINGER = 13;
export const SO_ATTACH_FILTER = 26;
export const SO_RCVBUFFORCE = 33;
export const MSG_DONTWAIT = 0x40;
/** No SIGPIPE when the peer of a stream socket has gone (EPIPE instead). */
export const MSG_NOSIGNAL = 0x4000;
/** sizeof(sun_path) in struct sockaddr_un: a Unix socket path has at most 107 bytes and a NUL. */
export const UNIX_PATH_MAX = 108;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const POLLIN = 1;
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

/**
 * The C prototypes libc() binds, by name. Exported for a worker that binds
 * libc itself (vip's watcher thread runs an evaluated CommonJS source that
 * cannot import this package): it gets these and koffiPath() and declares
 * nothing of its own.
 */
export const LIBC_PROTOTYPES = {
  socket: 'int socket(int, int, int)',
  connect: 'int connect(int, void *, uint32_t)',
  bind: 'int bind(int, void *, uint32_t)',
  getsockname: 'int getsockname(int, void *, void *)',
  sendto: 'long sendto(int, void *, size_t, int, void *, uint32_t)',
  recv: 'long recv(int, _Out_ void *, size_t, int)',
  recvfrom: 'long recvfrom(int, void *, size_t, int, void *, void *)',
  getsockopt: 'int getsockopt(int, int, int, void *, void *)',
  setsockopt: 'int setsockopt(int, int, int, void *, uint32_t)',
  poll: 'int poll(_Inout_ void *, unsigned long, int)',
  close: 'int close(int)',
  read: 'long read(int, void *, size_t)',
  write: 'long write(int, void *, size_t)',
  open: 'int open(const char *, int)',
  setns: 'int setns(int, int)',
  if_nametoindex: 'unsigned int if_nametoindex(const char *)',
  inet_pton: 'int inet_pton(int, const char *, void *)',
  epoll_create1: 'int epoll_create1(int)',
  epoll_ctl: 'int epoll_ctl(int, int, int, void *)',
  epoll_wait: 'int epoll_wait(int, void *, int, int)',
} as const;

/** One classic BPF instruction (struct sock_filter). */
export interface SocketFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/**
 * The calls, as libc has them: -1 (or 0 for if_nametoindex) on failure and
 * errno() says why. Buffers are passed by reference and written in place.
 */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, addr: Uint8Array, len: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint8Array): number;
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array | null,
    alen: number,
  ): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recvfrom(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array | null,
    alen: Uint8Array | null,
  ): number;
  getsockopt(fd: number, level: number, name: number, val: Uint8Array, len: Uint8Array): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  /** SO_ATTACH_FILTER with a classic BPF program (struct sock_fprog). */
  attachFilter(fd: number, program: SocketFilter[]): number;
  poll(fds: Uint8Array, n: number, timeoutMs: number): number;
  close(fd: number): number;
  /**
   * close(2) on libuv's thread pool: for sockets whose close waits in the
   * kernel (an AF_PACKET socket's close waits for an RCU grace period,
   * 8-20 ms, which close() would block this thread for). The fd must not be
   * used after the call.
   */
  closeInBackground(fd: number): void;
  read(fd: number, buf: Uint8Array, len: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  open(path: string, flags: number): number;
  setns(fd: number, nstype: number): number;
  if_nametoindex(name: string): number;
  inet_pton(af: number, text: string, dst: Uint8Array): number;
  epoll_create1(flags: number): number;
  epoll_ctl(epfd: number, op: number, fd: number, event: Uint8Array): number;
  epoll_wait(epfd: number, events: Uint8Array, max: number, timeoutMs: number): number;
  /** errno of the last call on this thread. */
  errno(): number;
}

/**
 * struct sockaddr_un for `path` (sa_family in host order, then the path and
 * its NUL), sized as the kernel wants it for bind/connect/sendto: pass
 * `.length` as the address length. Pure. Throws BadSocketPathError (code
 * BAD_SOCKET_PATH) for a path that does not fit sun_path (107 bytes) or
 * holds a NUL: the kernel would cut it short or read another path.
 */
export function sockaddrUn(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length === 0 || bytes.length >= UNIX_PATH_MAX || bytes.includes(0))
    throw new BadSocketPathError(path);
  const sa = new Uint8Array(2 + bytes.length + 1);
  new DataView(sa.buffer).setUint16(0, AF_UNIX, endianness() === 'LE');
  sa.set(bytes, 2);
  return sa;
}

/**
 * struct sockaddr_un for a name in Linux's abstract namespace (`name`
 * without the leading NUL that marks it: what `@name` means in
 * NOTIFY_SOCKET or `ss -x`), sized as the kernel wants it: the NUL, the
 * name, and no trailing NUL (every byte of the length is part of the name).
 * Pure. Throws BadSocketPathError (code BAD_SOCKET_PATH) for a name that is
 * empty, longer than 107 bytes or holds a NUL.
 */
export function sockaddrUnAbstract(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length >= UNIX_PATH_MAX || bytes.includes(0))
    throw new BadSocketPathError(`@${name}`);
  const sa = new Uint8Array(2 + 1 + bytes.length);
  new DataView(sa.buffer).setUint16(0, AF_UNIX, endianness() === 'LE');
  sa.set(bytes, 3);
  return sa;
}

let cached: Libc | undefined;
let unavailable: { reason: string; cause: unknown } | undefined;

/** Where koffi is installed (for a worker that loads it itself). Throws LibcUnavailableError where it is not. */
export function koffiPath(): string {
  try {
    return createRequire(import.meta.url).resolve('koffi');
  } catch (e) {
    throw new LibcUnavailableError((e as Error).message, { cause: e });
  }
}

/**
 * The binding, made on first use. Where koffi or glibc cannot be loaded it
 * throws LibcUnavailableError (code LIBC_UNAVAILABLE) with the loader's
 * reason, every time, without trying again: callers with a fallback catch it.
 */
export function libc(): Libc {
  if (cached) return cached;
  if (unavailable) throw new LibcUnavailableError(unavailable.reason, { cause: unavailable.cause });
  try {
    cached = bind();
    return cached;
  } catch (e) {
    unavailable = { reason: (e as Error)?.message ?? String(e), cause: e };
    throw new LibcUnavailableError(unavailable.reason, { cause: e });
  }
}

function bind(): Libc {
  // biome-ignore lint/suspicious/noExplicitAny: koffi's own types are loose; Libc types the calls used.
  const koffi = createRequire(import.meta.url)('koffi') as any;
  const lib = koffi.load('libc.so.6');
  const f = {} as Record<keyof typeof LIBC_PROTOTYPES, never>;
  for (const [name, prototype] of Object.entries(LIBC_PROTOTYPES))
    f[name as keyof typeof LIBC_PROTOTYPES] = lib.func(prototype) as never;
  const filter = koffi.struct('lvs_ha_sock_filter', {
    code: 'uint16_t',
    jt: 'uint8_t',
    jf: 'uint8_t',
    k: 'uint32_t',
  });
  const fprog = koffi.struct('lvs_ha_sock_fprog', { len: 'uint16_t', filter: koffi.pointer(filter) });
  const setFilter = lib.func('int setsockopt(int, int, int, const lvs_ha_sock_fprog *, uint32_t)');
  const fprogSize = koffi.sizeof(fprog) as number;
  return {
    ...f,
    attachFilter: (fd: number, program: SocketFilter[]) =>
      setFilter(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: program.length, filter: program }, fprogSize),
    errno: () => koffi.errno() as number,
    closeInBackground: (fd: number) => {
      (f.close as unknown as { async(fd: number, cb: (err: unknown, rc: number) => void): void }).async(
        fd,
        () => {},
      );
    },
  };
}
