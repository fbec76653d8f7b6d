// One director of the pair as the fault suite drives it from outside: its
// namespace, its process (`lvs-ha start` from the sources through the CLI,
// or Debian's real Heartbeat), and what the test does to it (signals, link
// cut at its switch port, reboot). It tells the Liveness when the director
// stops or starts being live; nothing here asks lvs-ha what it believes
// (the control socket is only used for the operations a test performs:
// standby, and the fault ops of the fault-injection build).
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Netns, RealHeartbeat, tsxLoader } from '@lvs-ha/lab';
import { requestApi } from '../../../src/api.js';
import { type ControlRequest, httpOf } from '../../../src/control.js';
import { type NodeName, VIPS } from './config.js';
import type { Liveness } from './timeline.js';
import { sleep } from './watch.js';

/**
 * The lvs-ha under test: this tree's, or with LVS_HA_FAULTS_TREE=DIR the
 * one in DIR (an export of another commit, e.g. to see which faults fail
 * on an older main): DIR/packages/lvs-ha/src/cli.ts with DIR's sources.
 */
const TREE = process.env.LVS_HA_FAULTS_TREE;
const CLI = TREE
  ? join(TREE, 'packages/lvs-ha/src/cli.ts')
  : fileURLToPath(new URL('../../../src/cli.ts', import.meta.url));
// tsx maps the @lvs-ha packages to their sources (no build needed), as the heartbeat-peer test
const TSX_TSCONFIG_PATH = TREE
  ? join(TREE, 'packages/lvs-ha/test/guest.tsconfig.json')
  : fileURLToPath(new URL('../../guest.tsconfig.json', import.meta.url));

export type Impl = 'lvs-ha' | 'heartbeat';

/** A line a process printed, with when the test read it. */
export interface OutputLine {
  t: number;
  line: string;
}

