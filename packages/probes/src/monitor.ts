import { EventEmitter } from 'node:events';
import type { CheckResult, CheckTarget } from './check.js';
import { connector, type Peer } from './connector.js';
import { type CheckSpec, type CheckType, ldirectordTimeouts, runCheck } from './dispatch.js';
import { maintenanceFile } from './maintenance.js';
import { CheckPool } from './pool.js';
import { CoarseTimers } from './timers.js';

/** Every checktype ldirectord knows (kept as a name of its own for the Monitor's API). */
export type MonitorCheckType = CheckType;

/** A check as ldirectord.cf describes it for one real server. */
export type MonitorSpec = Omit<CheckSpec, 'checktype' | 'protocol'> & {
  checktype: MonitorCheckType;
  /** The virtual service's protocol: a connect check of a UDP service is a ping, as in ldirectord. */
  protocol?: 'tcp' | 'udp' | 'fwm';
};

export interface MonitoredServer {
  /** Stable key; a reconfiguration keeps the state of servers whose id, target and spec are unchanged. */
  id: string;
  /** The real server: its address and port (checks go to `spec.checkport` when set, except external). */
  target: CheckTarget;
  spec: MonitorSpec;
  /** Seconds between checks (ldirectord's checkinterval, default 10). */
  interval?: number;
  /** Consecutive failures to go down (ldirectord's failurecount; default 1). */
  fall?: number;
  /** Consecutive successes to come up (rise, default 1; ldirectord has no such setting: 1). */
  rise?: number;
  /** Host names of the real server, for maintenancedir files named after them (ldirectord asks reverse DNS). */
  names?: string[];
}

export interface ServerState {
  id: string;
  up: boolean | undefined;
  last?: CheckResult;
  successes: number;
  failures: number;
  rounds: number;
  /** Every check since the server was added: `ok` or the failure's reason, and how long they took. */
  checks: CheckCounts;
}

/** Upper bounds (seconds) of the check-duration buckets: a connect on a LAN up to ldirectord's 5 s timeout and beyond. */
export const CHECK_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Cumulative counts of one server's checks (a histogram of durations, as Prometheus keeps one). */
export interface CheckCounts {
  /** By result: `ok`, or the CheckReason of a failure. */
  results: Record<string, number>;
  /** Checks that took at most CHECK_DURATION_BUCKETS[i] seconds (cumulative, one count per bound). */
  buckets: number[];
  /** Sum of the durations, seconds. */
  sum: number;
  count: number;
}

export interface Transition {
  id: string;
  up: boolean;
  /** The check that decided it: `result.reason` says why a server went down. */
  result: CheckResult;
  /** Date.now() when the transition was recorded. */
  at: number;
}

type CheckFn = (
  spec: CheckSpec,
  target: CheckTarget,
  round: number,
  signal: AbortSignal,
) => Promise<CheckResult>;

export interface MonitorOptions {
  /** Checks in flight at once across all servers (default 256). */
  concurrency?: number;
  /**
   * Checks do not fire in lock-step: each period is the interval shortened
   * by up to this fraction of it, at random (default 0.1: 0.9–1 × the
   * interval). Never longer, so the interval bounds how long a dead server
   * goes unnoticed; the mean period is (1 - jitter/2) × the interval.
   */
  jitter?: number;
  /** ldirectord's maintenancedir: a file named IP:port or IP (or a host name) here takes the server down without a check. */
  maintenancedir?: string;
  /**
   * Worker threads that run the checks (default 0: on the Monitor's own
   * thread, which keeps the schedule and the state either way). For
   * expensive checks (TLS, the protocol clients): connect and plain HTTP
   * checks cost less on the Monitor's thread (10,000 connect checks a second
   * take a quarter to a half of a core) than the messages to a thread.
   */
  threads?: number;
  /**
   * Replaceable for tests. Receives the spec of this round: numeric checktypes
   * already resolved to 'connect' or 'negotiate', timeouts filled in, the
   * checkport applied to the target, external-perl as external with perl.
   */
  check?: CheckFn;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
  random?: () => number;
}

