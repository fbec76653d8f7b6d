// The few libc calls Node does not offer (packet sockets, setns, raw
// netlink reads), through koffi: an FFI whose npm package ships prebuilt
// binaries for every Linux architecture, so installing needs no compiler.
// Loaded lazily, so the pure codecs work where koffi is absent.
import { createRequire } from 'node:module';
import { constants } from 'node:os';

export const AF_PACKET = 17;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_DGRAM = 2;
export const SOCK_CLOEXEC = 0o2000000;
export const SOCK_NONBLOCK = 0o4000;
export const NETLINK_ROUTE = 0;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_RCVBUFFORCE = 33;
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const MSG_DONTWAIT = 0x40;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const CLONE_NEWNET = 0x40000000;
export const POLLIN = 1;

export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  sendto(
    fd: number,
    buf: Uint8Array,
    len: number,
    flags: number,
    addr: Uint8Array | null,
    alen: number,
  ): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  poll(fds: Uint8Array, n: number, timeoutMs: number): number;
  close(fd: number): number;
  open(path: string, flags: number): number;
  setns(fd: number, nstype: number): number;
  if_nametoindex(name: string): number;
  errno(): number;
}

let cached: Libc | undefined;

/** The libc binding; throws a plain Error naming koffi when it cannot load. */
export function libc(): Libc {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  // biome-ignore lint/suspicious/noExplicitAny: koffi's own types are loose; Libc types the calls used.
  const koffi = require('koffi') as any;
  const lib = koffi.load('libc.so.6');
  const f = (decl: string) => lib.func(decl);
  cached = {
    socket: f('int socket(int, int, int)'),
    bind: f('int bind(int, void *, uint32_t)'),
    sendto: f('long sendto(int, void *, size_t, int, void *, uint32_t)'),
    recv: f('long recv(int, _Out_ void *, size_t, int)'),
    setsockopt: f('int setsockopt(int, int, int, void *, uint32_t)'),
    poll: f('int poll(_Inout_ void *, unsigned long, int)'),
    close: f('int close(int)'),
    open: f('int open(const char *, int)'),
    setns: f('int setns(int, int)'),
    if_nametoindex: f('unsigned int if_nametoindex(const char *)'),
    errno: () => koffi.errno() as number,
  };
  return cached;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** "EPERM" for 1, and so on. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const EPERM = constants.errno.EPERM;
export const EACCES = constants.errno.EACCES;
export const ENOENT = constants.errno.ENOENT;
export const ENODEV = constants.errno.ENODEV;
export const EEXIST = constants.errno.EEXIST;
export const EAGAIN = constants.errno.EAGAIN;
export const EINTR = constants.errno.EINTR;
export const ENOBUFS = constants.errno.ENOBUFS;
export const EADDRNOTAVAIL = constants.errno.EADDRNOTAVAIL;
