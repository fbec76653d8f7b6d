// Issue 13, done-means 6: `lvs-ha director` at 10,000 real servers (100
// virtual services × 100 real servers) in the lab's qemu guest (real kernel
// IPVS; Node emulated by TCG, so every figure here is a TCG figure, several
// times a real machine's). The real servers: 100 addresses on rs1's back
// interface (198.51.100.100-199) and one Node process on rs1 listening on
// the 100 service ports; checktype connect. Printed: the time from the
// command's start to the full table in the kernel (ipvsadm -Ln), its RSS,
// and the CPU it uses per second of checking once the table is full.
//
// The director runs as installed (dist/cli.js as a program, through its
// shebang, which gives node --max-semi-space-size=1: build first, `pnpm
// turbo run build --filter=lvs-ha...`); BENCH_SCALE_NODE_FLAGS runs `node
// FLAGS dist/cli.js` instead (e.g. to compare V8's heap settings), and
// BENCH_SCALE_FROM=sources runs it from the TypeScript sources through tsx,
// as the lab tests do: tsx and its esbuild add about 30 MB of RSS that an
// installed lvs-ha does not have. The same director with one real server is
// measured first: what Node and lvs-ha cost before any real server.
//
// Seen 2026-12-04 (dist, quiet machine): 1 real server 59.8 MB RSS (41.7
// file-backed, the node binary's pages; 18.1 anonymous). 10,000 real
// servers: full table after 46-62 s; RSS 136.8 MB before this day's work,
// 118.7 MB with less heap per real server (41.9 file-backed, 76.8
// anonymous), 101.9 MB with the young generation at 1 MB (60.3 anonymous);
// CPU 93-95 % of a core under TCG either way. The live heap is about 2.3 KB
// per real server (a heap snapshot of the Director at 10,000 on the host):
// the target of 80 MB leaves 20 MB for 10,000 real servers beside Node's
// own 60, which would take a table of plain arrays rather than an object
// per real server in the config, the Monitor and the Director.
//
// Seen 2026-12-03 (2 shared cores under other runs): full table after 104 s.
// The table shows 256 real servers from about 22 s (the first change of the
// table, the checks in flight then) until one change adds the other 9,744 at
// the end: the checks finish long before the table does; what remains is
// the cost of one change of 10,000 entries under TCG (the kernel's
// operations, their netlink messages, and one log line each on stdout and
// syslog).
//
// BENCH_SCALE_LDIRECTORD=1 also runs Debian's ldirectord (the anchor) on the
// same file in the same guest, bounded by BENCH_SCALE_LDIRECTORD_MS (default
// 300 s): how far it got is printed if it does not finish.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capabilitiesSync, Guest, Lab, type LabHost, seedTopology, tsxLoader } from '@lvs-ha/lab';
import { bench, describe } from 'vitest';

