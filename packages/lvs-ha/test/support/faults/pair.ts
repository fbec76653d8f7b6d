// A pair of directors on a segment of their own, as the fault suite and the
// soak use it: network namespaces load1, load2 and a client on one bridge
// (the lab's segment(): each node's eth0 on a port of a bridge in a switch
// namespace, 192.0.2.(i+1)/24 with its broadcast), an HTTP server in each
// director's namespace answering its name, the client asking every VIP, one
// address monitor per director, and the Liveness the directors keep.
//
// What it reads is read from outside: addresses from the kernel, answers
// from the client; never lvs-ha's own idea of who holds what.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackgroundProcess, type Netns, type Segment, segment, startHttpServer } from '@lvs-ha/lab';
import { Client } from './client.js';
import {
  AUTHKEYS,
  HARESOURCES,
  HOME,
  haCf,
  type Kind,
  liveGraceMs,
  NODES,
  type NodeName,
  TIMINGS,
  type Timings,
  VIPS,
  vipbScript,
} from './config.js';
import { Director, type Impl, type StartOptions } from './director.js';
import { type AddressEvent, describeVipReport, Liveness, type VipReport, vipReport } from './timeline.js';
import { AddressWatcher, sleep } from './watch.js';

/** Heartbeat's RQSTDELAY: a node waits this long for a peer that is also starting before it takes its groups. */
export const RQSTDELAY_MS = 10_000;

/** Where each VIP should be: a node, or 'any' (exactly one live director, either). */
export type Layout = Record<string, NodeName | 'any'>;
export const ALL_ON = (n: NodeName): Layout => Object.fromEntries(VIPS.map((v) => [v, n]));
export const ANY: Layout = Object.fromEntries(VIPS.map((v) => [v, 'any']));

/** A fault's expectation was not met: the message says what was seen. */
export class FaultFailure extends Error {
  override readonly name = 'FaultFailure';
}

export interface PairOptions {
  kind: Kind;
  /** short, [a-z0-9], different for every pair of a run (namespace labels) */
  label: string;
  timings?: Timings;
  /** every line the pair wants to say (progress) */
  log?: (line: string) => void;
  /** client requests per VIP: one every this many ms (default 100) */
  clientEveryMs?: number;
  /** the client's request timeout in ms (default 500) */
  clientTimeoutMs?: number;
  /** which implementation runs on a node, over the kind's (e.g. both 'heartbeat': a pair of real Heartbeats) */
  impls?: Partial<Record<NodeName, Impl>>;
}

/** What one fault did to the pair, read from outside. */
export interface FaultReport {
  fault: string;
  kind: Kind;
  from: number;
  to: number;
  vips: VipReport[];
  splitBrainMoments: number;
  outageMs: number;
  requests: number;
  failedRequests: number;
}

export class Pair {
  readonly kind: Kind;
  #timings: Timings;
  readonly live: Liveness;
  readonly directors: Record<NodeName, Director>;
  readonly watchers: Record<NodeName, AddressWatcher>;
  /** lvs-ha's extra environment: the fault-injection build's control ops */
  readonly env: Record<string, string> = { LVS_HA_FAULT_INJECTION: '1' };
  log: (line: string) => void;

  private constructor(
    readonly o: PairOptions,
    readonly seg: Segment,
    readonly dir: string,
    directors: Record<NodeName, Director>,
    watchers: Record<NodeName, AddressWatcher>,
    readonly http: BackgroundProcess[],
    readonly client: Client,
    live: Liveness,
  ) {
    this.kind = o.kind;
    this.#timings = o.timings ?? TIMINGS[o.kind];
    this.directors = directors;
    this.watchers = watchers;
    this.live = live;
    this.log = o.log ?? (() => {});
  }

