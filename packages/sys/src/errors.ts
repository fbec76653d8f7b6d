// Every failure of @lvs-ha/sys is a SysError with a stable `code`: a caller
// can tell "this machine has no usable libc binding" (fall back to Node's
// own sockets, or say so) from "this TypeScript worker cannot start".

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type SysErrorCode = 'LIBC_UNAVAILABLE' | 'NO_TSX' | 'BAD_SOCKET_PATH';

export class SysError extends Error {
  override name = 'SysError';
  readonly code: SysErrorCode;
  constructor(code: SysErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** koffi or glibc cannot be loaded here (not installed, musl, another OS). */
export class LibcUnavailableError extends SysError {
  override name = 'LibcUnavailableError';
  /** Why, as the loader said it. */
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super('LIBC_UNAVAILABLE', `koffi cannot load libc: ${reason}`, options);
    this.reason = reason;
  }
}

/** A .ts worker was asked for, and tsx cannot be resolved from where the worker file is. */
export class NoTsxError extends SysError {
  override name = 'NoTsxError';
  constructor(worker: string, options?: { cause?: unknown }) {
    super(
      'NO_TSX',
      `cannot run the TypeScript worker ${worker}: tsx is not installed beside it (a development dependency; a built package runs its .js worker instead)`,
      options,
    );
  }
}

/** A Unix socket path sockaddr_un cannot hold: empty, 108 bytes or more, or with a NUL. */
export class BadSocketPathError extends SysError {
  override name = 'BadSocketPathError';
  constructor(readonly path: string) {
    super('BAD_SOCKET_PATH', `not a Unix socket path (1 to 107 bytes, no NUL): ${JSON.stringify(path)}`);
  }
}