/** `lvs-ha start` as a child process of the test. */
export class LvsHaProcess {
  readonly lines: OutputLine[] = [];
  exit: { t: number; code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly exited: Promise<void>;
  readonly startedAt = Date.now();
  /** the test killed it (SIGKILL): what it left behind is a crash's, not its own doing */
  killedByTest = false;
  #partial = '';

  constructor(
    readonly child: ChildProcess,
    onExit: (p: LvsHaProcess) => void,
  ) {
    const keep = (b: Buffer) => {
      const text = this.#partial + b.toString('utf8');
      const parts = text.split('\n');
      this.#partial = parts.pop() ?? '';
      const t = Date.now();
      for (const line of parts) this.lines.push({ t, line });
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { t: Date.now(), code, signal };
        if (this.#partial) this.lines.push({ t: Date.now(), line: this.#partial });
        onExit(this);
        resolve();
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  output(): string {
    return this.lines.map((l) => l.line).join('\n');
  }
}

export interface DirectorInit {
  name: NodeName;
  impl: Impl;
  ns: Netns;
  /** the switch namespace and this director's port on the bridge (what a cut takes down) */
  switchNs: Netns;
  port: string;
  /** its Heartbeat directory (lvs-ha: --config-dir), written by the pair */
  configDir: string;
  /** flag files of its vipb script */
  flags: string;
  control: string;
  live: Liveness;
  /** the live grace now (it follows the pair's timings) */
  graceMs: () => number;
  /** pids in its namespace that are the test's, not the node's (address monitor, HTTP server) */
  infraPids: () => number[];
  /** the real Heartbeat's files */
  heartbeatFiles?: { haCf: string; authkeys: string; haresources: string; vipb: string };
}

export interface StartOptions {
  /** more arguments for `lvs-ha start` (e.g. --script-timeout 3) */
  args?: readonly string[];
  env?: Record<string, string>;
}

export class Director {
  readonly name: NodeName;
  readonly impl: Impl;
  readonly ns: Netns;
  proc: LvsHaProcess | undefined;
  real: RealHeartbeat | undefined;
  /** every lvs-ha process this director ran, for the report */
  readonly history: LvsHaProcess[] = [];
  #running = false;
  /**
   * lvs-ha: it said "started as NAME" (joined the cluster). A node is live
   * only from then on: before it joins it is not a member, and whatever
   * addresses it has then are what a killed run left (fault 13), which it
   * must take down before it joins — checked by that fault itself.
   */
  #joined = false;
  #stopped = false;
  #cut = false;
  #live = false;
  #poll: NodeJS.Timeout | undefined;
  /** the real Heartbeat's master control process now */
  #master: number | undefined;

  constructor(readonly o: DirectorInit) {
    this.name = o.name;
    this.impl = o.impl;
    this.ns = o.ns;
  }

  get control(): string {
    return this.o.control;
  }

  get flags(): string {
    return this.o.flags;
  }

  /** pid of the node's main process (lvs-ha, or Heartbeat's master control process) */
  get pid(): number {
    return this.impl === 'lvs-ha' ? (this.proc?.pid ?? -1) : (this.#master ?? -1);
  }

  get running(): boolean {
    return this.#running;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  get isStopped(): boolean {
    return this.#stopped;
  }

  /** Live now (running, not stopped, links up, grace over)? */
  liveNow(): boolean {
    return this.o.live.isLive(this.name, Date.now());
  }

  /** In its grace: it will be live, not yet. */
  inGrace(): boolean {
    return this.#live && !this.liveNow();
  }

  #update(note: string): void {
    const ok = this.#running && this.#joined && !this.#stopped && !this.#cut;
    if (ok === this.#live) return;
    this.#live = ok;
    const now = Date.now();
    if (ok) this.o.live.up(this.name, now + this.o.graceMs(), note);
    else this.o.live.down(this.name, now, note);
  }

  /** The argv of `lvs-ha start` for this director. */
  startArgv(extra: readonly string[] = []): string[] {
    return [
      process.execPath,
      '--import',
      tsxLoader(),
      CLI,
      'start',
      '--config-dir',
      this.o.configDir,
      '--node',
      this.name,
      '--control',
      this.o.control,
      ...extra,
    ];
  }

  /** Spawns `lvs-ha start` in this namespace without tracking it as the director (a second instance). */
  spawnLvsHa(opts: StartOptions = {}): LvsHaProcess {
    const child = this.ns.spawn(this.startArgv(opts.args), { env: { TSX_TSCONFIG_PATH, ...opts.env } });
    return new LvsHaProcess(child, () => {});
  }

  /** Starts the node (lvs-ha start, or the real Heartbeat). */
  async start(opts: StartOptions = {}): Promise<void> {
    if (this.#running) throw new Error(`${this.name} is already running`);
    if (this.impl === 'lvs-ha') {
      const child = this.ns.spawn(this.startArgv(opts.args), { env: { TSX_TSCONFIG_PATH, ...opts.env } });
      const p = new LvsHaProcess(child, (x) => {
        if (this.proc !== x) return;
        this.#running = false;
        this.#update(`exited (${x.exit?.code ?? x.exit?.signal})`);
      });
      this.proc = p;
      this.history.push(p);
      this.#running = true;
      this.#joined = false;
      this.#update('started');
      void (async () => {
        while (p.running && !p.lines.some((l) => l.line.startsWith(`started as ${this.name}`)))
          await sleep(20);
        if (this.proc !== p || !p.running) return;
        this.#joined = true;
        this.#update('joined');
      })();
      return;
    }
    const f = this.o.heartbeatFiles;
    if (!f) throw new Error('no files for the real Heartbeat');
    if (this.real) await this.real.cleanup().catch(() => undefined);
    const real = await RealHeartbeat.start({
      ns: this.ns,
      name: this.name,
      haCf: f.haCf,
      authkeys: f.authkeys,
      haresources: f.haresources,
      files: { 'resource.d/vipb': f.vipb },
    });
    this.real = real;
    this.#running = true;
    this.#joined = true;
    this.#update('started');
    // the extra files are written 0644: the script must be executable before its first status
    await real.ns.runner.exec(['chmod', '755', `${real.dir}/etc/resource.d/vipb`], { check: true });
    await guardRealHeartbeat(real);
    this.#master = real.pid;
    clearInterval(this.#poll);
    let busy = false;
    this.#poll = setInterval(() => {
      if (busy || this.real !== real || !this.#running) return;
      busy = true;
      void this.#heartbeatAlive()
        .then((alive) => {
          if (!alive && this.real === real && this.#running) {
            this.#running = false;
            this.#update('heartbeat exited');
            clearInterval(this.#poll);
          }
        })
        .finally(() => {
          busy = false;
        });
    }, 50);
  }

  /**
   * Heartbeat's master control process runs. It is not always the process
   * the test started: Heartbeat answers a peer returning after a partition
   * by a restart (exec, then it daemonizes), and the new master is a child
   * in the same namespaces.
   */
  async #heartbeatAlive(): Promise<boolean> {
    if (this.#master !== undefined && processRuns(this.#master)) return true;
    // the master first; a process that is still only `heartbeat` (its title not yet set) keeps it alive too
    const heartbeats = (await this.nodePids().catch(() => [])).filter(
      (pid) => readProc(pid, 'comm').trim() === 'heartbeat' && processRuns(pid),
    );
    const master = heartbeats.find((pid) =>
      readProc(pid, 'cmdline').startsWith('heartbeat: master control process'),
    );
    if (master !== undefined) this.#master = master;
    return heartbeats.length > 0;
  }

  /** `cl_status ARGS` as the real node sees it (through its current master's namespaces). */
  async clStatus(...args: string[]): Promise<string> {
    if (this.#master === undefined) throw new Error(`${this.name} is not a running Heartbeat`);
    const r = await this.ns.runner.exec([
      'nsenter',
      '-t',
      String(this.#master),
      '-m',
      '-u',
      '-n',
      'cl_status',
      ...args,
    ]);
    return r.stdout.trim();
  }

  /** Waits until lvs-ha says it joined ("started as NAME") or the real Heartbeat runs. */
  async waitStarted(ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    if (this.impl === 'heartbeat') return;
    while (!this.proc?.lines.some((l) => l.line.startsWith(`started as ${this.name}`))) {
      if (!this.proc?.running)
        throw new Error(`${this.name}: lvs-ha start exited before it started:\n${this.output(30)}`);
      if (Date.now() > until)
        throw new Error(`${this.name}: not started within ${ms} ms:\n${this.output(30)}`);
      await sleep(50);
    }
  }

  /** Pids of the node's processes (everything in the namespace but the test's own). */
  async nodePids(): Promise<number[]> {
    const infra = new Set(this.o.infraPids());
    return (await this.ns.pids()).filter((p) => !infra.has(p));
  }

  /**
   * nodePids() read here, at once: what `ip netns pids` does (every /proc
   * entry whose network namespace is this one), without spawning it. A crash
   * uses it so that the kill lands when the test says it does: `ip netns
   * pids` took 10–100 ms on a loaded machine, while the node ran on.
   */
  nodePidsNow(): number[] {
    const ns = statSync(`/run/netns/${this.ns.name}`);
    const infra = new Set(this.o.infraPids());
    const out: number[] = [];
    for (const e of readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try {
        const st = statSync(`/proc/${e}/ns/net`);
        if (st.ino === ns.ino && st.dev === ns.dev && !infra.has(Number(e))) out.push(Number(e));
      } catch {
        // gone meanwhile
      }
    }
    return out;
  }

  /** SIGKILL of every process of the node (the main process, its scripts, Heartbeat's children). */
  async killAll(): Promise<void> {
    this.#markDead('SIGKILL');
    await this.#killEverything();
    await this.waitGone(10_000);
  }

  /**
   * SIGKILL until nothing of the node is left: a script it was starting as
   * the first round went out would otherwise live on (and bring an address
   * up after the "machine" died).
   */
  async #killEverything(): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      const pids = await this.nodePids();
      if (pids.length === 0) return;
      for (const p of pids) signal(p, 'SIGKILL');
      if (Date.now() > until) throw new Error(`${this.name}: processes ${pids.join(' ')} survive SIGKILL`);
      await sleep(30);
    }
  }

  /** A signal to the node's main process. SIGSTOP/SIGCONT/SIGKILL also change liveness. */
  signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid <= 0) throw new Error(`${this.name}: no process`);
    if (sig === 'SIGSTOP') {
      this.#stopped = true;
      this.#update('SIGSTOP');
    }
    if (sig === 'SIGKILL') this.#markDead('SIGKILL');
    signal(pid, sig);
    if (sig === 'SIGCONT') {
      this.#stopped = false;
      this.#update('SIGCONT');
    }
  }

  #markDead(note: string): void {
    if (this.proc?.running) this.proc.killedByTest = true;
    // the instant the test kills it, not when the exit is noticed
    if (this.#running) {
      this.#running = false;
      this.#update(note);
    }
  }

  /** Until its process (lvs-ha) or Heartbeat's master is gone. */
  async waitGone(ms: number): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const alive = this.impl === 'lvs-ha' ? (this.proc?.running ?? false) : await this.#heartbeatAlive();
      if (!alive) break;
      if (Date.now() > until) throw new Error(`${this.name} did not exit within ${ms} ms`);
      await sleep(20);
    }
    this.#markDead('exited');
  }

  /** Takes its switch port down: nothing reaches it, nothing it sends leaves. */
  async cut(): Promise<void> {
    this.#cut = true;
    this.#update('links cut');
    await this.o.switchNs.linkDown(this.o.port);
  }

  async restore(): Promise<void> {
    await this.o.switchNs.linkUp(this.o.port);
    this.#cut = false;
    this.#update('links restored');
  }

  /** When the last crash() had sent its SIGKILLs and had its switch port down (Date.now()). */
  lastCrash: { signalled: number; cut: number } | undefined;

  /** A machine death: every process killed and the links cut at the same moment. */
  async crash(): Promise<void> {
    const pids = this.nodePidsNow();
    this.#cut = true;
    this.#markDead('SIGKILL, links cut');
    for (const p of pids) signal(p, 'SIGKILL');
    const signalled = Date.now();
    await this.o.switchNs.linkDown(this.o.port);
    this.lastCrash = { signalled, cut: Date.now() };
    await this.#killEverything();
    await this.waitGone(10_000);
  }

  /** As a reboot leaves it: nothing of the node runs, none of the VIPs is on its interfaces. */
  async clear(): Promise<void> {
    this.#markDead('cleared');
    await this.#killEverything();
    await this.waitGone(10_000);
    await this.clearAddresses();
  }

  /** Deletes every VIP from its interfaces (what a reboot does to addresses nobody configured). */
  async clearAddresses(): Promise<void> {
    const out = (await this.ns.ip(['-o', '-4', 'addr', 'show'])).stdout;
    for (const line of out.split('\n')) {
      const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+\/\d+)/.exec(line);
      if (m && VIPS.includes((m[2] as string).split('/')[0] as string))
        await this.ns.ip(['addr', 'del', m[2] as string, 'dev', m[1] as string]).catch(() => undefined);
    }
  }

  /** One request to its control socket (the HTTP API), its answer's JSON body. */
  ask(req: ControlRequest, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return askSocket(this.o.control, req, timeoutMs);
  }

  /** The last lines it printed (lvs-ha), or of its ha-log (Heartbeat). */
  output(n = 60): string {
    if (this.impl === 'lvs-ha') return (this.proc?.output() ?? '').split('\n').slice(-n).join('\n');
    return '(see ha-log)';
  }

  /** The real Heartbeat's ha-log since `since` (its lines carry the second), at most n lines, without the noise. */
  async log(n = 60, since = 0): Promise<string> {
    if (this.impl === 'lvs-ha') return this.output(n);
    const year = new Date().getFullYear();
    return ((await this.real?.log()) ?? '')
      .split('\n')
      .filter((l) => !/Core dumps|core_pattern|core_uses_pid|Logging daemon|rc\.d\/status status/.test(l))
      .filter((l) => {
        // "Dec 02 17:15:06 load2 heartbeat: ..." or "2026/12/02_17:15:06  ResourceManager..."
        const m = /^(\w{3} \d\d \d\d:\d\d:\d\d)|^(\d{4})\/(\d\d)\/(\d\d)_(\d\d:\d\d:\d\d)/.exec(l);
        if (!m) return true;
        const t = m[1] ? Date.parse(`${m[1]} ${year}`) : Date.parse(`${m[2]}-${m[3]}-${m[4]}T${m[5]}`);
        return Number.isNaN(t) || t >= since - 1000;
      })
      .slice(-n)
      .join('\n');
  }

  async dispose(): Promise<void> {
    clearInterval(this.#poll);
    for (const p of await this.nodePids().catch(() => [])) signal(p, 'SIGKILL');
    await this.real?.cleanup().catch(() => undefined);
  }
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1');
  } catch {
    return '';
  }
}

/** The process exists and is not a zombie. */
function processRuns(pid: number): boolean {
  const stat = readProc(pid, 'stat');
  // pid (comm) STATE ...: the state is the first field after the last ')'
  return stat !== '' && !/^\s*[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 1));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

/**
 * One request to a control socket (its HTTP API, as the CLI asks it): the
 * answer's JSON body; a refusal as { ok: false, status, error: { code, message } }.
 */
export async function askSocket(
  path: string,
  req: ControlRequest,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const { method, path: url, body } = httpOf(req);
  const a = await requestApi({ socketPath: path }, method, url, { ...(body && { body }), timeoutMs });
  if (a.status >= 200 && a.status < 300 && typeof a.body === 'object' && a.body !== null)
    return a.body as Record<string, unknown>;
  return { ok: false, status: a.status, ...(typeof a.body === 'object' ? a.body : { text: a.text }) };
}

/**
 * Heartbeat's ResourceManager answers a stop that fails with `pkill -9
 * heartbeat` and `reboot -nf` (RecoverFromFailedStop). Its processes share
 * this machine's pid namespace, so that pkill would kill every Heartbeat on
 * the machine (other suites' too) and the reboot would be this machine's.
 * Our scripts never fail on the real node, but in case: inside its own
 * mount namespace (never ours: checked before anything is mounted), pkill
 * and reboot/init are /bin/false.
 */
async function guardRealHeartbeat(real: RealHeartbeat): Promise<void> {
  const own = spawnSync('readlink', ['/proc/self/ns/mnt'], { encoding: 'utf8' }).stdout.trim();
  const until = Date.now() + 10_000;
  for (;;) {
    const r = spawnSync('sh', ['-c', `readlink /proc/${real.pid}/ns/mnt; cat /proc/${real.pid}/comm`], {
      encoding: 'utf8',
    });
    const [mnt, comm] = r.stdout.trim().split('\n');
    if (mnt && own && mnt !== own && comm === 'heartbeat') break;
    if (Date.now() > until)
      throw new Error(`the real Heartbeat (pid ${real.pid}) is not in a mount namespace of its own`);
    await sleep(20);
  }
  const script = [
    'set -e',
    // the second check, from inside: refuse to mount anything in this machine's namespace
    `[ "$(readlink /proc/self/ns/mnt)" != "${own}" ]`,
    'for f in /usr/bin/pkill /sbin/reboot /sbin/init; do [ ! -e "$f" ] || mount --bind /bin/false "$f"; done',
  ].join('\n');
  const r = await real.inside(['sh', '-c', script]);
  if (r.code !== 0) throw new Error(`could not guard the real Heartbeat: ${r.stderr}`);
}
