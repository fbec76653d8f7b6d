// Whole packets as they travel on UDP.
//
// Heartbeat 3.0.6 always sends the netstring form followed by a trailer
// netstring "LEN:INDEX DIGEST," whose digest covers every byte from "###\n"
// through "%%%\n" (cl_netstring.c). With the default msgfmt (classic) it also
// puts an "auth" field inside the message, a digest of the classic form
// without ">>>"/"<<<" and without that field (add_msg_auth); receivers of the
// netstring form check only the trailer, receivers of the classic form only
// the field.
import { deflateSync, inflateSync } from 'node:zlib';
import type { Authenticator } from './auth.js';
import {
  classicSigningText,
  decodeClassic,
  decodeNetstring,
  encodeClassic,
  encodeNetstring,
  MAX_WIRE_LENGTH,
} from './codec.js';
import { HbProtoError } from './errors.js';
import { getBinary, getString, type HbMessage, message, setString } from './message.js';

export type WireFormat = 'netstring' | 'classic';

export interface DecodedPacket {
  format: WireFormat;
  message: HbMessage;
  /** the authentication string: the netstring trailer, or the classic form's "auth" field */
  auth: string | undefined;
  /** bytes the trailer's digest covers (netstring form) */
  signedLength: number;
}

/** Decodes a packet's structure (no authentication check). Throws HbProtoError. */
export function decodePacket(bytes: Uint8Array): DecodedPacket {
  if (bytes.length >= MAX_WIRE_LENGTH) {
    throw new HbProtoError(
      'OVERSIZED',
      `${bytes.length} bytes: Heartbeat messages are below ${MAX_WIRE_LENGTH} bytes`,
    );
  }
  if (bytes.length === 0) throw new HbProtoError('TRUNCATED', 'empty packet');
  if (bytes[0] === 0x3e) {
    const { message, length } = decodeClassic(bytes);
    if (length !== bytes.length)
      throw new HbProtoError('MALFORMED', 'stray bytes after the classic message', length);
    return { format: 'classic', message, auth: getString(message, 'auth'), signedLength: 0 };
  }
  const { message, length } = decodeNetstring(bytes);
  if (length === bytes.length) return { format: 'netstring', message, auth: undefined, signedLength: length };
  // the trailer: LEN ":" INDEX " " DIGEST ","
  let p = length;
  let n = 0;
  while (p < bytes.length && (bytes[p] as number) >= 0x30 && (bytes[p] as number) <= 0x39 && p - length < 4) {
    n = n * 10 + ((bytes[p] as number) - 0x30);
    p++;
  }
  if (p === bytes.length)
    throw new HbProtoError('TRUNCATED', 'input ends inside the authentication trailer', length);
  if (p === length || bytes[p] !== 0x3a)
    throw new HbProtoError('MALFORMED', 'bytes after "%%%" are not an authentication trailer', length);
  // one encoding per signed packet, as in codec.ts's readLength
  if (p - length > 1 && bytes[length] === 0x30)
    throw new HbProtoError('MALFORMED', "the authentication trailer's length has a leading zero", length);
  const end = p + 1 + n;
  if (end >= bytes.length)
    throw new HbProtoError('TRUNCATED', 'input ends inside the authentication trailer', p);
  if (bytes[end] !== 0x2c)
    throw new HbProtoError('MALFORMED', "the authentication trailer does not end with ','", end);
  if (end + 1 !== bytes.length)
    throw new HbProtoError('MALFORMED', 'stray bytes after the authentication trailer', end + 1);
  const auth = Buffer.from(bytes.buffer, bytes.byteOffset + p + 1, n).toString('latin1');
  return { format: 'netstring', message, auth, signedLength: length };
}

export interface EncodePacketOptions {
  /** signs the packet (trailer, and the "auth" field unless messageAuth is false) */
  auth?: Authenticator;
  format?: WireFormat;
  /** put Heartbeat's "auth" field in the message (default true, as msgfmt classic does) */
  messageAuth?: boolean;
}

/**
 * Sets the message's "auth" field as Heartbeat's add_msg_auth does
 * (replacing an existing one in place, else appending it).
 */
export function addMessageAuth(msg: HbMessage, auth: Authenticator): HbMessage {
  const copy: HbMessage = { fields: [...msg.fields] };
  setString(copy, 'auth', auth.sign(classicSigningText(copy)));
  return copy;
}

