// The Monitor against ldirectord, run inside a fresh network namespace (all
// traffic on its loopback) by monitor.bench.ts; prints one JSON line.
//   node --import tsx scenario.ts [seconds to measure]
//
// Each run: cheap listeners (listeners.mjs, another process, so their CPU is
// not counted), all checked at a 1 s interval; after a warm-up, CPU over a
// window (our process.cpuUsage(); ldirectord's utime+stime from
// /proc/<pid>/stat), checks per second (ours: the Monitor's count of checks
// done; ldirectord's: connections the listeners accepted),
// then listeners are closed one by one (a dead server: connection refused)
// and the delay to the `down` event (ldirectord: to its `ipvsadm -d`) is taken.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Monitor, type MonitoredServer } from '../src/index.js';

const WINDOW_S = Number(process.argv[2] ?? 10);
const PORT = 8080;
const listenersScript = fileURLToPath(new URL('listeners.mjs', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`[probes bench] ${s}\n`);
const address = (net: number, i: number) => `127.${net}.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const TICKS = 100; // CLK_TCK on Linux
const PER_VIRTUAL = 100;

type Kind = 'tcp' | 'http';

/** One listener process per 2,500 TCP or 250 HTTP servers, so they are not the bottleneck. */
class Listeners {
  private readonly procs: ChildProcess[] = [];
  private readonly waiters: ((l: string) => boolean)[] = [];
  private readonly per: number;
  private constructor(
    readonly kind: Kind,
    readonly count: number,
    readonly net: number,
  ) {
    this.per = kind === 'http' ? 250 : 2500;
    for (let first = 0; first < count; first += this.per) {
      const n = Math.min(this.per, count - first);
      const proc = spawn(
        process.execPath,
        [listenersScript, kind, String(n), String(net), String(PORT), String(first)],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      createInterface({ input: proc.stdout! }).on('line', (l) => {
        const i = this.waiters.findIndex((w) => w(l));
        if (i >= 0) this.waiters.splice(i, 1);
      });
      this.procs.push(proc);
    }
  }
  private next(prefix: string): Promise<string> {
    return new Promise((resolve) =>
      this.waiters.push((l) => {
        if (!l.startsWith(prefix)) return false;
        resolve(l);
        return true;
      }),
    );
  }
  static async start(kind: Kind, count: number, net: number): Promise<Listeners> {
    const l = new Listeners(kind, count, net);
    await Promise.all(l.procs.map(() => l.next('ready')));
    return l;
  }
  async kill(i: number): Promise<number> {
    const line = this.next(`killed ${i} `);
    this.procs[Math.floor(i / this.per)]!.stdin!.write(`kill ${i}\n`);
    return Number((await line).split(' ')[2]);
  }
  async accepts(): Promise<number> {
    const lines = this.procs.map(() => this.next('accepts '));
    for (const p of this.procs) p.stdin!.write('accepts\n');
    return (await Promise.all(lines)).reduce((a, l) => a + Number(l.split(' ')[1]), 0);
  }
  close(): void {
    for (const p of this.procs) {
      p.stdin!.end();
      p.kill();
    }
  }
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  return {
    n: s.length,
    min: s[0] ?? Number.NaN,
    p50: q(0.5),
    p95: q(0.95),
    max: s[s.length - 1] ?? Number.NaN,
  };
}

/**
 * Victims spread over the servers, killed 150 ms apart in a scrambled order
 * (in list order they would race ldirectord's sequential pass and bias it).
 */
function victims(count: number, n: number): number[] {
  const spread = Array.from({ length: n }, (_, k) => Math.floor(((k + 0.5) * count) / n));
  return spread.map((_, k) => spread[(k * 7) % n] as number); // 7 is prime to n = 10 and 20
}

async function ours(kind: Kind, count: number, net: number, threads = 0, halfOpen = false) {
  const L = await Listeners.start(kind, count, net);
  const spec =
    kind === 'tcp'
      ? ({
          checktype: 'connect',
          timeout: 1,
          reset: process.env.PROBES_BENCH_RESET !== '0',
          halfOpen,
        } as const)
      : ({
          checktype: 'negotiate',
          service: 'http',
          request: '/server-status',
          receive: 'Apache Server Status',
          timeout: 1,
        } as const);
  const servers: MonitoredServer[] = Array.from({ length: count }, (_, i) => ({
    id: String(i),
    target: { host: address(net, i), port: PORT },
    spec,
    interval: 1,
  }));
  const downAt = new Map<string, { at: number; reason: string | undefined }[]>();
  const m = new Monitor(servers, { concurrency: 512, threads });
  m.on('transition', (t) => {
    if (!t.up) downAt.set(t.id, [...(downAt.get(t.id) ?? []), { at: t.at, reason: t.result.reason }]);
  });
  const t0 = performance.now();
  const upNow = () => m.states().filter((s) => s.up === true).length;
  while (upNow() < count) {
    if (performance.now() - t0 > 60_000) throw new Error(`only ${upNow()}/${count} up after 60 s`);
    await sleep(100);
  }
  const allUpMs = performance.now() - t0;
  // The start is a burst (every server checked at once): what failed then is reported, not counted later.
  const startupDowns = [...downAt.values()].flat().map((d) => d.reason);
  downAt.clear();
  await sleep(2000);
  // Checks done: the Monitor's own count (a half-open check makes no connection for the listeners to count).
  const rounds = () => m.states().reduce((n, s) => n + s.rounds, 0);
  const a0 = await L.accepts();
  const r0 = rounds();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  await sleep(WINDOW_S * 1000);
  const c1 = process.cpuUsage(c0);
  const wall = performance.now() - w0;
  const checks = rounds() - r0;
  const accepted = (await L.accepts()) - a0;
  const cpuMs = (c1.user + c1.system) / 1000;
  const killedAt = new Map<string, number>();
  for (const i of victims(count, 20)) {
    killedAt.set(String(i), await L.kill(i));
    await sleep(150);
  }
  const after = (id: string) => downAt.get(id)?.find((d) => d.at >= (killedAt.get(id) as number));
  const d0 = performance.now();
  while ([...killedAt.keys()].some((id) => !after(id)) && performance.now() - d0 < 10_000) await sleep(50);
  const delays = [...killedAt.keys()].map(
    (id) => (after(id)?.at ?? Number.NaN) - (killedAt.get(id) as number),
  );
  const reasons = [...new Set([...killedAt.keys()].map((id) => after(id)?.reason))];
  // Down events of live servers after the warm-up (a check that timed out on a starved machine).
  const falseDowns = [...downAt].reduce(
    (n, [id, ds]) => n + ds.filter((d) => !killedAt.has(id) || d.at < (killedAt.get(id) as number)).length,
    0,
  );
  m.stop();
  L.close();
  return {
    who: `lvs-ha probes Monitor${threads > 0 ? ` (${threads} check threads)` : ''}${halfOpen ? ' (half-open)' : ''}`,
    kind,
    servers: count,
    allUpMs: Math.round(allUpMs),
    startupDowns: startupDowns.length,
    startupDownReasons: [...new Set(startupDowns)],
    checksPerSecond: Math.round((checks / wall) * 1000),
    connectionsAcceptedPerSecond: Math.round((accepted / wall) * 1000),
    cpuPercentOfOneCore: +((cpuMs / wall) * 100).toFixed(1),
    cpuMsPer1000Checks: +((cpuMs / checks) * 1000).toFixed(1),
    userMsPer1000Checks: +((c1.user / 1000 / checks) * 1000).toFixed(1),
    systemMsPer1000Checks: +((c1.system / 1000 / checks) * 1000).toFixed(1),
    downDelayMs: stats(delays),
    downReasons: reasons,
    falseDowns,
  };
}

/** utime and stime (fields 14, 15 of /proc/<pid>/stat), in clock ticks. */
function procCpuTicks(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

async function ldirectord(kind: Kind, count: number, net: number) {
  const L = await Listeners.start(kind, count, net);
  const dir = mkdtempSync(join(tmpdir(), 'probes-bench-ld-'));
  const name = `probes-bench-${process.pid}-${kind}`;
  const cf = join(dir, `${name}.cf`);
  const ipvsLog = join(dir, 'ipvsadm.log');
  const fake = join(dir, 'ipvsadm');
  // ldirectord runs /sbin/ipvsadm; a private mount namespace lays this over it.
  // The fake answers `-L -n` with every real server in place, as a running
  // director would, so ldirectord's start adds nothing (it forks ipvsadm
  // twice per real server to read the table); removals are logged with the time.
  const table: string[] = [];
  const thresholds: string[] = [];
  const head =
    'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn';
  for (let v = 0; v * PER_VIRTUAL < count; v++) {
    table.push(`TCP  198.51.100.${v + 1}:${PORT} wrr`);
    thresholds.push(`TCP  198.51.100.${v + 1}:${PORT} wrr`);
    for (let i = v * PER_VIRTUAL; i < Math.min(count, (v + 1) * PER_VIRTUAL); i++) {
      table.push(`  -> ${address(net, i)}:${PORT}    Route   1      0          0`);
      thresholds.push(`  -> ${address(net, i)}:${PORT}    0          0          0          0`);
    }
  }
  writeFileSync(join(dir, 'table'), `${head}\n${table.join('\n')}\n`);
  writeFileSync(join(dir, 'thresholds'), `${head}\n${thresholds.join('\n')}\n`);
  writeFileSync(
    fake,
    `#!/bin/sh\ncase "$*" in\n  -d*) echo "$(date +%s%3N) $*" >> ${ipvsLog};;\n  *--thresholds*) cat ${join(dir, 'thresholds')};;\n  -L*) cat ${join(dir, 'table')};;\nesac\nexit 0\n`,
  );
  chmodSync(fake, 0o755);
  writeFileSync(ipvsLog, '');
  const lines = [
    'checktimeout = 1',
    'negotiatetimeout = 1',
    'checkinterval = 1',
    'supervised = yes',
    'quiescent = no',
    '',
  ];
  for (let v = 0; v * PER_VIRTUAL < count; v++) {
    lines.push(`virtual = 198.51.100.${v + 1}:${PORT}`);
    for (let i = v * PER_VIRTUAL; i < Math.min(count, (v + 1) * PER_VIRTUAL); i++)
      lines.push(`\treal = ${address(net, i)}:${PORT} gate`);
    if (kind === 'tcp') lines.push('\tchecktype = connect');
    else
      lines.push(
        '\tchecktype = negotiate',
        '\tservice = http',
        '\trequest = "/server-status"',
        '\treceive = "Apache Server Status"',
      );
    lines.push('\tscheduler = wrr', '');
  }
  writeFileSync(cf, lines.join('\n'));
  const ld = spawn(
    'unshare',
    ['-m', 'sh', '-c', `mount --bind ${fake} /usr/sbin/ipvsadm && exec /usr/sbin/ldirectord ${cf} start`],
    { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const pid = ld.pid as number;
  try {
    // Warm-up: every real server checked at least twice.
    const t0 = performance.now();
    while ((await L.accepts()) < 2 * count) {
      if (performance.now() - t0 > 300_000) throw new Error('ldirectord did not check every server in 300 s');
      if (ld.exitCode !== null) throw new Error(`ldirectord exited with ${ld.exitCode}`);
      await sleep(200);
    }
    const firstPassesMs = performance.now() - t0;
    await sleep(1000);
    const a0 = await L.accepts();
    const c0 = procCpuTicks(pid);
    const w0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const c1 = procCpuTicks(pid);
    const userMs = ((c1[0] - c0[0]) / TICKS) * 1000;
    const systemMs = ((c1[1] - c0[1]) / TICKS) * 1000;
    const cpuMs = userMs + systemMs;
    const wall = performance.now() - w0;
    const checks = (await L.accepts()) - a0;
    const killedAt = new Map<string, number>();
    for (const i of victims(count, 10)) {
      killedAt.set(`${address(net, i)}:${PORT}`, await L.kill(i));
      await sleep(150);
    }
    const removedAt = () => {
      const m = new Map<string, number>();
      for (const l of readFileSync(ipvsLog, 'utf8').split('\n')) {
        const r = / -d .* -r (\S+)/.exec(l);
        const at = Number(l.split(' ')[0]);
        const k = r?.[1];
        if (k && (killedAt.get(k) ?? Number.POSITIVE_INFINITY) <= at && !m.has(k)) m.set(k, at);
      }
      return m;
    };
    const d0 = performance.now();
    while (removedAt().size < killedAt.size && performance.now() - d0 < 30_000) await sleep(100);
    const removed = removedAt();
    const delays = [...killedAt].map(([k, t]) => (removed.get(k) ?? Number.NaN) - t);
    return {
      who: 'ldirectord 4.12 (Debian)',
      kind,
      servers: count,
      firstPassesMs: Math.round(firstPassesMs),
      checksPerSecond: Math.round((checks / wall) * 1000),
      cpuPercentOfOneCore: +((cpuMs / wall) * 100).toFixed(1),
      cpuMsPer1000Checks: +((cpuMs / checks) * 1000).toFixed(1),
      userMsPer1000Checks: +((userMs / checks) * 1000).toFixed(1),
      systemMsPer1000Checks: +((systemMs / checks) * 1000).toFixed(1),
      downDelayMs: stats(delays),
    };
  } finally {
    ld.kill('SIGKILL');
    rmSync(`/var/run/ldirectord.${name}.cf.pid`, { force: true });
    rmSync(`/run/ldirectord.${name}.cf.pid`, { force: true });
    L.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const only = process.env.PROBES_BENCH_ONLY?.split(',');
const want = (k: string) => !only || only.includes(k);
const results: unknown[] = [];
if (want('ours-tcp')) {
  log('Monitor: 10,000 connect checks at 1 s');
  results.push(await ours('tcp', 10_000, 77));
}
if (want('ours-tcp-halfopen')) {
  log('Monitor: 10,000 half-open connect checks at 1 s');
  results.push(await ours('tcp', 10_000, 83, 0, true));
}
if (want('ours-tcp-threads')) {
  log('Monitor: 10,000 connect checks at 1 s on 2 check threads');
  results.push(await ours('tcp', 10_000, 82, 2));
}
if (want('ours-tcp-3k')) {
  log('Monitor: 3,000 connect checks at 1 s');
  results.push(await ours('tcp', 3_000, 81));
}
if (want('ours-http')) {
  log('Monitor: 1,000 HTTP negotiate checks at 1 s');
  results.push(await ours('http', 1_000, 78));
}
if (want('ld-tcp')) {
  log('ldirectord: 500 connect checks, checkinterval 1');
  results.push(await ldirectord('tcp', 500, 79));
}
if (want('ld-http')) {
  log('ldirectord: 100 HTTP negotiate checks, checkinterval 1');
  results.push(await ldirectord('http', 100, 80));
}
process.stdout.write(`${JSON.stringify(results)}\n`);
process.exit(0);
