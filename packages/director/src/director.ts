// The Director: what ldirectord does on the director that holds the VIP.
// It checks the real servers of an ldirectord.cf (the probes Monitor) and
// keeps the kernel's IPVS table to what ldirectord would have made of their
// health (directorTable), by reconciling: the fewest operations, only on the
// virtual services the file names. A failed or refused change is reported
// and tried again; nothing already in the table is dropped because of it.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import type { LdResolvedConfig } from '@lvs-ha/ha-config';
import {
  describeDestination,
  describeService,
  type Ipvs,
  type Operation,
  serviceId,
  type TableService,
} from '@lvs-ha/ipvs';
import {
  type LdirectordServer,
  Monitor,
  type MonitorOptions,
  monitorFromLdirectord,
  type Transition,
} from '@lvs-ha/probes';
import {
  directorTable,
  overrideKey,
  type RealOverride,
  type RealSelector,
  realServersOf,
  selectReals,
  serviceKeyOfVirtual,
  type VirtualStatus,
} from './director-table.js';

/** What the Director needs of the IPVS binding (an `Ipvs`, or a stand-in in tests). */
export type DirectorIpvs = Pick<Ipvs, 'getTable' | 'reconcile'>;

export interface DirectorOptions {
  ipvs: DirectorIpvs;
  /** Monitor options (threads, concurrency, jitter…); maintenancedir comes from the file. */
  monitor?: Omit<MonitorOptions, 'maintenancedir'>;
  /** Milliseconds before a failed change of the table is tried again (default 1000). */
  retryMs?: number;
  /**
   * A change of the table waits this many times the last one's duration
   * after it ends (default 3: changes take at most a quarter of the thread
   * that runs the checks; see schedule()).
   */
  applySpacing?: number;
  /** Runs ldirectord's fallbackcommand (default: `/bin/sh -c`). */
  runCommand?: (command: string) => void;
  /**
   * Reads and writes the IPVS sysctls start() sets (default /proc/sys of this
   * network namespace); false leaves them alone. See CONNECTION_SYSCTLS.
   */
  sysctl?: DirectorSysctl | false;
}

/** A sysctl by its dotted name. */
export interface DirectorSysctl {
  get(name: string): Promise<string>;
  set(name: string, value: string): Promise<void>;
}

/**
 * Set by start() (unless `sysctl: false`): `expire_nodest_conn` 1. Without
 * it the kernel keeps a connection entry on a real server that left the
 * table or was drained to weight 0, and a client's new connection whose
 * port matches an old entry (FIN_WAIT, two minutes in direct routing) goes
 * to that server (refused once it is stopped: 2 of 2,275 requests after
 * `lvs-ha drain --wait` in a CI run), or its packets are dropped until the
 * entry expires (a request that waits out its timeout). With it the entry
 * is expired and the connection scheduled anew (ip_vs_in: a SYN on an
 * entry whose server has weight 0 is rescheduled).
 */
export const CONNECTION_SYSCTLS: readonly [name: string, value: string][] = [
  ['net.ipv4.vs.expire_nodest_conn', '1'],
];

const procSysctl: DirectorSysctl = {
  get: async (name) => (await readFile(`/proc/sys/${name.replace(/\./g, '/')}`, 'utf8')).trim(),
  set: (name, value) => writeFile(`/proc/sys/${name.replace(/\./g, '/')}`, `${value}\n`),
};

/** The log line of a DirectorSysctlChange. */
export function describeSysctlChange(c: DirectorSysctlChange): string {
  return c.error === undefined
    ? `sysctl ${c.name} ${c.was} -> ${c.value} (connections on a drained or removed real server are scheduled anew)`
    : `warning sysctl ${c.name} not set to ${c.value}: ${c.error}`;
}

/** A sysctl start() changed (was → value), or could not (error). */
export interface DirectorSysctlChange {
  name: string;
  value: string;
  was?: string;
  error?: string;
}