/** Encodes a packet for the wire. Netstring by default, signed when `auth` is given. */
export function encodePacket(msg: HbMessage, opts: EncodePacketOptions = {}): Buffer {
  const { auth, format = 'netstring', messageAuth = true } = opts;
  const signedMsg = auth && (messageAuth || format === 'classic') ? addMessageAuth(msg, auth) : msg;
  if (format === 'classic') {
    const out = encodeClassic(signedMsg);
    if (out.length >= MAX_WIRE_LENGTH)
      throw new HbProtoError('OVERSIZED', `message of ${out.length} bytes is too large for Heartbeat`);
    return out;
  }
  const body = encodeNetstring(signedMsg);
  let out = body;
  if (auth) {
    const trailer = auth.sign(body);
    out = Buffer.concat([body, Buffer.from(`${trailer.length}:${trailer},`, 'latin1')]);
  }
  if (out.length >= MAX_WIRE_LENGTH)
    throw new HbProtoError('OVERSIZED', `message of ${out.length} bytes is too large for Heartbeat`);
  return out;
}

/** Bytes encodePacket will produce. */
export function encodingLength(msg: HbMessage, opts: EncodePacketOptions = {}): number {
  return encodePacket(msg, opts).length;
}

/**
 * Decodes and authenticates a packet as Heartbeat's receiver does: the
 * netstring trailer, or the classic "auth" field. Compressed messages are
 * unwrapped. Throws HbProtoError (AUTH_* are counted by `auth`).
 */
export function openPacket(bytes: Uint8Array, auth: Authenticator): DecodedPacket {
  const packet = decodePacket(bytes);
  if (packet.format === 'netstring') {
    auth.verify(bytes.subarray(0, packet.signedLength), packet.auth, { keyOfActive: true });
  } else {
    auth.verify(classicSigningText(packet.message), packet.auth);
  }
  return { ...packet, message: decompressMessage(packet.message) };
}

/** Heartbeat's whole-message compression: fields _compressed_payload and _compression_algorithm. */
export const COMPRESSED_PAYLOAD = '_compressed_payload';
export const COMPRESSION_ALGORITHM = '_compression_algorithm';
/** Largest uncompressed message Heartbeat accepts (MAXUNCOMPRESSED, 2 MiB). */
export const MAX_UNCOMPRESSED = 2048 * 1024;

/** Unwraps a compressed message (zlib); returns other messages unchanged. */
export function decompressMessage(msg: HbMessage): HbMessage {
  const payload = getBinary(msg, COMPRESSED_PAYLOAD);
  if (payload === undefined) return msg;
  const algorithm = getString(msg, COMPRESSION_ALGORITHM);
  if (algorithm !== 'zlib') {
    throw new HbProtoError(
      'UNSUPPORTED',
      `compression "${algorithm ?? '?'}" is not supported (only zlib; Heartbeat's default plugin is bz2)`,
    );
  }
  let inner: Buffer;
  try {
    inner = inflateSync(payload, { maxOutputLength: MAX_UNCOMPRESSED });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE')
      throw new HbProtoError('OVERSIZED', `compressed message expands beyond ${MAX_UNCOMPRESSED} bytes`);
    throw new HbProtoError('MALFORMED', `compressed message does not inflate: ${(e as Error).message}`);
  }
  const decoded = inner[0] === 0x3e ? decodeClassic(inner) : decodeNetstring(inner);
  return decoded.message;
}

/**
 * Wraps a message the way cl_compressmsg does: a message with the zlib
 * deflate of the inner message's netstring form in _compressed_payload and
 * "zlib" in _compression_algorithm (Heartbeat peers need `compression zlib`
 * loaded to read it; its default plugin is bz2).
 */
export function compressMessage(msg: HbMessage): HbMessage {
  const inner = encodeNetstring(msg);
  if (inner.length >= MAX_UNCOMPRESSED) {
    throw new HbProtoError(
      'OVERSIZED',
      `message of ${inner.length} bytes is above Heartbeat's ${MAX_UNCOMPRESSED}`,
    );
  }
  return message([
    [COMPRESSED_PAYLOAD, deflateSync(inner)],
    [COMPRESSION_ALGORITHM, 'zlib'],
  ]);
}

/**
 * The nested message in a compressed field (type 4), which Heartbeat
 * inflates with the algorithm named by the message's _compression_algorithm.
 */
export function decompressField(msg: HbMessage, name: string): HbMessage {
  const field = msg.fields.find((f) => f.name === name);
  if (!field) throw new HbProtoError('INVALID_ARGUMENT', `no field "${name}"`);
  if (field.type === 'struct' || field.type === 'uncompressed') return field.value;
  if (field.type !== 'compressed')
    throw new HbProtoError('INVALID_ARGUMENT', `field "${name}" is a ${field.type}, not compressed`);
  return decompressMessage(
    message([
      [COMPRESSED_PAYLOAD, field.value],
      [COMPRESSION_ALGORITHM, getString(msg, COMPRESSION_ALGORITHM) ?? '?'],
    ]),
  );
}