  static async create(o: PairOptions): Promise<Pair> {
    if (!/^[a-z0-9]{1,8}$/.test(o.label)) throw new Error(`pair label ${o.label}: 1-8 of [a-z0-9]`);
    const timings = o.timings ?? TIMINGS[o.kind];
    const seg = await segment([`flt${o.label}_load1`, `flt${o.label}_load2`, `flt${o.label}_client`]);
    const [ns1, ns2, clientNs] = seg.nodes as [Netns, Netns, Netns];
    removeStaleDirs();
    const dir = mkdtempSync(join(tmpdir(), `lvsha-faults-${process.pid}-${o.label}-`));
    const live = new Liveness(NODES);
    const cf = haCf(timings);
    let made: Pair | undefined;
    const pair = () => made as Pair;
    const parts: { http: BackgroundProcess[]; watchers: Partial<Record<NodeName, AddressWatcher>> } = {
      http: [],
      watchers: {},
    };
    try {
      const directors = {} as Record<NodeName, Director>;
      for (const [i, name] of NODES.entries()) {
        const ns = i === 0 ? ns1 : ns2;
        const impl: Impl = o.impls?.[name] ?? (o.kind === 'B' && name === 'load2' ? 'heartbeat' : 'lvs-ha');
        const nodeDir = join(dir, name);
        const configDir = join(nodeDir, 'ha.d');
        const flags = join(nodeDir, 'flags');
        mkdirSync(join(configDir, 'resource.d'), { recursive: true });
        mkdirSync(flags);
        writeFileSync(
          join(configDir, 'ha.cf'),
          impl === 'lvs-ha' ? haCf(timings, join(nodeDir, 'ha-log')) : cf,
        );
        writeFileSync(join(configDir, 'authkeys'), AUTHKEYS, { mode: 0o600 });
        chmodSync(join(configDir, 'authkeys'), 0o600);
        writeFileSync(join(configDir, 'haresources'), HARESOURCES);
        writeFileSync(
          join(configDir, 'resource.d', 'vipb'),
          vipbScript(impl === 'lvs-ha' ? flags : undefined),
          {
            mode: 0o755,
          },
        );
        parts.http.push(await startHttpServer(ns, { label: name }));
        parts.watchers[name] = await AddressWatcher.start(ns, name, VIPS);
        const w = parts.watchers[name] as AddressWatcher;
        const http = parts.http[parts.http.length - 1] as BackgroundProcess;
        directors[name] = new Director({
          name,
          impl,
          ns,
          switchNs: seg.switchNs,
          port: `p${i}`,
          configDir,
          flags,
          control: join(nodeDir, 'control.sock'),
          live,
          graceMs: () => liveGraceMs(pair().timings),
          infraPids: () => [w.pid, http.pid],
          ...(impl === 'heartbeat' && {
            heartbeatFiles: {
              haCf: cf,
              authkeys: AUTHKEYS,
              haresources: HARESOURCES,
              vipb: vipbScript(undefined),
            },
          }),
        });
      }
      const client = await Client.start(clientNs, VIPS, o.clientEveryMs ?? 100, o.clientTimeoutMs);
      made = new Pair(
        o,
        seg,
        dir,
        directors,
        parts.watchers as Record<NodeName, AddressWatcher>,
        parts.http,
        client,
        live,
      );
      return made;
    } catch (e) {
      for (const w of Object.values(parts.watchers)) w.stop();
      for (const h of parts.http) await h.stop().catch(() => undefined);
      await seg.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  get timings(): Timings {
    return this.#timings;
  }

  /**
   * New timings for both nodes' ha.cf: they take effect when the nodes are
   * started next (the caller restarts both).
   */
  setTimings(t: Timings): void {
    this.#timings = t;
    const cf = haCf(t);
    for (const n of NODES) {
      const d = this.d(n);
      if (d.o.heartbeatFiles) d.o.heartbeatFiles.haCf = cf;
      else writeFileSync(join(d.o.configDir, 'ha.cf'), haCf(t, join(this.dir, n, 'ha-log')));
    }
  }

  d(name: NodeName): Director {
    return this.directors[name];
  }

  get peerOf(): (n: NodeName) => Director {
    return (n) => this.directors[n === 'load1' ? 'load2' : 'load1'];
  }

  /** Every address change the monitors saw. */
  events(): AddressEvent[] {
    return NODES.flatMap((n) => this.watchers[n].events);
  }

  /** Address changes of a VIP on a director at or after t. */
  changes(director: NodeName, vip: string, since: number): AddressEvent[] {
    return this.watchers[director].events.filter((e) => e.address === vip && e.t >= since);
  }

  /** The live directors that have the VIP now. */
  holders(vip: string): NodeName[] {
    return NODES.filter((n) => this.directors[n].liveNow() && this.watchers[n].has(vip));
  }

  /** Where the VIPs are now, live or not: `192.0.2.50 load1(live) ...` */
  layout(): string {
    return VIPS.map((v) => {
      const on = NODES.filter((n) => this.watchers[n].has(v)).map(
        (n) =>
          `${n}(${this.directors[n].liveNow() ? 'live' : this.directors[n].inGrace() ? 'in grace' : 'not live'})`,
      );
      return `${v} on ${on.join(' ') || 'none'}`;
    }).join('; ');
  }

  #matches(want: Layout): boolean {
    if (NODES.some((n) => this.directors[n].inGrace())) return false;
    return VIPS.every((v) => {
      const w = want[v];
      if (w === undefined) return true;
      const h = this.holders(v);
      return h.length === 1 && (w === 'any' || h[0] === w);
    });
  }

  /** How long a layout must hold to count as settled (not a moment in a hand-over). */
  get stableMs(): number {
    return Math.max(500, 2 * this.timings.keepaliveMs);
  }

  /**
   * Waits until every VIP of `want` has exactly one live holder (the one
   * named, or either for 'any'), no director is in its grace, the layout held
   * for stableMs, the monitors agree with a dump, and then the client is
   * answered for each VIP by its holder. Returns the ms until the layout held.
   */
  async settle(want: Layout, boundMs: number, what: string, stableMs = this.stableMs): Promise<number> {
    const t0 = Date.now();
    let since: number | undefined;
    for (;;) {
      if (this.#matches(want)) {
        since ??= Date.now();
        if (Date.now() - since >= stableMs) break;
      } else since = undefined;
      if (Date.now() - t0 > boundMs)
        throw new FaultFailure(
          `${what}: not settled within ${boundMs} ms (want ${describeLayout(want)}): ${this.layout()}\n${await this.diagnose()}`,
        );
      await sleep(50);
    }
    for (const n of NODES) {
      const bad = await this.watchers[n].check();
      if (bad) throw new FaultFailure(`${what}: the address monitor is wrong: ${bad}`);
    }
    await this.answered(what);
    return (since as number) - t0;
  }

  /** The client's last two answers for each VIP (asked from now on) come from its live holder. */
  async answered(what: string, boundMs = 8000): Promise<void> {
    const t0 = Date.now();
    for (;;) {
      const bad: string[] = [];
      for (const v of VIPS) {
        const h = this.holders(v);
        const last = this.client.last(v, t0, 2);
        if (h.length !== 1) bad.push(`${v}: ${h.length} live holders`);
        else if (last.length < 2 || !last.every((a) => a.ok && a.body === h[0]))
          bad.push(
            `${v}: held by ${h[0]}, the client's last answers: ${last.map((a) => a.body).join(', ') || 'none'}`,
          );
      }
      if (bad.length === 0) return;
      if (Date.now() - t0 > boundMs)
        throw new FaultFailure(
          `${what}: the client is not answered by the holders within ${boundMs} ms: ${bad.join('; ')}\n${await this.diagnose(t0 - 10_000)}`,
        );
      await sleep(100);
    }
  }

  /** Both nodes started; for kind B lvs-ha first (tsx takes seconds), so both start within initdead. */
  async startPair(opts: StartOptions = {}): Promise<void> {
    const env = { ...this.env, ...opts.env };
    const l1 = this.d('load1');
    const l2 = this.d('load2');
    if (this.kind === 'A') {
      await Promise.all([l1.start({ ...opts, env }), l2.start({ ...opts, env })]);
      await Promise.all([l1.waitStarted(), l2.waitStarted()]);
    } else {
      await l1.start({ ...opts, env });
      await l1.waitStarted();
      await l2.start();
    }
  }

  /** Bound for a fresh start of both nodes to reach the home layout. */
  get startBoundMs(): number {
    // kind B: Heartbeat waits initdead, then RQSTDELAY (10 s) for an unstable peer
    return this.kind === 'A' ? 30_000 : 60_000;
  }

  /** Bound for a takeover after the holder stopped being heard (deadtime plus the scripts). */
  get takeoverBoundMs(): number {
    return this.timings.deadtimeMs + (this.kind === 'A' ? 4000 : 8000);
  }

  /** Bound for a restarted node (lvs-ha start from the sources, or Heartbeat) to get its group back. */
  get rejoinBoundMs(): number {
    return this.kind === 'A' ? 30_000 : 60_000;
  }

  /**
   * Bound for exactly one holder after a partition heals or a stopped node
   * resumes: its grace, then Heartbeat's answer to a peer "returning after
   * partition" (both nodes give everything up and join again), and two
   * nodes joining together wait RQSTDELAY (10 s) for each other before they
   * take their groups; then the scripts (the real Heartbeat's restart exec,
   * its IPaddr scripts: with both cores busy that came to 17 s after SIGCONT).
   */
  get healBoundMs(): number {
    return (
      liveGraceMs(this.timings) + this.timings.deadtimeMs + RQSTDELAY_MS + (this.kind === 'A' ? 8000 : 20_000)
    );
  }

  /** After a heal, a layout counts only once it held this long (the peer may still be about to give up). */
  get healStableMs(): number {
    return 2 * this.timings.deadtimeMs + 1000;
  }

  /** Stops everything as a reboot of both would (processes killed, VIPs gone, links up). */
  async clearBoth(): Promise<void> {
    // both dead first: a survivor would take over what the first one cleared had
    await Promise.all(NODES.map((n) => this.d(n).killAll()));
    for (const n of NODES) {
      const d = this.d(n);
      if (d.isStopped) d.signal('SIGCONT');
      await d.clear();
      for (const f of FLAGS) rmSync(join(d.flags, f), { force: true });
      if (d.isCut) await d.restore();
    }
  }

  /** From scratch: both cleared, both started, the home layout (load1 VIP1+VIP1b, load2 VIP2). */
  async reset(opts: StartOptions = {}): Promise<void> {
    this.log(`[${this.o.label}] reset: both cleared and started`);
    await this.clearBoth();
    await this.startPair(opts);
    await this.settle(HOME, this.startBoundMs, 'the pair started from scratch');
  }

  /** The home layout now and nothing in flight? Else reset. */
  async ensureHome(): Promise<void> {
    const ok =
      NODES.every((n) => this.d(n).running && !this.d(n).isCut && !this.d(n).isStopped) &&
      NODES.every((n) => !this.d(n).proc || this.d(n).impl !== 'lvs-ha' || this.d(n).proc?.running) &&
      NODES.every((n) => !FLAGS.some((f) => existsSync(join(this.d(n).flags, f))));
    if (ok) {
      try {
        await this.settle(
          HOME,
          Math.max(3000, this.timings.deadtimeMs * 3),
          'the pair at home before the fault',
        );
        return;
      } catch {
        // a reset below
      }
    }
    await this.reset();
  }

  /** Split-brain moments, outage and the client's failures in [from, to). */
  report(fault: string, from: number, to: number): FaultReport {
    const events = this.events();
    const vips = VIPS.map((v) => vipReport(v, events, this.live, from, to));
    const answers = this.client.between(undefined, from, to);
    return {
      fault,
      kind: this.kind,
      from,
      to,
      vips,
      splitBrainMoments: vips.reduce((s, r) => s + r.splitBrain.length, 0),
      outageMs: vips.reduce((s, r) => Math.max(s, r.outageMs), 0),
      requests: answers.length,
      failedRequests: answers.filter((a) => !a.ok).length,
    };
  }

  /** Throws when the report has a split-brain moment. */
  async noSplitBrain(r: FaultReport): Promise<void> {
    if (r.splitBrainMoments === 0) return;
    throw new FaultFailure(
      `${r.fault}: ${r.splitBrainMoments} split-brain moment(s): ${r.vips.map((v) => describeVipReport(v, r.from)).join('; ')}\n${await this.diagnose(r.from)}`,
    );
  }

  /** What the test did and what the nodes said, for a failure's message. */
  async diagnose(since?: number): Promise<string> {
    const t0 = since ?? Date.now() - 60_000;
    const at = (t: number) => `${((t - t0) / 1000).toFixed(2)}s`;
    const notes = this.live.notes
      .filter((n) => n.t >= t0 - 1000)
      .map((n) => `${at(n.t)} ${n.director} ${n.note}`)
      .join('\n');
    const moves = this.events()
      .filter((e) => e.t >= t0 - 1000)
      .sort((a, b) => a.t - b.t)
      .map((e) => `${at(e.t)} ${e.director} ${e.present ? '+' : '-'}${e.address}`)
      .join('\n');
    const logs: string[] = [];
    for (const n of NODES) {
      const d = this.d(n);
      if (d.impl === 'lvs-ha')
        logs.push(
          `${n} (lvs-ha) said:\n${(d.proc?.lines ?? [])
            .filter((l) => l.t >= t0 - 1000)
            .slice(-40)
            .map((l) => `${at(l.t)} ${l.line}`)
            .join('\n')}`,
        );
      else logs.push(`${n} (Heartbeat 3.0.6) ha-log:\n${await d.log(120, t0)}`);
    }
    return `liveness:\n${notes}\naddresses:\n${moves}\n${logs.join('\n')}`;
  }

  async destroy(): Promise<void> {
    for (const n of NODES) await this.d(n).dispose();
    for (const n of NODES) this.watchers[n].stop();
    this.client.stop();
    for (const h of this.http) await h.stop().catch(() => undefined);
    await this.seg.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const HOME_LAYOUT: Layout = HOME;

/** The faulty vipb's flag files (config.ts: vipbScript). */
export const FLAGS = ['start-fail', 'stop-fail', 'stop-hang'] as const;

function describeLayout(want: Layout): string {
  return Object.entries(want)
    .map(([v, n]) => `${v} on ${n}`)
    .join(', ');
}

/** Our temporary directories of runs whose process is gone (lvsha-faults-<pid>-...). */
function removeStaleDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = /^lvsha-faults-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}
