import { EventEmitter } from 'node:events';
import type { CheckResult, CheckTarget } from './check.js';
import { type CheckSpec, runCheck } from './dispatch.js';

export interface MonitoredServer {
  /** Stable key; a reconfiguration keeps the state of servers whose id and spec are unchanged. */
  id: string;
  target: CheckTarget;
  spec: CheckSpec;
  /** Seconds between checks (ldirectord's checkinterval, default 5). */
  interval?: number;
  /** Consecutive failures to go down (failurecount/fall, default 1). */
  fall?: number;
  /** Consecutive successes to come up (rise, default 1). */
  rise?: number;
}

export interface ServerState {
  id: string;
  up: boolean | undefined;
  last?: CheckResult;
  successes: number;
  failures: number;
  rounds: number;
}

export interface Transition {
  id: string;
  up: boolean;
  result: CheckResult;
}

export interface MonitorOptions {
  /** Checks in flight at once across all servers (default 256). */
  concurrency?: number;
  /** Fraction of the interval added at random to each delay, so checks do not fire in lock-step (default 0.1). */
  jitter?: number;
  /** Replaceable for tests. */
  check?: (spec: CheckSpec, target: CheckTarget, round: number, signal: AbortSignal) => Promise<CheckResult>;
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
  abort: AbortController;
}

/** Schedules the checks of many real servers; emits 'transition' (Transition). */
export class Monitor extends EventEmitter<{ transition: [Transition] }> {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private inFlight = 0;
  private readonly o: Required<MonitorOptions>;
  private stopped = false;

  constructor(servers: MonitoredServer[] = [], options: MonitorOptions = {}) {
    super();
    this.o = {
      concurrency: options.concurrency ?? 256,
      jitter: options.jitter ?? 0.1,
      check: options.check ?? runCheck,
      setTimer: options.setTimer ?? ((fn, ms) => setTimeout(fn, ms)),
      clearTimer: options.clearTimer ?? ((t) => clearTimeout(t as NodeJS.Timeout)),
      random: options.random ?? Math.random,
    };
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
        e.cfg = n; // interval/rise/fall apply from the next round
      }
    }
    for (const s of servers) {
      if (this.entries.has(s.id)) continue;
      const e: Entry = {
        cfg: s,
        state: { id: s.id, up: undefined, successes: 0, failures: 0, rounds: 0 },
        running: false,
        removed: false,
        abort: new AbortController(),
      };
      this.entries.set(s.id, e);
      this.enqueue(e);
    }
  }

  state(id: string): ServerState | undefined {
    const e = this.entries.get(id);
    return e && { ...e.state };
  }

  states(): ServerState[] {
    return [...this.entries.values()].map((e) => ({ ...e.state }));
  }

  stop(): void {
    this.stopped = true;
    for (const e of [...this.entries.values()]) this.drop(e);
  }

  private drop(e: Entry): void {
    e.removed = true;
    e.abort.abort();
    if (e.timer !== undefined) this.o.clearTimer(e.timer);
    this.entries.delete(e.cfg.id);
  }

  private enqueue(e: Entry): void {
    if (e.removed || this.stopped || e.running) return;
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.o.concurrency && this.queue.length > 0) {
      const e = this.queue.shift() as Entry;
      if (e.removed || e.running) continue;
      void this.run(e);
    }
  }

  private async run(e: Entry): Promise<void> {
    e.running = true;
    this.inFlight++;
    let r: CheckResult;
    try {
      r = await this.o.check(e.cfg.spec, e.cfg.target, e.state.rounds, e.abort.signal);
    } catch (err) {
      r = { ok: false, reason: 'error', detail: String(err), durationMs: 0 };
    }
    this.inFlight--;
    e.running = false;
    if (!e.removed) this.record(e, r);
    this.pump();
  }

  private record(e: Entry, r: CheckResult): void {
    const s = e.state;
    const wasRefusedRecheck = s.last !== undefined && !s.last.ok && s.last.reason === 'refused';
    s.rounds++;
    s.last = r;
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
    if (!r.ok && s.up !== false && (s.up === undefined || s.failures >= fall)) changed = false;
    if (changed !== undefined) {
      s.up = changed;
      this.emit('transition', { id: s.id, up: changed, result: r });
    }
    // A refused connection is re-checked at once (once), to confirm quickly.
    if (!r.ok && r.reason === 'refused' && s.up !== false && !wasRefusedRecheck) {
      this.enqueue(e);
      return;
    }
    const interval = (e.cfg.interval ?? 5) * 1000;
    const delay = interval * (1 + this.o.jitter * this.o.random());
    e.timer = this.o.setTimer(() => {
      e.timer = undefined;
      this.enqueue(e);
    }, delay);
  }
}
