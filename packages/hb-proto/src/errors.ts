// Every failure of the codec, the authentication and the node is an
// HbProtoError with a stable code and a sentence saying where and why.

/** Stable machine-readable codes. Add new ones here; never rename one. */
export type HbProtoErrorCode =
  /** the input ends before the message does */
  | 'TRUNCATED'
  /** larger than Heartbeat accepts (256 KiB on the wire, 16 levels of nesting) */
  | 'OVERSIZED'
  /** bytes that are not a Heartbeat message */
  | 'MALFORMED'
  /** no authentication where the keys require one */
  | 'AUTH_MISSING'
  /** the digest does not match: forged, corrupted or signed with another key */
  | 'AUTH_FAILED'
  /** signed with a key index our authkeys do not have */
  | 'AUTH_UNKNOWN_KEY'
  /** a value our encoder cannot put in the chosen form */
  | 'INVALID_ARGUMENT'
  /** valid Heartbeat, but something this library does not do (e.g. bz2 compression) */
  | 'UNSUPPORTED'
  /** socket-level failures of a node */
  | 'TRANSPORT';

export class HbProtoError extends Error {
  override readonly name = 'HbProtoError';
  readonly code: HbProtoErrorCode;
  /** byte offset in the input where the problem was found, when there is one */
  readonly offset: number | undefined;

  constructor(code: HbProtoErrorCode, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
    this.code = code;
    this.offset = offset;
  }
}
