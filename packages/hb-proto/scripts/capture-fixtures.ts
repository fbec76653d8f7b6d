// Captures what the real Heartbeat 3.0.6 puts on the wire, for the codec's
// golden vectors: two real nodes (alpha, beta) on a bridged segment in
// network namespaces, bcast on eth0, once per authentication method. Along
// the way alpha goes to standby (resource messages), a lossy link provokes
// retransmission requests, beta crashes and alpha shuts down.
//
//   sudo pnpm exec tsx packages/hb-proto/scripts/capture-fixtures.ts
//
// Writes test/fixtures/<method>/NN-<type>-<src>.bin (UDP payloads, byte for
// byte) and test/fixtures/fixtures.json (keys, and what each file is).

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { destroyAllNetns, RealHeartbeat, segment } from '@lvs-ha/lab';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'test', 'fixtures');

export const FIXTURE_KEYS = {
  crc: '',
  md5: 'hb-proto md5 fixture key',
  sha1: 'hb-proto sha1 fixture key',
} as const;
type Method = keyof typeof FIXTURE_KEYS;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function haCf(): string {
  return [
    'logfile /var/log/ha-log',
    'keepalive 500ms',
    'deadtime 3',
    'warntime 2',
    'initdead 6',
    'udpport 694',
    'bcast eth0',
    'auto_failback on',
    'node alpha beta',
    '',
  ].join('\n');
}

function authkeys(method: Method): string {
  return `auth 1\n1 ${method}${FIXTURE_KEYS[method] ? ` ${FIXTURE_KEYS[method]}` : ''}\n`;
}

/** UDP payloads of a classic pcap file (Ethernet, IPv4). */
export function udpPayloads(pcap: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 24;
  while (off + 16 <= pcap.length) {
    const incl = pcap.readUInt32LE(off + 8);
    const frame = pcap.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 17) continue;
    const ihl = ((frame[14] as number) & 15) * 4;
    out.push(Buffer.from(frame.subarray(14 + ihl + 8)));
  }
  return out;
}

function field(p: Buffer, name: string): string {
  const m = new RegExp(`\\(0\\)${name}=([^,]*),`).exec(p.toString('latin1'));
  return m?.[1] ?? '?';
}

async function captureOne(method: Method): Promise<{ file: string; type: string; src: string }[]> {
  const seg = await segment(['alpha', 'beta']);
  const [nsA, nsB] = seg.nodes as [NonNullable<(typeof seg.nodes)[0]>, NonNullable<(typeof seg.nodes)[0]>];
  const pcap = join(fixtures, `.${method}.pcap`);
  const tcpdump = seg.switchNs.spawn(['tcpdump', '-i', 'br0', '-U', '-w', pcap, 'udp port 694']);
  tcpdump.stdout?.resume();
  tcpdump.stderr?.resume();
  await sleep(1000);
  const common = { haCf: haCf(), authkeys: authkeys(method), haresources: 'alpha hbflag\n' };
  const alpha = await RealHeartbeat.start({ ns: nsA, name: 'alpha', ...common });
  const beta = await RealHeartbeat.start({ ns: nsB, name: 'beta', ...common });
  try {
    const seen = await alpha.waitStatus(['nodestatus', 'beta'], 'active', 30_000);
    if (seen !== 'active') throw new Error(`alpha never saw beta active (${seen})\n${await alpha.log()}`);
    await alpha.waitStatus(['rscstatus'], 'all', 30_000);
    await sleep(1500);
    if (method === 'sha1') {
      // resource hand-over messages, then lost packets and their retransmission
      await alpha.inside(['/usr/share/heartbeat/hb_standby', 'all']);
      await beta.waitStatus(['rscstatus'], 'all', 30_000);
      await nsB.sh('tc qdisc add dev eth0 root netem loss 50%').catch(() => undefined);
      await sleep(4000);
      await nsB.sh('tc qdisc del dev eth0 root').catch(() => undefined);
      await sleep(1500);
    }
    await beta.stop('crash');
    await alpha.waitStatus(['nodestatus', 'beta'], 'dead', 15_000);
    await alpha.stop('shutdown');
  } finally {
    await alpha.cleanup();
    await beta.cleanup();
    await sleep(500);
    tcpdump.kill('SIGINT');
    await new Promise((r) => tcpdump.once('exit', r));
    await seg.destroy();
  }
  const packets = udpPayloads(await readFile(pcap));
  await rm(pcap, { force: true });
  const dir = join(fixtures, method);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Keep the first two packets of each (type, source) and one of each status.
  const kept: { file: string; type: string; src: string }[] = [];
  const count = new Map<string, number>();
  for (const p of packets) {
    const type = field(p, 't');
    const src = field(p, 'src');
    const key = type === 'status' ? `${type}/${field(p, 'st')}/${src}` : `${type}/${src}`;
    const n = count.get(key) ?? 0;
    if (n >= (type === 'status' ? 1 : 2)) continue;
    count.set(key, n + 1);
    const file = `${method}/${String(kept.length).padStart(2, '0')}-${type}-${src}.bin`;
    await writeFile(join(fixtures, file), p);
    kept.push({ file, type, src });
  }
  console.log(`${method}: ${packets.length} packets captured, ${kept.length} kept`);
  return kept;
}

async function main(): Promise<void> {
  await mkdir(fixtures, { recursive: true });
  const index: Record<string, unknown> = {
    note: 'UDP payloads sent by Debian heartbeat 3.0.6 (bcast), made by scripts/capture-fixtures.ts',
    keys: FIXTURE_KEYS,
    authIndex: 1,
    files: {} as Record<string, unknown>,
  };
  try {
    for (const method of ['crc', 'md5', 'sha1'] as const) {
      (index.files as Record<string, unknown>)[method] = await captureOne(method);
    }
  } finally {
    await destroyAllNetns();
  }
  await writeFile(join(fixtures, 'fixtures.json'), `${JSON.stringify(index, null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
