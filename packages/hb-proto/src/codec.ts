// Heartbeat's two message forms, as cluster-glue's cl_msg*.c and
// cl_netstring.c write and read them:
//
// netstring form (what Heartbeat 3.0.6 sends whenever it authenticates,
// that is always):
//   "###\n" then one netstring per field, LEN ":" "(" TYPE ")" NAME "=" VALUE ","
//   then "%%%\n". Strings and binary values are raw bytes; a nested message is
//   the nested netstring form; a list is "3:abc,4:defg,".
//
// classic form (">>>\n" NAME=VALUE lines "<<<\n", what the msgfmt option
// names): a non-string field writes its type in front of the name, "(1)name=";
// binary values are base64; a newline inside a string becomes byte 19; a
// nested message is its own classic form on one line, its newlines turned
// into a byte that depends on the depth (20..31, then 15..18). Heartbeat
// sends a NUL after "<<<\n".
import { HbProtoError } from './errors.js';
import { FIELD_TYPE_NUMBERS, type HbField, type HbFieldType, type HbMessage } from './message.js';

/** Heartbeat refuses wire messages of MAXMSG (256 KiB) or more. */
export const MAX_WIRE_LENGTH = 256 * 1024;
/** Nested messages deeper than MAXDEPTH (16) are refused. */
export const MAX_DEPTH = 16;

export const NETSTRING_START = '###\n';
export const NETSTRING_END = '%%%\n';
export const CLASSIC_START = '>>>\n';
export const CLASSIC_END = '<<<\n';

const TYPE_BY_NUMBER: readonly HbFieldType[] = [
  'string',
  'binary',
  'struct',
  'list',
  'compressed',
  'uncompressed',
];
/** The byte that stands for a newline inside a string value (classic form). */
const STRING_NEWLINE = 19;
/** The byte that stands for a newline inside a nested message at each depth (classic form). */
const NESTED_NEWLINE = [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 15, 16, 17, 18];

function digits(n: number): number {
  return n < 10 ? 1 : Math.floor(Math.log10(n)) + 1;
}

function latin1Length(s: string): number {
  return s.length;
}

// ---------------------------------------------------------------------------
// netstring form: sizes

function listBodyLength(list: readonly string[]): number {
  let n = 0;
  for (const s of list) n += digits(s.length) + s.length + 2;
  return n;
}

function netstringValueLength(f: HbField, depth: number): number {
  switch (f.type) {
    case 'string':
      return latin1Length(f.value);
    case 'binary':
    case 'compressed':
      return f.value.length;
    case 'list':
      return listBodyLength(f.value);
    case 'struct':
    case 'uncompressed':
      return netstringMessageLength(f.value, depth + 1);
  }
}

function netstringFieldLength(f: HbField, depth: number): number {
  return 3 + latin1Length(f.name) + 1 + netstringValueLength(f, depth);
}

function netstringMessageLength(msg: HbMessage, depth: number): number {
  if (depth >= MAX_DEPTH) {
    throw new HbProtoError('OVERSIZED', `messages nest deeper than Heartbeat's ${MAX_DEPTH} levels`);
  }
  let n = NETSTRING_START.length + NETSTRING_END.length;
  for (const f of msg.fields) {
    const len = netstringFieldLength(f, depth);
    n += digits(len) + 1 + len + 1;
  }
  return n;
}

/** Bytes the netstring form of `msg` takes (without the authentication trailer). */
export function netstringLength(msg: HbMessage): number {
  return netstringMessageLength(msg, 0);
}

// ---------------------------------------------------------------------------
// netstring form: encode

function checkName(name: string): void {
  if (name.length === 0 || /[=\0]/.test(name) || /[^\0-\xff]/.test(name)) {
    throw new HbProtoError(
      'INVALID_ARGUMENT',
      `field name ${JSON.stringify(name)} must be 1 or more bytes without '=' or NUL`,
    );
  }
}

function checkBytes(what: string, s: string): void {
  if (/[^\0-\xff]/.test(s)) {
    throw new HbProtoError(
      'INVALID_ARGUMENT',
      `${what} has characters above U+00FF (values are byte strings)`,
    );
  }
}

