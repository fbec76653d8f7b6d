// Every failure of @lvs-ha/ipvs is an IpvsError with a stable `code`, so a
// caller (ldirectord's job, a resource agent) can tell "no such service" from
// "not root" from "bad input" without parsing the sentence, which is for people.
import { NetlinkDecodeError } from '@lvs-ha/netlink-frame';

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type IpvsErrorCode =
  | 'DECODE'
  | 'INVALID_ARGUMENT'
  | 'KERNEL'
  | 'NO_IPVS'
  | 'PERMISSION_DENIED'
  | 'SERVICE_EXISTS'
  | 'NO_SUCH_SERVICE'
  | 'DESTINATION_EXISTS'
  | 'NO_SUCH_DESTINATION'
  | 'SCHEDULER_NOT_FOUND'
  | 'DAEMON_RUNNING'
  | 'TIMEOUT'
  | 'TRANSPORT'
  | 'CLOSED'
  | 'PARSE';

export class IpvsError extends Error {
  override name = 'IpvsError';
  readonly code: IpvsErrorCode;
  constructor(code: IpvsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Bytes that do not decode: a truncated or malformed netlink message or attribute. */
export class DecodeError extends IpvsError {
  override name = 'DecodeError';
  /** Byte offset (within the buffer given to the decoder) where decoding failed. */
  readonly offset: number;
  constructor(what: string, offset: number) {
    super('DECODE', `${what} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** The shared framing's decode error as this package's DecodeError (same sentence, same offset). */
export function asDecodeError(e: unknown): unknown {
  return e instanceof NetlinkDecodeError ? new DecodeError(e.reason, e.offset) : e;
}

/** A value the caller passed cannot be encoded (bad address, port, weight…). Nothing was sent. */
export class InvalidArgumentError extends IpvsError {
  override name = 'InvalidArgumentError';
  readonly argument: string;
  constructor(argument: string, why: string) {
    super('INVALID_ARGUMENT', `invalid ${argument}: ${why}`);
    this.argument = argument;
  }
}

/** A line of `ipvsadm -S` text that does not parse. */
export class ParseError extends IpvsError {
  override name = 'ParseError';
  /** 1-based line number. */
  readonly line: number;
  constructor(line: number, why: string) {
    super('PARSE', `line ${line}: ${why}`);
    this.line = line;
  }
}

/**
 * The kernel refused a request: `errno` is the positive errno from the
 * NLMSG_ERROR payload, `errnoName` its symbol, the message says what was refused and why.
 */
export class IpvsKernelError extends IpvsError {
  override name = 'IpvsKernelError';
  readonly errno: number;
  readonly errnoName: string;
  /** The IPVS command that was refused, e.g. NEW_SERVICE. */
  readonly command: string;
  constructor(code: IpvsErrorCode, command: string, errno: number, sentence: string) {
    const errnoName = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(code, `${sentence} (${errnoName})`);
    this.errno = errno;
    this.errnoName = errnoName;
    this.command = command;
  }
}

/** Linux errno numbers the IPVS code paths return (asm-generic/errno-base.h, errno.h). */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  7: 'E2BIG',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  28: 'ENOSPC',
  34: 'ERANGE',
  71: 'EPROTO',
  90: 'EMSGSIZE',
  93: 'EPROTONOSUPPORT',
  95: 'EOPNOTSUPP',
  97: 'EAFNOSUPPORT',
  99: 'EADDRNOTAVAIL',
  105: 'ENOBUFS',
};
