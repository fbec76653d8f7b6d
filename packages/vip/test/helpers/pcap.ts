// Reads classic libpcap files (what `tcpdump -w` writes), so tests check
// what another program captured rather than what our own code saw.
import { readFileSync } from 'node:fs';

export interface PcapRecord {
  /** Capture time in microseconds since the epoch. */
  timeUs: number;
  data: Uint8Array;
}

export function readPcap(path: string): PcapRecord[] {
  const buf = readFileSync(path);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  if (!le && magic !== 0xd4c3b2a1 && magic !== 0x4d3cb2a1) throw new Error(`${path}: not a pcap file`);
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const out: PcapRecord[] = [];
  for (let off = 24; off + 16 <= buf.length; ) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const caplen = u32(off + 8);
    if (off + 16 + caplen > buf.length) break; // tcpdump killed mid-write
    out.push({
      timeUs: sec * 1e6 + (nano ? Math.floor(frac / 1000) : frac),
      data: buf.subarray(off + 16, off + 16 + caplen),
    });
    off += 16 + caplen;
  }
  return out;
}