function writeNetstringMessage(msg: HbMessage, buf: Buffer, at: number, depth: number): number {
  let p = at + buf.write(NETSTRING_START, at, 'latin1');
  for (const f of msg.fields) {
    checkName(f.name);
    const len = netstringFieldLength(f, depth);
    p += buf.write(`${len}:(${FIELD_TYPE_NUMBERS[f.type]})${f.name}=`, p, 'latin1');
    switch (f.type) {
      case 'string':
        checkBytes(`value of "${f.name}"`, f.value);
        p += buf.write(f.value, p, 'latin1');
        break;
      case 'binary':
      case 'compressed':
        buf.set(f.value, p);
        p += f.value.length;
        break;
      case 'list':
        if (f.value.length === 0) {
          throw new HbProtoError(
            'INVALID_ARGUMENT',
            `list "${f.name}" is empty (Heartbeat cannot read an empty list)`,
          );
        }
        for (const s of f.value) {
          if (s.length === 0) {
            throw new HbProtoError(
              'INVALID_ARGUMENT',
              `list "${f.name}" has an empty element (Heartbeat refuses them)`,
            );
          }
          checkBytes(`element of list "${f.name}"`, s);
          p += buf.write(`${s.length}:${s},`, p, 'latin1');
        }
        break;
      case 'struct':
      case 'uncompressed':
        p = writeNetstringMessage(f.value, buf, p, depth + 1);
        break;
    }
    buf[p++] = 0x2c; // ','
  }
  p += buf.write(NETSTRING_END, p, 'latin1');
  return p;
}

/** The netstring form of `msg`, "###\n" … "%%%\n" (no authentication trailer). */
export function encodeNetstring(msg: HbMessage): Buffer {
  const len = netstringLength(msg);
  const buf = Buffer.alloc(len);
  const end = writeNetstringMessage(msg, buf, 0, 0);
  if (end !== len) throw new Error(`hb-proto bug: netstring length ${len} but wrote ${end}`);
  return buf;
}

// ---------------------------------------------------------------------------
// netstring form: decode

function startsWith(buf: Uint8Array, at: number, end: number, marker: string): boolean {
  if (at + marker.length > end) return false;
  for (let i = 0; i < marker.length; i++) if (buf[at + i] !== marker.charCodeAt(i)) return false;
  return true;
}

/** A prefix of `marker` that the input ends inside? (truncated rather than malformed) */
function isPrefixOf(buf: Uint8Array, at: number, end: number, marker: string): boolean {
  for (let i = 0; at + i < end; i++) if (buf[at + i] !== marker.charCodeAt(i)) return false;
  return true;
}

const latin1 = (buf: Uint8Array, from: number, to: number): string =>
  Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('latin1');

/** Reads LEN ":" at `at`; returns [length, offset after ':']. */
function readLength(buf: Uint8Array, at: number, end: number, what: string): [number, number] {
  let p = at;
  let n = 0;
  while (p < end && (buf[p] as number) >= 0x30 && (buf[p] as number) <= 0x39) {
    n = n * 10 + ((buf[p] as number) - 0x30);
    p++;
    if (p - at > 7)
      throw new HbProtoError('OVERSIZED', `${what} declares a length of more than 7 digits`, at);
  }
  if (p === end) throw new HbProtoError('TRUNCATED', `input ends inside the length of ${what}`, at);
  if (p === at) throw new HbProtoError('MALFORMED', `${what} does not start with a decimal length`, at);
  if (buf[p] !== 0x3a) throw new HbProtoError('MALFORMED', `${what}: expected ':' after the length`, p);
  // Canonical lengths only (as netstrings define them, and as Heartbeat
  // writes them): "010:" would let different bytes carry the same signed
  // packet.
  if (p - at > 1 && buf[at] === 0x30)
    throw new HbProtoError('MALFORMED', `${what}: its length has a leading zero`, at);
  return [n, p + 1];
}

