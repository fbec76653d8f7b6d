import {
  type DesiredService,
  decodeDestination,
  decodeService,
  encodeDestination,
  encodeService,
  type TableService,
} from '../../src/index.js';

/** The table the kernel would report for a desired table (through the codec, flags as the kernel sets HASHED). */
export function tableOf(desired: readonly DesiredService[]): TableService[] {
  return desired.map((d) => {
    const s = decodeService(encodeService(d));
    return {
      ...s,
      flags: s.flags | 2,
      hashed: true,
      destinations: d.destinations.map((x) => decodeDestination(encodeDestination(x), s.family)),
    };
  });
}
