import { expect } from 'vitest';

// Values compared across a write → parse round trip: positions differ by
// design (the writer normalises spacing), everything else must not.
const POSITION_KEYS = new Set(['line', 'column', 'argColumns', 'authLine']);

export function stripPositions<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripPositions) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (!POSITION_KEYS.has(k)) out[k] = stripPositions(v);
    return out as T;
  }
  return value;
}

/**
 * An encoding without positions and with keys sorted: equal strings ⇔ deeply
 * equal values (undefined properties ignored, as toEqual ignores them).
 */
export function canonical(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v !== 'object' || v === null) return String(v);
  let out: string;
  if (Array.isArray(v)) {
    out = '[';
    for (const x of v) out += `${canonical(x)},`;
    return `${out}]`;
  }
  const o = v as Record<string, unknown>;
  out = '{';
  for (const k of Object.keys(o).sort())
    if (!POSITION_KEYS.has(k) && o[k] !== undefined) out += `${k}:${canonical(o[k])},`;
  return `${out}}`;
}

/** Round-trip check for hot property loops: a cheap string compare, and `expect` (with its diff) only on a mismatch. */
export function expectSameValue(actual: unknown, expected: unknown): void {
  if (canonical(actual) !== canonical(expected))
    expect(stripPositions(actual)).toEqual(stripPositions(expected));
}
