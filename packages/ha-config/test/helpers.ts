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
