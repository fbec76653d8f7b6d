// The one failure of this package: bytes that do not frame. It carries a
// stable `code` and the offset, and `reason` without the position, so a
// package built on it can re-raise it as its own error class word for word.

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type NetlinkFrameErrorCode = 'DECODE';

/** Bytes that do not decode: a truncated or malformed netlink message or attribute. */
export class NetlinkDecodeError extends Error {
  override name = 'NetlinkDecodeError';
  readonly code: NetlinkFrameErrorCode = 'DECODE';
  /** Byte offset (within the buffer given to the decoder, plus any `base`) where decoding failed. */
  readonly offset: number;
  /** What is wrong, without the offset. */
  readonly reason: string;
  constructor(reason: string, offset: number) {
    super(`${reason} (at byte ${offset})`);
    this.reason = reason;
    this.offset = offset;
  }
}