/** IPVS_READ/IPVS_APPLY the kernel's table; NOT_STARTED before start(); NO_SUCH_REAL a selector that names no real server of the file; BAD_WEIGHT a weight out of range. */
export type DirectorErrorCode = 'IPVS_READ' | 'IPVS_APPLY' | 'NOT_STARTED' | 'NO_SUCH_REAL' | 'BAD_WEIGHT';

export class DirectorError extends Error {
  override readonly name = 'DirectorError';
  constructor(
    readonly code: DirectorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DirectorTransition extends Transition {
  /** ldirectord's id of the virtual service (tcp:192.0.2.50:80, fwm:7). */
  virtual: string;
  real: { address: string; port: number };
}

/** One real server as `lvs-ha status` shows it: the kernel's entry beside the checks' view. */
export interface RealServerReport {
  address: string;
  port: number;
  /** What the checks say: up, down, or not decided yet. */
  health: 'up' | 'down' | 'unchecked';
  /** The weight the file gives it. */
  configuredWeight: number;
  forward: 'gate' | 'masq' | 'ipip';
  /** Its entry in the kernel's table now (weight 0: quiescent), or undefined when it is out. */
  kernel?: { weight: number; activeConns: number; inactiveConns: number };
  /** A runtime override (lvs-ha drain/weight) while it holds: the weight it gets while up, or out of the table. */
  override?: { weight: number; remove?: true };
  /** The last check: ok, or why not. */
  last?: { ok: boolean; reason?: string; detail: string; durationMs: number };
  successes: number;
  failures: number;
}

/** One virtual service of the file, as the kernel has it now. */
export interface VirtualReport {
  /** ldirectord's id (tcp:192.0.2.50:80, fwm:7). */
  id: string;
  /** As ipvsadm names it (192.0.2.50:80/tcp). */
  service: string;
  scheduler: string;
  /** In the kernel's table at all. */
  inKernel: boolean;
  reals: RealServerReport[];
  /** The fallback server, while it is in the table. */
  fallback?: string;
}

export interface Applied {
  /** The operations sent (empty when the table was already right). */
  operations: Operation[];
  status: VirtualStatus[];
}

/** The fallback server went into a virtual service's table (no real server up) or out of it. */
export interface DirectorFallback {
  /** ldirectord's id of the virtual service. */
  virtual: string;
  /** The fallback server, address:port. */
  server: string;
  on: boolean;
}

/** What a drain did: each real server it named with its active connections when it ended. */
/** How long a drain must count no active connection before it is done (Director.drain). */
export const DRAIN_SETTLE_MS = 1000;

export interface DrainResult {
  reals: { virtual: string; real: string; activeConns: number }[];
  /** No active connection is left on any of them. */
  drained: boolean;
  /** They were taken out of the table (remove, and drained or not waited for). */
  removed: boolean;
  waitedMs: number;
}

type Events = {
  sysctl: [DirectorSysctlChange];
  transition: [DirectorTransition];
  applied: [Applied];
  fallback: [DirectorFallback];
  error: [DirectorError];
};

/** Runs the checks of an ldirectord.cf and keeps the IPVS table in step with them. */
export class Director extends EventEmitter<Events> {
  private config: LdResolvedConfig | undefined;
  private monitor: Monitor | undefined;
  /** The Monitor's servers by id (the Monitor holds the same objects: no copy per real server). */
  private readonly byId = new Map<string, LdirectordServer>();
  /** Virtual services this Director answers for: every one the file names now, and those it named before a reload. */
  /** serviceId() of each virtual service the file names. */
  private owned = new Set<string>();
  /** Services a reload dropped from the file, until a change of the table has removed them. */
  private retired = new Set<string>();
  private applying: Promise<void> | undefined;
  private again = false;
  /** When the last change of the table ended and how long it took (schedule() spaces them by it). */
  private lastApplyEnd = 0;
  private lastApplyMs = 0;
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Waiting for the first round of checks: transitions wait for the first table. */
  private warming = false;
  private last: VirtualStatus[] = [];
  private readonly fallbackCommandState = new Map<string, 'start' | 'stop'>();
  /** The fallback each virtual service had in the last table applied whole (for the 'fallback' event). */
  private readonly fallbackIn = new Map<string, string>();
  /** Runtime overrides (drain, weight), by overrideKey: kept across reloads until undone. */
  private readonly overridden = new Map<string, RealOverride>();

  constructor(private readonly o: DirectorOptions) {
    super();
  }

  /**
   * Reads the table, starts the checks and brings the table to what the file
   * and the checks say. ldirectord makes its first table before any check
   * has answered (the fallback, and the servers already in the table); with
   * `firstRoundMs` the first table waits up to that long for every real
   * server's first check (they all run at once), so that a director taking
   * over does not send clients to the fallback while real servers are healthy.
   */
  async start(config: LdResolvedConfig, startOptions: { firstRoundMs?: number } = {}): Promise<Applied> {
    if (this.monitor) throw new Error('the Director is already started');
    this.config = config;
    this.owned = this.keysOf(config);
    const { servers, options } = this.index(config);
    this.monitor = new Monitor(servers, { ...this.o.monitor, ...options });
    this.monitor.on('transition', (t) => {
      const where = this.byId.get(t.id);
      if (where)
        this.emit('transition', {
          ...t,
          virtual: where.virtual,
          real: { address: where.target.host, port: where.target.port },
        });
      if (!this.warming) this.schedule();
    });
    await this.setSysctls();
    const wait = startOptions.firstRoundMs ?? 0;
    if (wait > 0) {
      this.warming = true;
      const until = performance.now() + wait;
      const monitor = this.monitor;
      while (!this.stopped && performance.now() < until && !monitor.allChecked())
        await new Promise((r) => setTimeout(r, 10));
      this.warming = false;
    }
    return this.applyNow();
  }

  /** CONNECTION_SYSCTLS, each said when it changed or could not be set (then the Director goes on without it). */
  private async setSysctls(): Promise<void> {
    const sysctl = this.o.sysctl === undefined ? procSysctl : this.o.sysctl;
    if (!sysctl) return;
    for (const [name, value] of CONNECTION_SYSCTLS) {
      try {
        const was = await sysctl.get(name);
        if (was === value) continue;
        await sysctl.set(name, value);
        this.emit('sysctl', { name, value, was });
      } catch (e) {
        this.emit('sysctl', { name, value, error: (e as Error).message });
      }
    }
  }

  /** A changed ldirectord.cf: unchanged real servers keep their state; virtual services no longer named are removed. */
  async reload(config: LdResolvedConfig): Promise<Applied> {
    if (!this.monitor) throw new DirectorError('NOT_STARTED', 'reload() before start()');
    const now = this.keysOf(config);
    // Services the file no longer names stay ours until a change of the table has removed them.
    for (const id of this.owned) if (!now.has(id)) this.retired.add(id);
    for (const id of now) this.retired.delete(id);
    this.config = config;
    this.owned = now;
    const { servers } = this.index(config);
    this.monitor.reconfigure(servers);
    return this.applyNow();
  }

  /**
   * Stops the checks. With ldirectord's cleanstop (the default, per virtual
   * service) the virtual services are removed from the table; otherwise the
   * table stays as it is (a standby that must not disturb the peer, or a
   * restart that should not drop connections).
   */
  async stop(): Promise<Operation[]> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.monitor?.stop();
    await this.applying;
    const config = this.config;
    if (!config) return [];
    const clean = this.keysOf({ ...config, virtuals: config.virtuals.filter((v) => v.cleanstop.value) });
    if (clean.size === 0) return [];
    const r = await this.o.ipvs.reconcile([], { owned: (s) => clean.has(serviceId(s)) });
    if (r.errors.length > 0)
      throw new DirectorError('IPVS_APPLY', `cleanstop: ${r.errors.map((e) => e.message).join('; ')}`);
    return r.operations;
  }

  /** Where each virtual service stands after the last change of the table. */
  status(): VirtualStatus[] {
    return this.last;
  }

  /**
   * Every virtual service of the file and its real servers: the kernel's
   * table now (weights, connections) beside what the checks say.
   */
  async report(): Promise<VirtualReport[]> {
    const config = this.config;
    if (!config) return [];
    const table = await this.o.ipvs.getTable();
    const status = new Map(this.last.map((s) => [s.id, s]));
    const out: VirtualReport[] = [];
    for (const v of config.virtuals) {
      const key = serviceKeyOfVirtual(v);
      if (!key) continue;
      const id = serviceId(key);
      const kernel = table.find((s) => serviceId(s) === id);
      const reals = realServersOf(v).map((r): RealServerReport => {
        const st = this.monitor?.state(`${v.id}/${r.address}:${r.port}`);
        const d = kernel?.destinations.find((x) => x.address === r.address && x.port === r.port);
        const ov = this.overridden.get(overrideKey({ virtual: v.id, real: describeDestination(r) }));
        return {
          ...r,
          configuredWeight: r.weight,
          ...(ov && { override: { weight: ov.weight, ...(ov.remove && { remove: true as const }) } }),
          health: st?.up === undefined ? 'unchecked' : st.up ? 'up' : 'down',
          ...(d && {
            kernel: { weight: d.weight, activeConns: d.activeConns, inactiveConns: d.inactiveConns },
          }),
          ...(st?.last && {
            last: {
              ok: st.last.ok,
              ...(st.last.reason !== undefined && { reason: st.last.reason }),
              detail: st.last.detail.split(/\r?\n/)[0]?.slice(0, 200) ?? '',
              durationMs: st.last.durationMs,
            },
          }),
          successes: st?.successes ?? 0,
          failures: st?.failures ?? 0,
        };
      });
      const fallback = status.get(v.id)?.fallback;
      out.push({
        id: v.id,
        service: describeService(key),
        scheduler: kernel?.scheduler ?? v.scheduler.value,
        inKernel: kernel !== undefined,
        reals,
        ...(fallback !== undefined && { fallback }),
      });
    }
    return out;
  }

  /** The runtime overrides in force (drain, weight). */
  overrides(): RealOverride[] {
    return [...this.overridden.values()].map((o) => ({ ...o }));
  }

  /** The real servers `sel` names in the running file; a DirectorError NO_SUCH_REAL when none. */
  select(sel: RealSelector): { virtual: string; real: string; configuredWeight: number }[] {
    if (!this.config) throw new DirectorError('NOT_STARTED', 'no configuration before start()');
    const found = selectReals(this.config, sel);
    if (found.length === 0)
      throw new DirectorError(
        'NO_SUCH_REAL',
        `no real server ${sel.real}${sel.virtual !== undefined ? ` in virtual service ${sel.virtual}` : ''} in this ldirectord.cf`,
      );
    return found;
  }

  /**
   * Gives the real servers `sel` names a runtime weight (0: drained) or
   * takes them out (remove), and applies the table. It holds through
   * reconciles, health changes and reloads until clearOverride(); the checks
   * still decide up or down.
   */
  async setOverride(sel: RealSelector, o: { weight: number; remove?: boolean }): Promise<RealOverride[]> {
    // ipvsadm's range for a weight (a u32 in the kernel; ipvsadm refuses above 65535)
    if (!(Number.isInteger(o.weight) && o.weight >= 0 && o.weight <= 65_535))
      throw new DirectorError('BAD_WEIGHT', `a weight is an integer from 0 to 65535, got ${o.weight}`);
    const set = this.select(sel).map(
      (r): RealOverride => ({
        virtual: r.virtual,
        real: r.real,
        weight: o.weight,
        ...(o.remove && { remove: true }),
      }),
    );
    for (const x of set) this.overridden.set(overrideKey(x), x);
    await this.applyNow();
    return set;
  }

  /** Undoes the overrides of the real servers `sel` names (their weight is the file's again) and applies the table. */
  async clearOverride(
    sel: RealSelector,
  ): Promise<{ virtual: string; real: string; configuredWeight: number }[]> {
    const found = this.select(sel);
    for (const r of found) this.overridden.delete(overrideKey(r));
    await this.applyNow();
    return found;
  }

  /**
   * lvs-ha drain: weight 0 for the real servers `sel` names; with `waitMs`,
   * waits until the kernel counts no active connection on them, and has
   * counted none for `settleMs` (or the time is up); then, with `remove`,
   * takes them out of the table. A drain that timed out keeps them at
   * weight 0 and in the table.
   *
   * Why the settle: a connection scheduled just before the weight went to
   * 0 is SYN_RECV (an inactive one) until the client's ACK reaches the
   * director, a round trip later; a single read of ActiveConn 0 at that
   * moment let the caller stop a server that was about to get it (seen in
   * the guest: one refused request of 900).
   */
  async drain(
    sel: RealSelector,
    o: { waitMs?: number; remove?: boolean; pollMs?: number; settleMs?: number } = {},
  ): Promise<DrainResult> {
    const set = await this.setOverride(sel, { weight: 0 });
    const started = performance.now();
    const settleMs = o.settleMs ?? DRAIN_SETTLE_MS;
    let reals = await this.activeConnections(set);
    const until = started + (o.waitMs ?? 0);
    // when every read since has counted none: it is drained once that lasted settleMs
    let zeroSince = reals.every((r) => r.activeConns === 0) ? started : undefined;
    while (performance.now() < until && !this.stopped) {
      if (zeroSince !== undefined && performance.now() - zeroSince >= settleMs) break;
      await new Promise((r) =>
        setTimeout(r, Math.min(o.pollMs ?? 250, Math.max(1, until - performance.now()))),
      );
      const at = performance.now();
      reals = await this.activeConnections(set);
      if (reals.some((r) => r.activeConns > 0)) zeroSince = undefined;
      else zeroSince ??= at;
    }
    const drained =
      reals.every((r) => r.activeConns === 0) &&
      (o.waitMs === undefined || (zeroSince !== undefined && performance.now() - zeroSince >= settleMs));
    const removed = o.remove === true && (drained || o.waitMs === undefined);
    if (removed) await this.setOverride(sel, { weight: 0, remove: true });
    return { reals, drained, removed, waitedMs: Math.round(performance.now() - started) };
  }

  /** The kernel's active connections of each of these real servers now (0 when out of the table). */
  private async activeConnections(
    set: readonly { virtual: string; real: string }[],
  ): Promise<{ virtual: string; real: string; activeConns: number }[]> {
    const config = this.config as LdResolvedConfig;
    const table = await this.o.ipvs.getTable();
    return set.map((x) => {
      const v = config.virtuals.find((y) => y.id === x.virtual);
      const key = v && serviceKeyOfVirtual(v);
      const s = key && table.find((t) => serviceId(t) === serviceId(key));
      const d = s?.destinations.find((y) => describeDestination(y) === x.real);
      return { virtual: x.virtual, real: x.real, activeConns: d?.activeConns ?? 0 };
    });
  }

  /** The Monitor's view of every real server (up, last result, counts). */
  states() {
    return this.monitor?.states() ?? [];
  }

  private keysOf(config: LdResolvedConfig): Set<string> {
    const ids = new Set<string>();
    for (const v of config.virtuals) {
      const k = serviceKeyOfVirtual(v);
      if (k) ids.add(serviceId(k));
    }
    return ids;
  }

  private index(config: LdResolvedConfig) {
    const m = monitorFromLdirectord(config);
    this.byId.clear();
    for (const s of m.servers) this.byId.set(s.id, s);
    return m;
  }

  /**
   * Transitions come in bursts: one change of the table at a time, the next
   * no sooner than the last one took after it ended. A change reads and
   * plans the whole table, on the thread that also runs the checks: at
   * 10,000 real servers (100-200 ms here, seconds under emulation) a change
   * per turn of the event loop left the checks a turn between two, and the
   * first round came in 256 at a time (the checks in flight), one change of
   * the table each. Spaced by `applySpacing` times its own cost, the changes
   * take at most a quarter of the thread whatever the table's size; with a
   * small table the wait is a few milliseconds at most.
   */
  private schedule(): void {
    if (this.stopped) return;
    if (this.applying) {
      this.again = true;
      return;
    }
    const wait = this.lastApplyEnd + (this.o.applySpacing ?? 3) * this.lastApplyMs - performance.now();
    this.applying = new Promise<void>((resolve) =>
      wait >= 1 ? setTimeout(resolve, Math.min(wait, 5000)) : setImmediate(resolve),
    ).then(() =>
      this.stopped
        ? undefined
        : this.apply().then(
            () => undefined,
            () => undefined,
          ),
    );
  }

  private async applyNow(): Promise<Applied> {
    await this.applying;
    const p = this.apply();
    this.applying = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  private async apply(): Promise<Applied> {
    const config = this.config as LdResolvedConfig;
    const monitor = this.monitor as Monitor;
    const began = performance.now();
    try {
      let current: TableService[];
      try {
        current = await this.o.ipvs.getTable();
      } catch (e) {
        throw new DirectorError('IPVS_READ', `cannot read the IPVS table: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const table = directorTable(
        config,
        (virtual, real) => monitor.upOf(`${virtual}/${real.address}:${real.port}`),
        current,
        [...this.overridden.values()],
      );
      const owned = new Set([...this.owned, ...this.retired]);
      let result: Awaited<ReturnType<DirectorIpvs['reconcile']>>;
      try {
        result = await this.o.ipvs.reconcile(table.services, {
          current,
          owned: (s) => owned.has(serviceId(s)),
        });
      } catch (e) {
        throw new DirectorError('IPVS_APPLY', `cannot change the IPVS table: ${(e as Error).message}`, {
          cause: e,
        });
      }
      this.last = table.status;
      this.fallbackCommands(table.status);
      const applied = { operations: result.operations, status: table.status };
      if (result.errors.length > 0) {
        // The kernel refused some changes (the others are made): say which, and try again.
        this.fail(
          new DirectorError(
            'IPVS_APPLY',
            `the kernel refused ${result.errors.length} of ${result.operations.length} changes: ${result.errors.map((e) => e.message).join('; ')}`,
            { cause: result.errors[0] },
          ),
        );
      } else {
        this.retired.clear();
        this.emit('applied', applied);
        this.fallbackEvents(table.status);
      }
      return applied;
    } catch (e) {
      this.fail(e instanceof DirectorError ? e : new DirectorError('IPVS_APPLY', String(e), { cause: e }));
      throw e;
    } finally {
      this.lastApplyEnd = performance.now();
      this.lastApplyMs = this.lastApplyEnd - began;
      this.applying = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.schedule();
      }
    }
  }

  private fail(e: DirectorError): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.schedule();
    }, this.o.retryMs ?? 1000);
  }

  /** 'fallback' when a table applied whole took a fallback server in or out (ldirectord's fallback_on/fallback_off). */
  private fallbackEvents(status: VirtualStatus[]): void {
    for (const st of status) {
      const was = this.fallbackIn.get(st.id);
      if (was === st.fallback) continue;
      if (was !== undefined) this.emit('fallback', { virtual: st.id, server: was, on: false });
      if (st.fallback !== undefined) this.emit('fallback', { virtual: st.id, server: st.fallback, on: true });
      if (st.fallback === undefined) this.fallbackIn.delete(st.id);
      else this.fallbackIn.set(st.id, st.fallback);
    }
  }

  /** ldirectord's do_fallback_command: `<command> start|stop <vip>:<port> <protocol>` when a service loses or regains its last real server. */
  private fallbackCommands(status: VirtualStatus[]): void {
    const config = this.config as LdResolvedConfig;
    for (const st of status) {
      const v = config.virtuals.find((x) => x.id === st.id);
      const cmd = v?.fallbackcommand.value;
      if (!v || !cmd) continue;
      const want = st.up.length === 0 ? 'start' : 'stop';
      if (this.fallbackCommandState.get(st.id) === want) continue;
      this.fallbackCommandState.set(st.id, want);
      const a = v.address;
      const where = a.kind === 'fwmark' ? `${a.mark}:0` : `${a.host}:${a.port}`;
      const line = `${cmd} ${want} ${where} ${v.protocol.value}`;
      if (this.o.runCommand) this.o.runCommand(line);
      else spawn('/bin/sh', ['-c', line], { stdio: 'ignore' }).on('error', () => {});
    }
  }
}
