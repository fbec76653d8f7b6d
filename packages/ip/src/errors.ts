// Every failure of @lvs-ha/ip is an IpError with a stable `code`. The
// InvalidAddressError keeps the text given and the reason apart, so a package
// built on this one can re-raise it as its own error class word for word.

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type IpErrorCode = 'INVALID_ADDRESS';

export class IpError extends Error {
  override name = 'IpError';
  readonly code: IpErrorCode;
  constructor(code: IpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Text (or bytes) that is not an IPv4/IPv6 address or prefix length, or an address of the wrong family. */
export class InvalidAddressError extends IpError {
  override name = 'InvalidAddressError';
  /** The text as given. */
  readonly input: string;
  /** What is wrong with it, without the input. */
  readonly reason: string;
  constructor(input: string, reason: string) {
    super('INVALID_ADDRESS', `"${input}" is not a valid address: ${reason}`);
    this.input = input;
    this.reason = reason;
  }
}