interface Entry {
  cfg: MonitoredServer;
  state: ServerState;
  timer?: unknown;
  running: boolean;
  removed: boolean;
  /** Made for the first check that takes a signal (not the Connector's connect checks). */
  abort: AbortController | undefined;
  /** ldirectord's num_connects for numeric checktypes: negotiate when it reaches N. */
  connects: number;
  /** performance.now() when the last check started: the period runs from there. */
  startedAt: number;
  /** The connect check in flight on the Connector (to cancel it when the server is dropped). */
  handle?: number;
  /** Plans of this round's check: [connect-or-only, negotiate, the config they were built from]. */
  plans?: [Plan | undefined, Plan | undefined, MonitoredServer];
}

interface Plan {
  spec: CheckSpec;
  target: CheckTarget;
  negotiate: boolean;
  /** The Connector's view of the target (connect checks on the fast path), looked up once per plan. */
  peer?: Peer | null;
}

/** The checks the Monitor runs by default: dispatch's runCheck. */
const defaultCheck: CheckFn = runCheck;

/**
 * Schedules the checks of many real servers; emits 'transition' (Transition).
 * A numeric checktype N works as in ldirectord: the first check negotiates,
 * then N connect checks, then a negotiate check again; a failed connect check
 * makes the next one negotiate.
 */
export class Monitor extends EventEmitter<{ transition: [Transition] }> {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private queueHead = 0;
  private inFlight = 0;
  private readonly o: Required<Omit<MonitorOptions, 'maintenancedir' | 'threads' | 'setTimer'>> & {
    maintenancedir?: string;
  };
  private readonly pool: CheckPool | undefined;
  /** Connect checks go straight to the Connector when the checks are the default ones on this thread. */
  private readonly fastConnect: boolean;
  private stopped = false;
  /** Arms the server's wait for its next check: CoarseTimers call one function with the server (no closure per server). */
  private readonly arm: (e: Entry, ms: number) => unknown;

  constructor(servers: MonitoredServer[] = [], options: MonitorOptions = {}) {
    super();
    const threads = options.threads ?? 0;
    this.pool = threads > 0 && !options.check ? new CheckPool(threads) : undefined;
    const pool = this.pool;
    const setTimer = options.setTimer;
    const timers = setTimer ? undefined : new CoarseTimers();
    this.arm = setTimer
      ? (e, ms) => setTimer(() => this.wake(e), ms)
      : (e, ms) => timers?.set(this.wake, ms, e);
    this.fastConnect = !options.check && !pool;
    this.o = {
      concurrency: options.concurrency ?? 256,
      jitter: options.jitter ?? 0.1,
      check:
        options.check ??
        (pool ? (spec, target, round, signal) => pool.run(spec, target, round, signal) : defaultCheck),
      clearTimer: options.clearTimer ?? ((t) => timers?.clear(t as ReturnType<CoarseTimers['set']>)),
      random: options.random ?? Math.random,
    };
    if (options.maintenancedir !== undefined) this.o.maintenancedir = options.maintenancedir;
    this.reconfigure(servers);
  }

  /** Replaces the server list; unchanged servers keep their state and schedule. */
  reconfigure(servers: MonitoredServer[]): void {
    const next = new Map(servers.map((s) => [s.id, s]));
    for (const [id, e] of this.entries) {
      const n = next.get(id);
      if (
        !n ||
        JSON.stringify(n.spec) !== JSON.stringify(e.cfg.spec) ||
        JSON.stringify(n.target) !== JSON.stringify(e.cfg.target)
      ) {
        this.drop(e);
      } else {
        e.cfg = n; // interval/rise/fall/names apply from the next round
      }
    }
    for (const s of servers) {
      if (this.entries.has(s.id)) continue;
      const e: Entry = {
        cfg: s,
        state: {
          id: s.id,
          up: undefined,
          successes: 0,
          failures: 0,
          rounds: 0,
          checks: { results: {}, buckets: CHECK_DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 },
          last: undefined,
        },
        // Every field set here, even when undefined: one hidden class and no
        // property array per server (each field added later costs 10,000 of them).
        timer: undefined,
        running: false,
        removed: false,
        abort: undefined,
        connects: Number.POSITIVE_INFINITY,
        startedAt: 0,
        handle: undefined,
        plans: undefined,
      };
      this.entries.set(s.id, e);
      this.enqueue(e);
    }
  }

  state(id: string): ServerState | undefined {
    const e = this.entries.get(id);
    return e && { ...e.state };
  }