function decodeList(buf: Uint8Array, from: number, to: number, name: string): string[] {
  const out: string[] = [];
  let p = from;
  if (from === to) throw new HbProtoError('MALFORMED', `list "${name}" is empty`, from);
  while (p < to) {
    const [len, body] = readLength(buf, p, to, `an element of list "${name}"`);
    if (len === 0) throw new HbProtoError('MALFORMED', `list "${name}" has an empty element`, p);
    if (body + len >= to)
      throw new HbProtoError('MALFORMED', `an element of list "${name}" runs past the field`, p);
    if (buf[body + len] !== 0x2c)
      throw new HbProtoError('MALFORMED', `list "${name}": expected ',' after an element`, body + len);
    out.push(latin1(buf, body, body + len));
    p = body + len + 1;
  }
  return out;
}

function decodeNetstringAt(buf: Uint8Array, at: number, end: number, depth: number): [HbMessage, number] {
  if (depth >= MAX_DEPTH)
    throw new HbProtoError('OVERSIZED', `messages nest deeper than ${MAX_DEPTH} levels`, at);
  if (!startsWith(buf, at, end, NETSTRING_START)) {
    if (isPrefixOf(buf, at, end, NETSTRING_START))
      throw new HbProtoError('TRUNCATED', 'input ends inside "###"', at);
    throw new HbProtoError('MALFORMED', 'a netstring message starts with "###\\n"', at);
  }
  let p = at + NETSTRING_START.length;
  const fields: HbField[] = [];
  for (;;) {
    if (p >= end) throw new HbProtoError('TRUNCATED', 'input ends before "%%%" closes the message', p);
    if (startsWith(buf, p, end, NETSTRING_END)) return [{ fields }, p + NETSTRING_END.length];
    if (buf[p] === 0x25 && isPrefixOf(buf, p, end, NETSTRING_END)) {
      throw new HbProtoError('TRUNCATED', 'input ends inside "%%%"', p);
    }
    const [len, body] = readLength(buf, p, end, `field ${fields.length + 1}`);
    if (body + len >= end)
      throw new HbProtoError('TRUNCATED', `field ${fields.length + 1} runs past the end of the input`, p);
    if (buf[body + len] !== 0x2c)
      throw new HbProtoError(
        'MALFORMED',
        `field ${fields.length + 1}: expected ',' after ${len} bytes`,
        body + len,
      );
    const fend = body + len;
    if (len < 5 || buf[body] !== 0x28 || buf[body + 2] !== 0x29) {
      throw new HbProtoError(
        'MALFORMED',
        `field ${fields.length + 1} does not start with a type like "(0)"`,
        body,
      );
    }
    const typeNo = (buf[body + 1] as number) - 0x30;
    const type = TYPE_BY_NUMBER[typeNo];
    if (type === undefined)
      throw new HbProtoError(
        'MALFORMED',
        `field ${fields.length + 1} has unknown type (${String.fromCharCode(buf[body + 1] as number)})`,
        body + 1,
      );
    let eq = body + 3;
    while (eq < fend && buf[eq] !== 0x3d && buf[eq] !== 0) eq++;
    if (eq === body + 3 || eq >= fend || buf[eq] !== 0x3d) {
      throw new HbProtoError(
        'MALFORMED',
        `field ${fields.length + 1} has no "name=" (or a NUL in its name)`,
        body + 3,
      );
    }
    const name = latin1(buf, body + 3, eq);
    const v = eq + 1;
    switch (type) {
      case 'string':
        fields.push({ name, type, value: latin1(buf, v, fend) });
        break;
      case 'binary':
      case 'compressed':
        fields.push({ name, type, value: Buffer.from(buf.subarray(v, fend)) });
        break;
      case 'list':
        fields.push({ name, type, value: decodeList(buf, v, fend, name) });
        break;
      case 'struct':
      case 'uncompressed': {
        const [child, next] = decodeNetstringAt(buf, v, fend, depth + 1);
        if (next !== fend)
          throw new HbProtoError('MALFORMED', `nested message "${name}" is followed by stray bytes`, next);
        fields.push({ name, type, value: child });
        break;
      }
    }
    p = fend + 1;
  }
}

