// Kernel module metadata without modinfo/depmod (the guest's modules are
// never installed on the host): read a .ko's .modinfo ELF section and order
// a module set so each module comes after what it depends on.
import { LabError } from './errors.js';

/** The key=value strings of a module's .modinfo section (repeated keys keep every value). */
export function parseModinfo(ko: Uint8Array): Map<string, string[]> {
  const view = new DataView(ko.buffer, ko.byteOffset, ko.byteLength);
  if (ko.length < 64 || view.getUint32(0) !== 0x7f454c46)
    throw new LabError('GUEST_IMAGE', 'not an ELF file');
  if (ko[4] !== 2 || ko[5] !== 1) throw new LabError('GUEST_IMAGE', 'not a 64-bit little-endian ELF file');
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  const section = (i: number) => {
    const base = shoff + i * shentsize;
    if (base + 64 > ko.length) throw new LabError('GUEST_IMAGE', 'ELF section header out of bounds');
    return {
      name: view.getUint32(base, true),
      offset: Number(view.getBigUint64(base + 24, true)),
      size: Number(view.getBigUint64(base + 32, true)),
    };
  };
  const strtab = section(shstrndx);
  const nameAt = (off: number) => {
    let end = strtab.offset + off;
    while (end < ko.length && ko[end] !== 0) end++;
    return new TextDecoder().decode(ko.subarray(strtab.offset + off, end));
  };
  const info = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    if (nameAt(s.name) !== '.modinfo') continue;
    const text = new TextDecoder().decode(ko.subarray(s.offset, s.offset + s.size));
    for (const entry of text.split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const key = entry.slice(0, eq);
      const list = info.get(key) ?? [];
      list.push(entry.slice(eq + 1));
      info.set(key, list);
    }
    return info;
  }
  throw new LabError('GUEST_IMAGE', 'no .modinfo section');
}

/** Module names compare with '-' and '_' as the same character, as the kernel does. */
export function moduleKey(name: string): string {
  return name.replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_');
}

/** A module's direct dependencies from its modinfo ("depends=a,b"). */
export function moduleDepends(info: Map<string, string[]>): string[] {
  return (info.get('depends') ?? [])
    .flatMap((d) => d.split(','))
    .filter(Boolean)
    .map(moduleKey);
}

/**
 * Orders `wanted` plus everything they depend on so that each module comes
 * after its dependencies; `wanted`'s own order is kept where dependencies
 * allow (so a soft dependency such as crc32c_generic before libcrc32c can be
 * expressed by listing it first). `depends` returns a module's direct
 * dependencies; unknown modules throw.
 */
export function orderModules(
  wanted: readonly string[],
  depends: (name: string) => string[] | undefined,
): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    const key = moduleKey(name);
    const s = state.get(key);
    if (s === 'done') return;
    if (s === 'visiting')
      throw new LabError('GUEST_IMAGE', `module dependency cycle: ${[...chain, key].join(' -> ')}`);
    const deps = depends(key);
    if (deps === undefined) {
      throw new LabError(
        'GUEST_IMAGE',
        `kernel module ${key} not found${chain.length ? ` (needed by ${chain.at(-1)})` : ''}`,
      );
    }
    state.set(key, 'visiting');
    for (const d of deps) visit(d, [...chain, key]);
    state.set(key, 'done');
    order.push(key);
  };
  for (const w of wanted) visit(w, []);
  return order;
}
