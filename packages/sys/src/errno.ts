// errno numbers and their symbols, from Node's own table for this platform
// (os.constants.errno), so nothing here is a hand-copied list.
import { constants } from 'node:os';

// glibc defines these two as the others (EWOULDBLOCK = EAGAIN, ENOTSUP =
// EOPNOTSUPP); the others are the names strace and the kernel sources use.
const ALIASES = new Set(['EWOULDBLOCK', 'ENOTSUP']);
const names = new Map<number, string>();
for (const [name, n] of Object.entries(constants.errno)) if (!ALIASES.has(name)) names.set(n, name);

/** "EPERM" for 1, "ECONNREFUSED" for 111, and so on; "errno N" for a number without a name. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

export const {
  EACCES,
  EADDRNOTAVAIL,
  EAGAIN,
  EBADF,
  ECONNREFUSED,
  EEXIST,
  EINPROGRESS,
  EINTR,
  ENOBUFS,
  EMSGSIZE,
  ENODEV,
  ENOENT,
  ENOTCONN,
  EPERM,
} = constants.errno;