  /** The server's health (state(id)?.up) without copying its state: what a table of thousands asks per server. */
  upOf(id: string): boolean | undefined {
    return this.entries.get(id)?.state.up;
  }

  /** Whether every server has had a first result (none is `up: undefined`). */
  allChecked(): boolean {
    for (const e of this.entries.values()) if (e.state.up === undefined) return false;
    return true;
  }

  states(): ServerState[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  stop(): void {
    this.stopped = true;
    for (const e of [...this.entries.values()]) this.drop(e);
    this.pool?.close();
  }

  private drop(e: Entry): void {
    e.removed = true;
    e.abort?.abort();
    if (e.handle !== undefined) {
      const c = connector();
      if (typeof c !== 'string') c.cancel(e.handle);
    }
    if (e.timer !== undefined) this.o.clearTimer(e.timer);
    this.entries.delete(e.cfg.id);
  }

  /** Puts the server back in the queue when its interval has passed. */
  private readonly wake = (e: Entry): void => {
    e.timer = undefined;
    this.enqueue(e);
  };

  private enqueue(e: Entry): void {
    if (e.removed || this.stopped || e.running) return;
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.o.concurrency && this.queueHead < this.queue.length) {
      const e = this.queue[this.queueHead++] as Entry;
      if (e.removed || e.running) continue;
      void this.run(e);
    }
    // Array.shift() is O(n): with 10,000 servers queued it dominated the CPU time.
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  /** This round's check: the checktype resolved, timeouts and checkport applied. */
  private plan(e: Entry): Plan {
    const s = e.cfg.spec;
    const hybrid = typeof s.checktype === 'number';
    const negotiateNow = hybrid && e.connects >= (s.checktype as number);
    // The plan depends only on the config (and, for N, on which of the two
    // kinds is due): built once per kind, not per check.
    const cached = e.plans?.[negotiateNow ? 1 : 0];
    if (cached && e.plans?.[2] === e.cfg) return cached;
    const p = this.buildPlan(e);
    if (!e.plans || e.plans[2] !== e.cfg) e.plans = [undefined, undefined, e.cfg];
    e.plans[negotiateNow ? 1 : 0] = p;
    return p;
  }

  /** The spec a check runs with, by the server's spec and the kind due: shared by servers that share their spec. */
  private readonly specs = new WeakMap<MonitorSpec, Map<string, CheckSpec>>();

  private buildPlan(e: Entry): Plan {
    const s = e.cfg.spec;
    const made = this.buildSpec(e);
    const external = made.checktype === 'external';
    const target =
      !external && s.checkport !== undefined ? { host: e.cfg.target.host, port: s.checkport } : e.cfg.target;
    return { spec: made, target, negotiate: made.checktype === 'negotiate', peer: undefined };
  }

  private buildSpec(e: Entry): CheckSpec {
    const s = e.cfg.spec;
    const negotiateDue = typeof s.checktype === 'number' && e.connects >= s.checktype;
    const key = String(negotiateDue);
    let bySpec = this.specs.get(s);
    const cached = bySpec?.get(key);
    if (cached) return cached;
    const made = this.makeSpec(e);
    if (!bySpec) {
      bySpec = new Map();
      this.specs.set(s, bySpec);
    }
    bySpec.set(key, made);
    return made;
  }

  private makeSpec(e: Entry): CheckSpec {
    const s = e.cfg.spec;
    const t = ldirectordTimeouts(s);
    let type: MonitorCheckType = s.checktype;
    if (typeof type === 'number') type = e.connects >= type ? 'negotiate' : 'connect';
    if (type === 'connect' && s.protocol === 'udp') type = 'ping';
    // `service` matters to negotiate checks only (ldirectord: check_none is a
    // negotiate check); a connect, ping or external check of a `service = none`
    // virtual (every fwmark one by default) still runs. Left out rather than
    // deleted: a delete turns the object into a dictionary (~800 bytes more
    // per real server, 8 MB at 10,000).
    const { service, ...rest } = s;
    const spec = (
      type === 'negotiate' && service !== undefined
        ? { ...rest, service, ...t, checktype: type }
        : { ...rest, ...t, checktype: type }
    ) as MonitorSpec;
    if (type === 'external-perl') Object.assign(spec, { checktype: 'external', perl: true });
    return spec as unknown as CheckSpec;
  }

  private run(e: Entry): void {
    e.running = true;
    e.startedAt = performance.now();
    this.inFlight++;
    const dir = this.o.maintenancedir;
    const file = dir && maintenanceFile(dir, e.cfg.target.host, e.cfg.target.port, e.cfg.names);
    if (file) {
      // ldirectord: forced down, failurecount ignored
      const r: CheckResult = {
        ok: false,
        reason: 'maintenance',
        detail: `${dir}/${file} exists`,
        durationMs: 0,
      };
      queueMicrotask(() => this.finish(e, undefined, r, true));
      return;
    }
    const p = this.plan(e);
    if (this.fastConnect && p.spec.checktype === 'connect') {
      // The hot path of a large fleet: no promise, no AbortSignal listener per check.
      const c = connector();
      if (typeof c !== 'string') {
        if (p.peer === undefined) p.peer = c.peer(p.target.host, p.target.port);
        const handle = c.start(
          p.peer ?? p.target,
          (p.spec.timeout as number) * 1000,
          p.spec.reset ?? false,
          (r) => {
            e.handle = undefined;
            this.finish(e, p, r, false);
          },
          p.spec.halfOpen ?? false,
        );
        if (handle !== undefined) {
          if (handle !== 0) e.handle = handle;
          return;
        }
      }
    }
    let check: Promise<CheckResult>;
    try {
      e.abort ??= new AbortController();
      check = this.o.check(p.spec, p.target, e.state.rounds, e.abort.signal);
    } catch (err) {
      check = Promise.resolve({ ok: false, reason: 'error', detail: String(err), durationMs: 0 });
    }
    check.then(
      (r) => this.finish(e, p, r, false),
      (err: unknown) =>
        this.finish(e, p, { ok: false, reason: 'error', detail: String(err), durationMs: 0 }, false),
    );
  }

  private finish(e: Entry, p: Plan | undefined, r: CheckResult, force: boolean): void {
    if (p && typeof e.cfg.spec.checktype === 'number') {
      if (p.negotiate) {
        if (r.ok) e.connects = 0;
      } else e.connects = r.ok ? e.connects + 1 : Number.POSITIVE_INFINITY;
    }
    this.inFlight--;
    e.running = false;
    if (!e.removed) this.record(e, r, force);
    this.pump();
  }

  private record(e: Entry, r: CheckResult, force: boolean): void {
    const s = e.state;
    const wasRefusedRecheck = s.last !== undefined && !s.last.ok && s.last.reason === 'refused';
    s.rounds++;
    s.last = r;
    const c = s.checks;
    const kind = r.ok ? 'ok' : (r.reason ?? 'error');
    c.results[kind] = (c.results[kind] ?? 0) + 1;
    const secs = r.durationMs / 1000;
    for (
      let i = CHECK_DURATION_BUCKETS.length - 1;
      i >= 0 && secs <= (CHECK_DURATION_BUCKETS[i] as number);
      i--
    )
      (c.buckets[i] as number)++;
    c.sum += secs;
    c.count++;
    if (r.ok) {
      s.successes++;
      s.failures = 0;
    } else {
      s.failures++;
      s.successes = 0;
    }
    const fall = e.cfg.fall ?? 1;
    const rise = e.cfg.rise ?? 1;
    let changed: boolean | undefined;
    if (r.ok && s.up !== true && (s.up === undefined || s.successes >= rise)) changed = true;
    if (!r.ok && s.up !== false && (s.up === undefined || force || s.failures >= fall)) changed = false;
    if (changed !== undefined) {
      s.up = changed;
      this.emit('transition', { id: s.id, up: changed, result: r, at: Date.now() });
    }
    // A refused connection is re-checked at once (once), to confirm quickly.
    if (!r.ok && r.reason === 'refused' && s.up !== false && !wasRefusedRecheck) {
      this.enqueue(e);
      return;
    }
    // The period runs from the start of the check, so a slow check does not
    // stretch it (ldirectord sleeps checkinterval after a whole pass instead).
    const interval = (e.cfg.interval ?? 10) * 1000;
    const delay = Math.max(
      0,
      interval * (1 - this.o.jitter * this.o.random()) - (performance.now() - e.startedAt),
    );
    e.timer = this.arm(e, delay);
  }
}