/**
 * Reads one netstring-form message at the start of `bytes`. Returns the
 * message and the number of bytes it took (what follows may be the
 * authentication trailer).
 */
export function decodeNetstring(bytes: Uint8Array): { message: HbMessage; length: number } {
  if (bytes.length >= MAX_WIRE_LENGTH) {
    throw new HbProtoError(
      'OVERSIZED',
      `${bytes.length} bytes: Heartbeat messages are below ${MAX_WIRE_LENGTH} bytes`,
    );
  }
  const [message, length] = decodeNetstringAt(bytes, 0, bytes.length, 0);
  return { message, length };
}

// ---------------------------------------------------------------------------
// classic form

function toSymbols(s: string, sym: number, what: string): string {
  const symChar = String.fromCharCode(sym);
  if (s.includes(symChar)) {
    throw new HbProtoError(
      'INVALID_ARGUMENT',
      `${what} contains byte ${sym}, which the classic form uses for newlines`,
    );
  }
  return s.replaceAll('\n', symChar);
}

function classicValue(f: HbField, depth: number): string {
  switch (f.type) {
    case 'string':
      checkBytes(`value of "${f.name}"`, f.value);
      if (f.value.includes('\0'))
        throw new HbProtoError(
          'INVALID_ARGUMENT',
          `value of "${f.name}" contains NUL (the classic form is a C string)`,
        );
      return toSymbols(f.value, STRING_NEWLINE, `value of "${f.name}"`);
    case 'binary':
    case 'compressed':
      return Buffer.from(f.value).toString('base64');
    case 'list':
      if (f.value.length === 0 || f.value.some((s) => s.length === 0 || /[\0\n]/.test(s))) {
        throw new HbProtoError(
          'INVALID_ARGUMENT',
          `list "${f.name}" must have non-empty elements without NUL or newline`,
        );
      }
      return f.value.map((s) => `${s.length}:${s},`).join('');
    case 'struct':
      if (depth + 1 >= MAX_DEPTH)
        throw new HbProtoError('OVERSIZED', `messages nest deeper than ${MAX_DEPTH} levels`);
      return toSymbols(
        classicText(f.value, depth + 1, true),
        NESTED_NEWLINE[depth] as number,
        `nested message "${f.name}"`,
      );
    case 'uncompressed':
      throw new HbProtoError(
        'INVALID_ARGUMENT',
        `field "${f.name}" (to be compressed) exists only in the netstring form`,
      );
  }
}

function classicText(msg: HbMessage, depth: number, head: boolean): string {
  let out = head ? CLASSIC_START : '';
  for (const f of msg.fields) {
    // Without the head the text is what Heartbeat signs: every field but "auth".
    if (!head && f.name === 'auth') continue;
    checkName(f.name);
    if (f.name.includes('\n') || f.name.startsWith('(')) {
      throw new HbProtoError(
        'INVALID_ARGUMENT',
        `field name ${JSON.stringify(f.name)} cannot be written in the classic form`,
      );
    }
    const value = classicValue(f, depth);
    if (value === '')
      throw new HbProtoError(
        'INVALID_ARGUMENT',
        `field "${f.name}" is empty (the classic form cannot carry an empty value)`,
      );
    out += `${f.type === 'string' ? '' : `(${FIELD_TYPE_NUMBERS[f.type]})`}${f.name}=${value}\n`;
  }
  return head ? out + CLASSIC_END : out;
}

/** The classic form, ">>>\n" name=value lines "<<<\n" and the NUL Heartbeat sends after it. */
export function encodeClassic(msg: HbMessage, { nul = true }: { nul?: boolean } = {}): Buffer {
  const text = classicText(msg, 0, true);
  return Buffer.from(nul ? `${text}\0` : text, 'latin1');
}

/**
 * The bytes Heartbeat authenticates in a message's own "auth" field: the
 * classic form without ">>>"/"<<<" and without the auth field itself.
 */
export function classicSigningText(msg: HbMessage): Buffer {
  return Buffer.from(classicText(msg, 0, false), 'latin1');
}

