// Netlink attributes (struct nlattr: u16 len, u16 type, payload, 4-byte
// alignment) encoded and decoded by walking a Schema. Pure. Netlink is
// host-endian; `be16` fields are network order as the kernel's nla_*_be16.
import { endianness } from 'node:os';
import { align4, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK } from '@lvs-ha/netlink-frame';
import { DecodeError, InvalidArgumentError } from './errors.js';
import type { AttrSpec, Schema } from './schema.js';

const LE = endianness() === 'LE';

type AttrObject = Record<string, unknown>;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function scalarLength(spec: AttrSpec, value: unknown): number {
  switch (spec.type) {
    case 'u8':
      return 1;
    case 'u16':
    case 'be16':
      return 2;
    case 'u32':
    case 'raw4':
    case 'in4':
      return 4;
    case 'u64':
    case 'flags':
      return 8;
    case 'inaddr':
    case 'in6':
      return 16;
    case 'string':
      return encoder.encode(String(value)).length + 1;
    case 'nested':
      // Bytes stand for an already-encoded payload (a service key shared by a batch).
      return value instanceof Uint8Array
        ? value.length
        : attrsLength(spec.nested as Schema, value as AttrObject);
    case 'pad':
      return 0;
  }
}

/** Bytes the attributes of `obj` take (every attribute padded to 4). */
export function attrsLength(schema: Schema, obj: AttrObject): number {
  let n = 0;
  for (const spec of schema.attrs) {
    const v = obj[spec.name];
    if (v === undefined || spec.type === 'pad') continue;
    n += align4(NLA_HDRLEN + scalarLength(spec, v));
  }
  return n;
}

function checkInt(spec: AttrSpec, schema: Schema, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw new InvalidArgumentError(
      `${schema.name}.${spec.name}`,
      `expected an integer 0..${max}, got ${String(v)}`,
    );
  return v;
}

function checkBytes(spec: AttrSpec, schema: Schema, v: unknown, max: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > max)
    throw new InvalidArgumentError(`${schema.name}.${spec.name}`, `expected at most ${max} bytes`);
  return v;
}

/** Writes the attributes of `obj` into `out` at `off`; returns the offset after them. */
export function encodeAttrsInto(
  schema: Schema,
  obj: AttrObject,
  out: Uint8Array,
  off: number,
  view?: DataView,
): number {
  const dv = view ?? new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (const spec of schema.attrs) {
    const v = obj[spec.name];
    if (v === undefined || spec.type === 'pad') continue;
    const start = off;
    let p = off + NLA_HDRLEN;
    switch (spec.type) {
      case 'u8':
        dv.setUint8(p, checkInt(spec, schema, v, 0xff));
        p += 1;
        break;
      case 'u16':
        dv.setUint16(p, checkInt(spec, schema, v, 0xffff), LE);
        p += 2;
        break;
      case 'be16':
        dv.setUint16(p, checkInt(spec, schema, v, 0xffff), false);
        p += 2;
        break;
      case 'u32':
        dv.setUint32(p, checkInt(spec, schema, v, 0xffffffff), LE);
        p += 4;
        break;
      case 'u64': {
        const b = typeof v === 'bigint' ? v : BigInt(checkInt(spec, schema, v, Number.MAX_SAFE_INTEGER));
        if (b < 0n || b > 0xffffffffffffffffn)
          throw new InvalidArgumentError(`${schema.name}.${spec.name}`, 'out of the u64 range');
        dv.setBigUint64(p, b, LE);
        p += 8;
        break;
      }
      case 'flags': {
        const f = v as { flags: number; mask: number };
        dv.setUint32(p, checkInt(spec, schema, f.flags, 0xffffffff), LE);
        dv.setUint32(p + 4, checkInt(spec, schema, f.mask, 0xffffffff), LE);
        p += 8;
        break;
      }
      case 'inaddr':
      case 'in6':
        out.fill(0, p, p + 16);
        out.set(checkBytes(spec, schema, v, 16), p);
        p += 16;
        break;
      case 'in4':
      case 'raw4':
        out.fill(0, p, p + 4);
        out.set(checkBytes(spec, schema, v, 4), p);
        p += 4;
        break;
      case 'string': {
        const s = encoder.encode(String(v));
        if (spec.maxLength !== undefined && s.length + 1 > spec.maxLength)
          throw new InvalidArgumentError(
            `${schema.name}.${spec.name}`,
            `"${String(v)}" is longer than ${spec.maxLength - 1} bytes`,
          );
        if (s.includes(0))
          throw new InvalidArgumentError(`${schema.name}.${spec.name}`, 'contains a NUL byte');
        out.set(s, p);
        out[p + s.length] = 0;
        p += s.length + 1;
        break;
      }
      case 'nested':
        if (v instanceof Uint8Array) {
          out.set(v, p);
          p += v.length;
        } else p = encodeAttrsInto(spec.nested as Schema, v as AttrObject, out, p, dv);
        break;
    }
    dv.setUint16(start, p - start, LE);
    dv.setUint16(start + 2, spec.type === 'nested' ? spec.id | NLA_F_NESTED : spec.id, LE);
    const end = align4(p);
    out.fill(0, p, end);
    off = end;
  }
  return off;
}

