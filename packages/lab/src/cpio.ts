// A writer for the "newc" cpio format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst). Pure: entries
// in, bytes out.

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array | string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function header(
  ino: number,
  mode: number,
  nlink: number,
  size: number,
  rmaj: number,
  rmin: number,
  nameSize: number,
): string {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
  return `070701${[ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, nameSize, 0].map(hex8).join('')}`;
}

/** Encodes entries (parents before children) as a newc archive ending with the TRAILER!!! entry. */
export function encodeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  const enc = new TextEncoder();
  let offset = 0;
  const push = (b: Uint8Array) => {
    chunks.push(b);
    offset += b.length;
  };
  const pad = () => {
    const n = pad4(offset);
    if (n > 0) push(new Uint8Array(n));
  };
  const emit = (
    ino: number,
    mode: number,
    nlink: number,
    path: string,
    data: Uint8Array,
    rmaj = 0,
    rmin = 0,
  ) => {
    const name = enc.encode(`${path.replace(/^\/+/, '')}\0`);
    push(enc.encode(header(ino, mode, nlink, data.length, rmaj, rmin, name.length)));
    push(name);
    pad();
    if (data.length > 0) {
      push(data);
      pad();
    }
  };
  let ino = 1;
  for (const e of entries) {
    if (!e.path || e.path === '/' || e.path.split('/').includes('..')) {
      throw new RangeError(`bad cpio path: "${e.path}"`);
    }
    switch (e.type) {
      case 'dir':
        emit(ino++, S_IFDIR | (e.mode ?? 0o755), 2, e.path, new Uint8Array(0));
        break;
      case 'file':
        emit(
          ino++,
          S_IFREG | (e.mode ?? 0o644),
          1,
          e.path,
          typeof e.data === 'string' ? enc.encode(e.data) : e.data,
        );
        break;
      case 'symlink':
        emit(ino++, S_IFLNK | 0o777, 1, e.path, enc.encode(e.target));
        break;
      case 'char':
        emit(ino++, S_IFCHR | (e.mode ?? 0o600), 1, e.path, new Uint8Array(0), e.major, e.minor);
        break;
    }
  }
  emit(0, 0, 1, 'TRAILER!!!', new Uint8Array(0));
  const out = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

export interface CpioMember {
  path: string;
  mode: number;
  data: Uint8Array;
  rdevMajor: number;
  rdevMinor: number;
}

/** Decodes a newc archive (up to the trailer); used to check what encodeCpio wrote. */
export function decodeCpio(bytes: Uint8Array): CpioMember[] {
  const dec = new TextDecoder();
  const out: CpioMember[] = [];
  let at = 0;
  for (;;) {
    if (at + 110 > bytes.length) throw new RangeError(`cpio truncated at offset ${at}`);
    const h = dec.decode(bytes.subarray(at, at + 110));
    if (!h.startsWith('070701')) throw new RangeError(`bad cpio magic at offset ${at}`);
    const field = (i: number) => Number.parseInt(h.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = at + 110;
    const path = dec.decode(bytes.subarray(nameStart, nameStart + nameSize - 1));
    at = nameStart + nameSize;
    at += pad4(at);
    const data = bytes.subarray(at, at + size);
    at += size;
    at += pad4(at);
    if (path === 'TRAILER!!!') return out;
    out.push({ path, mode, data, rdevMajor: field(9), rdevMinor: field(10) });
  }
}