export function classicLength(msg: HbMessage, { nul = true }: { nul?: boolean } = {}): number {
  return classicText(msg, 0, true).length + (nul ? 1 : 0);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeClassicText(text: string, depth: number, base: number): [HbMessage, number] {
  if (!text.startsWith(CLASSIC_START)) {
    if (CLASSIC_START.startsWith(text)) throw new HbProtoError('TRUNCATED', 'input ends inside ">>>"', base);
    throw new HbProtoError('MALFORMED', 'a classic message starts with ">>>\\n"', base);
  }
  const fields: HbField[] = [];
  let p = CLASSIC_START.length;
  for (;;) {
    while (text[p] === '\n') p++;
    if (p >= text.length)
      throw new HbProtoError('TRUNCATED', 'input ends before "<<<" closes the message', base + p);
    if (text.startsWith(CLASSIC_END, p)) {
      p += CLASSIC_END.length;
      break;
    }
    const nl = text.indexOf('\n', p);
    if (nl < 0) {
      if (CLASSIC_END.startsWith(text.slice(p)))
        throw new HbProtoError('TRUNCATED', 'input ends inside "<<<"', base + p);
      throw new HbProtoError('TRUNCATED', 'input ends inside a line', base + p);
    }
    const line = text.slice(p, nl);
    if (line.includes('\0'))
      throw new HbProtoError('MALFORMED', 'NUL inside a line (Heartbeat stops reading there)', base + p);
    const eq = line.indexOf('=');
    if (eq <= 0) throw new HbProtoError('MALFORMED', 'line has no "name="', base + p);
    let name = line.slice(0, eq);
    const raw = line.slice(eq + 1);
    if (raw === '')
      throw new HbProtoError(
        'MALFORMED',
        `field "${name}" has an empty value, which Heartbeat refuses`,
        base + p,
      );
    let type: HbFieldType = 'string';
    if (name.startsWith('(')) {
      const m = /^\(([1-4])\)(.+)$/.exec(name);
      if (!m)
        throw new HbProtoError(
          'MALFORMED',
          `field name "${name}" has a bad type prefix (classic types are (1) to (4))`,
          base + p,
        );
      type = TYPE_BY_NUMBER[Number(m[1])] as HbFieldType;
      name = m[2] as string;
    }
    switch (type) {
      case 'string':
        fields.push({ name, type, value: raw.replaceAll(String.fromCharCode(STRING_NEWLINE), '\n') });
        break;
      case 'binary':
      case 'compressed':
        if (!BASE64.test(raw))
          throw new HbProtoError('MALFORMED', `field "${name}" is not base64`, base + p + eq + 1);
        fields.push({ name, type, value: Buffer.from(raw, 'base64') });
        break;
      case 'list':
        fields.push({ name, type, value: decodeList(Buffer.from(raw, 'latin1'), 0, raw.length, name) });
        break;
      case 'struct': {
        if (depth + 1 >= MAX_DEPTH)
          throw new HbProtoError('OVERSIZED', `messages nest deeper than ${MAX_DEPTH} levels`, base + p);
        const inner = raw.replaceAll(String.fromCharCode(NESTED_NEWLINE[depth] as number), '\n');
        const [child] = decodeClassicText(inner, depth + 1, base + p + eq + 1);
        fields.push({ name, type, value: child });
        break;
      }
    }
    p = nl + 1;
  }
  if (depth > 0 && p !== text.length)
    throw new HbProtoError('MALFORMED', 'stray bytes after a nested message', base + p);
  return [{ fields }, p];
}

/** Reads a classic-form message; returns it and the bytes it took (with the NUL after "<<<\n" if present). */
export function decodeClassic(bytes: Uint8Array): { message: HbMessage; length: number } {
  if (bytes.length >= MAX_WIRE_LENGTH) {
    throw new HbProtoError(
      'OVERSIZED',
      `${bytes.length} bytes: Heartbeat messages are below ${MAX_WIRE_LENGTH} bytes`,
    );
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
  const [message, end] = decodeClassicText(text, 0, 0);
  const length = text.charCodeAt(end) === 0 ? end + 1 : end;
  return { message, length };
}