export function encodeAttrs(schema: Schema, obj: AttrObject): Uint8Array {
  const out = new Uint8Array(attrsLength(schema, obj));
  encodeAttrsInto(schema, obj, out, 0);
  return out;
}

const exactLength: Partial<Record<AttrSpec['type'], number>> = {
  u8: 1,
  u16: 2,
  be16: 2,
  u32: 4,
  u64: 8,
  flags: 8,
  in4: 4,
  raw4: 4,
  in6: 16,
};

/**
 * Decodes the attributes in `buf[off, end)`. Unknown attribute types (a newer
 * kernel) are skipped; a wrong length for a known one is a DecodeError.
 * `base` is added to offsets in errors so they point into the whole message.
 */
export function decodeAttrs(
  schema: Schema,
  buf: Uint8Array,
  off = 0,
  end = buf.length,
  base = 0,
): AttrObject {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: AttrObject = {};
  while (off < end) {
    if (end - off < NLA_HDRLEN)
      throw new DecodeError(
        `truncated attribute header in ${schema.name} (${end - off} bytes left)`,
        base + off,
      );
    const len = dv.getUint16(off, LE);
    const type = dv.getUint16(off + 2, LE) & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN || off + len > end)
      throw new DecodeError(
        `attribute ${type} in ${schema.name} says ${len} bytes but ${end - off} remain`,
        base + off,
      );
    const p = off + NLA_HDRLEN;
    const size = len - NLA_HDRLEN;
    const spec = schema.byId.get(type);
    if (spec && spec.type !== 'pad') {
      const want = exactLength[spec.type];
      if (want !== undefined && size !== want)
        throw new DecodeError(`${schema.name}.${spec.name} is ${size} bytes, expected ${want}`, base + off);
      switch (spec.type) {
        case 'u8':
          out[spec.name] = dv.getUint8(p);
          break;
        case 'u16':
          out[spec.name] = dv.getUint16(p, LE);
          break;
        case 'be16':
          out[spec.name] = dv.getUint16(p, false);
          break;
        case 'u32':
          out[spec.name] = dv.getUint32(p, LE);
          break;
        case 'u64':
          {
            // A number while exact (below 2^53), a bigint beyond: BigInt is slow to make.
            const lo = dv.getUint32(p + (LE ? 0 : 4), LE);
            const hi = dv.getUint32(p + (LE ? 4 : 0), LE);
            out[spec.name] = hi < 0x200000 ? hi * 0x100000000 + lo : dv.getBigUint64(p, LE);
          }
          break;
        case 'flags':
          out[spec.name] = { flags: dv.getUint32(p, LE), mask: dv.getUint32(p + 4, LE) };
          break;
        case 'inaddr': {
          if (size > 16)
            throw new DecodeError(`${schema.name}.${spec.name} is ${size} bytes, at most 16`, base + off);
          const a = new Uint8Array(16);
          a.set(buf.subarray(p, p + size));
          out[spec.name] = a;
          break;
        }
        case 'in4':
        case 'raw4':
        case 'in6':
          out[spec.name] = buf.slice(p, p + size);
          break;
        case 'string': {
          const bytes = buf.subarray(p, p + size);
          const nul = bytes.indexOf(0);
          out[spec.name] = decoder.decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
          break;
        }
        case 'nested':
          out[spec.name] = decodeAttrs(spec.nested as Schema, buf, p, p + size, base);
          break;
      }
    }
    off += align4(len);
    // The last attribute's padding may be missing: never read past `end`.
    if (off > end) off = end;
  }
  return out;
}
