// Opening a socket inside a named network namespace (`ip netns add NAME`),
// without a child process: the calling thread enters the namespace with
// setns(2), creates the socket, and comes straight back. A socket stays in
// the namespace it was created in, so everything after works as usual.
// Synchronous on purpose: no other JavaScript runs while the thread is away.

import { CLONE_NEWNET, EACCES, ENOENT, EPERM, errnoName, libc, O_CLOEXEC, O_RDONLY } from '@lvs-ha/sys';
import { NoSuchNetnsError, PermissionDeniedError, VipError } from './errors.js';

export interface NetnsOption {
  /**
   * Name of a network namespace under /run/netns (as `ip netns` makes) in
   * which to open the sockets. Default: the process's own.
   */
  netns?: string | undefined;
}

export function inNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  if (!/^[^/\0]{1,255}$/.test(netns) || netns === '.' || netns === '..') throw new NoSuchNetnsError(netns);
  const c = libc();
  const target = c.open(`/run/netns/${netns}`, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    const e = c.errno();
    if (e === ENOENT) throw new NoSuchNetnsError(netns);
    throw new VipError('NO_SUCH_NETNS', `cannot open /run/netns/${netns}: ${errnoName(e)}`);
  }
  const home = c.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  if (home < 0) {
    c.close(target);
    throw new VipError('NO_SUCH_NETNS', `cannot open /proc/thread-self/ns/net: ${errnoName(c.errno())}`);
  }
  try {
    if (c.setns(target, CLONE_NEWNET) < 0) {
      const e = c.errno();
      if (e === EPERM || e === EACCES)
        throw new PermissionDeniedError(`entering network namespace ${netns}`, 'CAP_SYS_ADMIN');
      throw new VipError('NO_SUCH_NETNS', `setns(${netns}): ${errnoName(e)}`);
    }
    try {
      return fn();
    } finally {
      if (c.setns(home, CLONE_NEWNET) < 0) {
        // Staying in the wrong namespace would silently misdirect every later socket.
        process.emitWarning(`@lvs-ha/vip: cannot return from network namespace ${netns}`);
        process.abort();
      }
    }
  } finally {
    c.close(target);
    c.close(home);
  }
}