const VIRTUALS = 100;
const REALS = 100;
const CHECK_S = 5;
const SETTLED_S = 30;
const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const dist = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const FROM = process.env.BENCH_SCALE_FROM === 'sources' ? 'sources' : 'dist';
const env = { TSX_TSCONFIG_PATH: fileURLToPath(new URL('../test/guest.tsconfig.json', import.meta.url)) };
/** Flags for the director's node (BENCH_SCALE_NODE_FLAGS, split at blanks), e.g. V8's heap sizes. */
const NODE_FLAGS = (process.env.BENCH_SCALE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const say = (line: string) => process.stderr.write(`[scale] ${line}\n`);
const realAddress = (j: number) => `198.51.100.${100 + j}`;
const port = (i: number) => 8000 + i;

function ldirectordCf(virtuals = VIRTUALS, reals = REALS): string {
  const lines = [`checkinterval = ${CHECK_S}`, 'checktimeout = 3', 'quiescent = no', 'logfile = "local0"'];
  for (let i = 0; i < virtuals; i++) {
    lines.push(`virtual = 192.0.2.50:${port(i)}`);
    for (let j = 0; j < reals; j++) lines.push(`\treal = ${realAddress(j)}:${port(i)} gate 1`);
    lines.push('\tscheduler = wrr', '\tprotocol = tcp', '\tchecktype = connect');
  }
  return `${lines.join('\n')}\n`;
}

// one process, 100 listening sockets: every connection accepted and closed
const LISTENER = `
const net = require('node:net');
for (let i = 0; i < ${VIRTUALS}; i++)
  net.createServer((s) => s.destroy()).listen(${port(0)} + i, '0.0.0.0');
setInterval(() => {}, 1 << 30);
`;

/** Real servers (the `->` lines of ipvsadm -Ln) for our addresses. */
async function reals(h: LabHost): Promise<number> {
  const t = await h.ipvsadm(['-Ln']);
  return t.split('\n').filter((l) => l.includes('-> 198.51.100.')).length;
}

async function pidsOf(h: LabHost, pattern: string): Promise<number[]> {
  const r = await h.sh(`pgrep -f '${pattern}' || true`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((p) => Number.isInteger(p));
}

/** RSS (kB; of it file-backed and anonymous) and CPU (user+system clock ticks) of the processes. */
async function usage(
  h: LabHost,
  pids: readonly number[],
): Promise<{ rssKb: number; fileKb: number; anonKb: number; ticks: number }> {
  let rssKb = 0;
  let fileKb = 0;
  let anonKb = 0;
  let ticks = 0;
  for (const p of pids) {
    const r = await h.sh(`cat /proc/${p}/status /proc/${p}/stat 2>/dev/null || true`);
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(r.stdout)?.[1] ?? 0);
    rssKb += kb('VmRSS');
    fileKb += kb('RssFile') + kb('RssShmem');
    anonKb += kb('RssAnon');
    const stat = r.stdout.split('\n').find((l) => l.startsWith(`${p} (`));
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return { rssKb, fileKb, anonKb, ticks };
}

interface Run {
  who: string;
  /** Real servers in its file. */
  of: number;
  fullMs: number | undefined;
  reached: number;
  rssMb: number;
  fileMb: number;
  anonMb: number;
  cpuPerS: number;
}

/** Starts the director, waits for the full table (bounded), measures, stops it. */
async function measure(
  h: LabHost,
  who: string,
  argv: string[],
  pattern: string,
  boundMs: number,
  stop: () => Promise<void>,
  /** false for a command that daemonizes (its own process exits at once) */
  watchExit = true,
  of = VIRTUALS * REALS,
): Promise<Run> {
  const t0 = Date.now();
  const proc = await h.ns.start(argv, { env });
  let reached = 0;
  let fullMs: number | undefined;
  let lastSaid = 0;
  while (Date.now() - t0 < boundMs) {
    reached = await reals(h).catch(() => reached);
    if (reached >= of) {
      fullMs = Date.now() - t0;
      break;
    }
    if (Date.now() - lastSaid > 10_000) {
      say(`${who}: ${reached} real servers in the table after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      lastSaid = Date.now();
    }
    if (watchExit && !(await proc.running()))
      throw new Error(`${who} exited:\n${(await proc.output()).slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  say(
    `${who}: ${fullMs === undefined ? `NOT full after ${boundMs} ms (${reached})` : `full table after ${fullMs} ms`}`,
  );
  const pids = await pidsOf(h, pattern);
  const a = await usage(h, pids);
  const ta = Date.now();
  await new Promise((r) => setTimeout(r, SETTLED_S * 1000));
  const b = await usage(h, pids);
  const seconds = (Date.now() - ta) / 1000;
  const hz = Number((await h.sh('getconf CLK_TCK')).stdout.trim()) || 100;
  const run: Run = {
    who,
    of,
    fullMs,
    reached,
    rssMb: b.rssKb / 1024,
    fileMb: b.fileKb / 1024,
    anonMb: b.anonKb / 1024,
    cpuPerS: (b.ticks - a.ticks) / hz / seconds,
  };
  await stop();
  await proc.stop().catch(() => undefined);
  return run;
}

describe(`the director at ${VIRTUALS * REALS} real servers (${VIRTUALS} virtuals × ${REALS}, connect checks every ${CHECK_S} s, qemu TCG guest)`, () => {
  bench(
    'start → full table, RSS, CPU per second of checking',
    async () => {
      const caps = capabilitiesSync();
      if (!caps.guest) {
        say(`skipped: no guest (${caps.reasons.join('; ')})`);
        return;
      }
      const guest = await Guest.boot({ log: (l) => say(`[lab] ${l}`) });
      let lab: Lab | undefined;
      try {
        lab = await Lab.start(seedTopology, { runner: guest });
        const load1 = lab.host('load1');
        const rs1 = lab.host('rs1');
        await rs1.sh(
          Array.from(
            { length: REALS },
            (_, j) => `ip addr add ${realAddress(j)}/32 dev ${rs1.iface('back')}`,
          ).join('\n'),
        );
        await rs1.ns.start(['node', '-e', LISTENER]);
        await load1.addVip();
        const file = join(guest.shareDir, 'scale-ldirectord.cf');
        writeFileSync(file, ldirectordCf());
        const one = join(guest.shareDir, 'scale-one-ldirectord.cf');
        writeFileSync(one, ldirectordCf(1, 1));
        const runs: Run[] = [];
        if (FROM === 'dist' && !existsSync(dist))
          throw new Error(
            `${dist} is missing: pnpm turbo run build --filter=lvs-ha... (or BENCH_SCALE_FROM=sources)`,
          );
        // how the director's node is started, and its name in the figures
        const [how, prefix]: [string, string[]] =
          FROM === 'sources'
            ? ['sources through tsx', ['node', ...NODE_FLAGS, '--import', tsxLoader(), cli]]
            : NODE_FLAGS.length > 0
              ? [`node ${NODE_FLAGS.join(' ')} dist/cli.js`, ['node', ...NODE_FLAGS, dist]]
              : ['dist/cli.js as installed', [dist]];
        const argv = (cf: string) => [...prefix, 'director', '--config', cf];
        // the same command with one real server: what Node and lvs-ha cost before any real server
        runs.push(
          await measure(
            load1,
            `lvs-ha director, 1 real server (${how})`,
            argv(one),
            'director --config',
            120_000,
            async () => {},
            true,
            1,
          ),
        );
        runs.push(
          await measure(
            load1,
            `lvs-ha director (${how})`,
            argv(file),
            'director --config',
            600_000,
            async () => {},
          ),
        );
        if (process.env.BENCH_SCALE_LDIRECTORD === '1') {
          await load1.exec(['ipvsadm', '-C']);
          runs.push(
            await measure(
              load1,
              'ldirectord',
              ['/usr/sbin/ldirectord', file, 'start'],
              'ldirectord',
              Number(process.env.BENCH_SCALE_LDIRECTORD_MS ?? 300_000),
              async () => {
                await load1.exec(['/usr/sbin/ldirectord', file, 'stop']).catch(() => undefined);
                await load1.exec(['ipvsadm', '-C']).catch(() => undefined);
              },
              false,
            ),
          );
        }
        for (const r of runs)
          say(
            `${r.who}: start → full table ${r.fullMs === undefined ? `not reached (${r.reached}/${r.of})` : `${(r.fullMs / 1000).toFixed(1)} s`}, RSS ${r.rssMb.toFixed(1)} MB${r.of === VIRTUALS * REALS ? ' (target ≤ 80 MB)' : ''} (file-backed ${r.fileMb.toFixed(1)}, anonymous ${r.anonMb.toFixed(1)}), CPU ${(r.cpuPerS * 100).toFixed(1)} % of a core per second of checking (over ${SETTLED_S} s)`,
          );
      } finally {
        await lab?.stop().catch(() => undefined);
        await guest.shutdown();
      }
    },
    { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0 },
  );
});
