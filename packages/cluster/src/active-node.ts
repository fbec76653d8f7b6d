// One director of an active/active set (bgp.cf): no Heartbeat membership,
// every director is active behind the routers' ECMP route. It holds the
// VIPs on `lo` (/32, /128) with ARP suppressed (arp_ignore=1,
// arp_announce=2, as a direct-routing real server has them), turns on
// sloppy_tcp/sloppy_sctp (a director that receives a flow in its middle,
// moved to it by the router, forwards it instead of resetting it), runs the
// Director on the ldirectord.cf made for the mode (mh with mh-port and
// mh-fallback, real servers in the file's order and quiesced, never
// deleted: activeActiveLdirectord) and BIRD (BirdRouting, from bgp.cf).
//
// The health loop: a VIP is announced while one of its virtual services has
// a real server up in the table (announced after the table that has it is
// in the kernel), and withdrawn when the checks find its last real server
// down — at that transition, before the table is changed — and first at a
// stop, before the table is removed. If this process dies, BIRD dies with
// it (the supervisor's parent-death signal): the routers withdraw.
import { EventEmitter } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { BirdRouting, type BirdRoutingOptions, type RoutingEvent, type RoutingStatus } from '@lvs-ha/bird';
import {
  Director,
  type DirectorIpvs,
  describeOperation,
  healthyVips,
  realServersOf,
  serviceKeyOfVirtual,
  type VirtualReport,
} from '@lvs-ha/director';
import { Ipvs, serviceId } from '@lvs-ha/ipvs';
import { addAddress, parseIp, removeAddress } from '@lvs-ha/vip';
import type { ActiveConfig } from './active-config.js';
import type { ClusterObservation, ClusterStatus } from './cluster-node.js';
import type { DirectorCounters } from './resources.js';

export interface ActiveNodeOptions {
  /** What loadActiveConfig() read (without errors). */
  config: ActiveConfig;
  /** This director's name (for the status). */
  node: string;
  /** Where BIRD's bird.conf and bird.ctl go (default /run/lvs-ha/bird). */
  birdDir?: string;
  /** The bird binary (default: found on PATH). */
  bird?: string;
  /** Opens the IPVS binding (default Ipvs.open()). */
  openIpvs?: () => Promise<DirectorIpvs & { close(): void }>;
  /** Reads and writes a sysctl (default /proc/sys); tests give a fake. */
  sysctl?: { get(name: string): Promise<string>; set(name: string, value: string): Promise<void> };
  /** The interfaces whose ARP is suppressed besides all/default (default: every one but lo). */
  interfaces?: () => Promise<string[]>;
  /** Starts the routing (default BirdRouting.start); tests give a fake. */
  startRouting?: (options: BirdRoutingOptions) => Promise<ActiveRouting>;
  /** Puts a VIP on lo and takes it off (default @lvs-ha/vip's addAddress/removeAddress); tests give a fake. */
  addresses?: {
    add(vip: { address: string; prefixLength: number; interface: string }): Promise<{ changed: boolean }>;
    remove(vip: { address: string; interface: string }): Promise<unknown>;
  };
}

/** What the node asks of its routing (a BirdRouting). */
export type ActiveRouting = Pick<
  BirdRouting,
  'announce' | 'withdraw' | 'setAnnounced' | 'status' | 'stop' | 'wanted' | 'written'
>;

export class ActiveNodeError extends Error {
  override readonly name = 'ActiveNodeError';
  constructor(
    readonly code: 'CONFIG' | 'STATE' | 'SETUP',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One VIP of the node: healthy (a real server up in its table), announced (BIRD's static protocol up). */
export interface ActiveVipStatus {
  vip: string;
  /** The virtual services (ldirectord ids) it carries; none for bgp.cf's own `vip` lines. */
  virtuals: string[];
  healthy: boolean;
  wanted: boolean;
  announced: boolean;
}

/** What `lvs-ha status` shows of an active/active director. */
export interface ActiveReport extends ClusterStatus {
  mode: 'active-active';
  routing: RoutingStatus;
  announce: ActiveVipStatus[];
  ipvs: { file: string; virtuals: VirtualReport[] }[];
}

type Events = {
  /** One line of what the node does and sees, for a log. */
  log: [line: string];
};

const SYSCTL_ROOT = '/proc/sys/';
const procSysctl = {
  get: async (name: string) => (await readFile(SYSCTL_ROOT + name.replace(/\./g, '/'), 'utf8')).trim(),
  set: (name: string, value: string) => writeFile(SYSCTL_ROOT + name.replace(/\./g, '/'), `${value}\n`),
};

async function procInterfaces(): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir('/proc/sys/net/ipv4/conf')).filter(
    (n) => n !== 'lo' && n !== 'all' && n !== 'default',
  );
}

/** The sysctls the mode sets, with the value each gets. */
export function activeSysctls(
  interfaces: readonly string[],
  families: ReadonlySet<4 | 6>,
): [string, string][] {
  const out: [string, string][] = [
    ['net.ipv4.vs.sloppy_tcp', '1'],
    ['net.ipv4.vs.sloppy_sctp', '1'],
  ];
  if (families.has(4))
    for (const i of ['all', 'default', ...interfaces])
      out.push([`net.ipv4.conf.${i}.arp_ignore`, '1'], [`net.ipv4.conf.${i}.arp_announce`, '2']);
  return out;
}

export class ActiveNode extends EventEmitter<Events> {
  readonly config: ActiveConfig;
  #ipvs: (DirectorIpvs & { close(): void }) | undefined;
  #director: Director | undefined;
  #routing: ActiveRouting | undefined;
  #state: 'init' | 'starting' | 'active' | 'stopping' | 'stopped' = 'init';
  #since = new Date().toISOString();
  /** The VIPs the last table had a real server up for. */
  #healthy = new Set<string>();
  /** The real servers (virtual/address:port) that have had a check result. */
  readonly #checked = new Set<string>();
  /** VIPs healthy again, waiting one check interval before they are announced. */
  readonly #rising = new Map<string, NodeJS.Timeout>();
  /** Real servers up per virtual service, from the checks' transitions (the withdrawal does not wait for a table). */
  #upReals = new Map<string, Set<string>>();
  /** Sysctls as they were before start, put back at stop. */
  #saved: [string, string][] = [];
  #vipsUp: string[] = [];
  #starting: Promise<void> | undefined;
  readonly counters: DirectorCounters = { operations: {}, applyErrors: {}, reloads: { ok: 0, refused: 0 } };
  readonly #o: ActiveNodeOptions;

  constructor(options: ActiveNodeOptions) {
    super();
    if (!options.config.ldirectord || !options.config.bgp)
      throw new ActiveNodeError('CONFIG', 'the active/active configuration has errors (lvs-ha check)');
    this.#o = options;
    this.config = options.config;
  }

  #say(line: string): void {
    this.emit('log', line);
  }

  get routing(): ActiveRouting | undefined {
    return this.#routing;
  }

  get director(): Director | undefined {
    return this.#director;
  }

  /** Sets the kernel up, starts BIRD (every VIP withdrawn) and the Director; the health loop announces. */
  start(): Promise<void> {
    if (this.#state !== 'init')
      return Promise.reject(new ActiveNodeError('STATE', `start() when ${this.#state}`));
    this.#state = 'starting';
    this.#starting = this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    const ld = this.config.ldirectord as NonNullable<ActiveConfig['ldirectord']>;
    const bgp = this.config.bgp as NonNullable<ActiveConfig['bgp']>;
    try {
      this.#ipvs = await (this.#o.openIpvs ?? (() => Ipvs.open()))();
      // A table left by a run that was killed: its real servers may be in another order than
      // the file's (the Maglev table depends on it). Nothing is announced yet: start clean.
      const ours = new Set(
        (await this.#ipvs.getTable())
          .filter((s) =>
            ld.virtuals.some((v) => {
              const key = serviceKeyOfVirtual(v);
              return key !== undefined && serviceId(key) === serviceId(s);
            }),
          )
          .map((s) => serviceId(s)),
      );
      if (ours.size > 0) {
        const r = await this.#ipvs.reconcile([], { owned: (s) => ours.has(serviceId(s)) });
        for (const op of r.operations) this.#say(`leftover: ${describeOperation(op)}`);
      }
      await this.#sysctls();
      const vips = [...new Set([...this.config.vipOf.values(), ...this.config.extraVips])];
      for (const vip of vips) {
        const ip = parseIp(vip);
        const r = await (this.#o.addresses?.add ?? addAddress)({
          address: vip,
          prefixLength: ip.family === 4 ? 32 : 128,
          interface: 'lo',
        });
        this.#vipsUp.push(vip);
        this.#say(`vip ${vip}/${ip.family === 4 ? 32 : 128} on lo${r.changed ? '' : ' (was there)'}`);
      }
      this.#routing = await (this.#o.startRouting ?? ((o) => BirdRouting.start(o)))({
        config: bgp,
        dir: this.#o.birdDir ?? '/run/lvs-ha/bird',
        ...(this.#o.bird && { bird: this.#o.bird }),
        onEvent: (e) => this.#routingEvent(e),
      });
      const director = new Director({ ipvs: this.#ipvs });
      this.#director = director;
      director.on('transition', (t) => {
        const key = `${t.real.address}:${t.real.port}`;
        const up = this.#upReals.get(t.virtual) ?? new Set<string>();
        this.#upReals.set(t.virtual, up);
        if (t.up) up.add(key);
        else up.delete(key);
        this.#checked.add(`${t.virtual}/${key}`);
        this.#say(`${t.virtual} real ${key} ${t.up ? 'up' : `down (${t.result.reason})`}`);
        if (!t.up) this.#withdrawUnhealthy();
      });
      director.on('applied', (a) => {
        for (const op of a.operations) {
          this.counters.operations[op.op] = (this.counters.operations[op.op] ?? 0) + 1;
          this.#say(describeOperation(op));
        }
        this.#announce(a.status);
      });
      director.on('error', (e) => {
        this.counters.applyErrors[e.code] = (this.counters.applyErrors[e.code] ?? 0) + 1;
        this.#say(`error ${e.code}: ${e.message}`);
      });
      // A director that joins announces only after every real server's first check: a table
      // with some of them still at weight 0 would be another Maglev table than the others'.
      const firstRoundMs =
        1000 *
        (1 +
          Math.max(0, ...ld.virtuals.map((v) => Math.max(v.checktimeout.value, v.negotiatetimeout.value))));
      const applied = await director.start(ld, { firstRoundMs });
      this.#state = 'active';
      this.#announce(applied.status, true);
      this.#since = new Date().toISOString();
      this.#say(
        `active/active: ${ld.virtuals.length} virtual service(s) from ${this.config.ldirectordFile}, BIRD ${this.#routing.written.bgpProtocols.length} BGP session(s) from ${this.config.bgpFile}`,
      );
    } catch (e) {
      this.#say(`error start: ${(e as Error).message}`);
      await this.#teardown();
      this.#state = 'stopped';
      throw e instanceof ActiveNodeError
        ? e
        : new ActiveNodeError('SETUP', (e as Error).message, { cause: e });
    }
  }

  async #sysctls(): Promise<void> {
    const sys = this.#o.sysctl ?? procSysctl;
    const families = new Set(
      [...this.config.vipOf.values(), ...this.config.extraVips].map((v) => parseIp(v).family),
    );
    const wanted = activeSysctls(await (this.#o.interfaces ?? procInterfaces)(), families);
    for (const [name, value] of wanted) {
      let was: string;
      try {
        was = await sys.get(name);
      } catch (e) {
        // an interface gone meanwhile; the IPVS ones need ip_vs (loaded by Ipvs.open)
        if (name.startsWith('net.ipv4.vs.'))
          throw new ActiveNodeError('SETUP', `cannot read ${name}: ${(e as Error).message}`);
        continue;
      }
      if (was === value) continue;
      await sys.set(name, value);
      this.#saved.push([name, was]);
    }
    this.#say(
      `sysctl: sloppy_tcp and sloppy_sctp on${families.has(4) ? ', ARP suppressed (arp_ignore=1, arp_announce=2)' : ''}`,
    );
  }

  #routingEvent(e: RoutingEvent): void {
    if (e.type === 'started') this.#say(`bird started (pid ${e.pid})`);
    else if (e.type === 'exited')
      this.#say(
        `${this.#state === 'stopping' ? '' : 'error '}bird exited (${e.exit.signal ?? `code ${e.exit.code}`})${e.exit.stderr ? `: ${e.exit.stderr.trim().split('\n').at(-1)}` : ''}`,
      );
    else if (e.type === 'restarting') this.#say(`bird: restarting in ${e.inMs} ms (attempt ${e.attempt})`);
    else if (e.type === 'announced') this.#say(`bgp: ${e.vip} announced`);
    else if (e.type === 'withdrawn') this.#say(`bgp: ${e.vip} withdrawn`);
    else this.#say(`error bird: ${e.error.message}`);
  }

  /**
   * After a table: withdraw the VIPs without a real server up in it at
   * once; announce the others. A VIP that was withdrawn is announced one
   * check interval after its first real server came back (`immediate`: the
   * first table, made after every real server's first check): by then every
   * real server that is up again has been checked and is in the table, so
   * the flows the routers send here find the Maglev table the other
   * directors have, not one with some real servers still at weight 0. In
   * any case not before every one of its real servers has had a check.
   */
  #announce(status: Parameters<typeof healthyVips>[1], immediate = false): void {
    const routing = this.#routing;
    if (this.#state !== 'active' || !routing) return;
    // A table's status can be older than the checks (a change that began before the last real
    // server's down): a VIP the checks left with no real server up stays withdrawn.
    const byChecks = this.#healthyByChecks();
    this.#healthy = new Set(
      [...healthyVips(this.config.vipOf, status, this.config.extraVips)].filter((v) => byChecks.has(v)),
    );
    const fail = (e: Error) => this.#say(`error bgp: ${e.message}`);
    for (const vip of routing.written.vipProtocols.keys()) {
      if (!this.#healthy.has(vip)) {
        clearTimeout(this.#rising.get(vip));
        this.#rising.delete(vip);
        if (routing.wanted.has(vip)) void routing.withdraw(vip).catch(fail);
      } else if (routing.wanted.has(vip) || this.#rising.has(vip) || !this.#allChecked(vip)) {
        // announced already, or soon; or some real server has not answered a first check yet
        // (the checks' threads start slowly on a loaded machine): its next table calls here again
      } else if (immediate) {
        void routing.announce(vip).catch(fail);
      } else {
        const holdMs = this.#holdMs(vip);
        this.#say(`bgp: ${vip} has a real server up: announced in ${holdMs} ms (one check interval)`);
        this.#rising.set(
          vip,
          setTimeout(() => {
            this.#rising.delete(vip);
            if (this.#state === 'active' && this.#healthy.has(vip)) void routing.announce(vip).catch(fail);
          }, holdMs),
        );
      }
    }
  }

  /** Every real server of the VIP's virtual services (of all, for bgp.cf's own VIPs) has had a check result. */
  #allChecked(vip: string): boolean {
    const ld = this.config.ldirectord as NonNullable<ActiveConfig['ldirectord']>;
    const own = ld.virtuals.filter((v) => this.config.vipOf.get(v.id) === vip);
    return (own.length > 0 ? own : ld.virtuals).every((v) =>
      realServersOf(v).every((r) => this.#checked.has(`${v.id}/${r.address}:${r.port}`)),
    );
  }

  /** The longest check interval of the VIP's virtual services (all of them for bgp.cf's own VIPs), in ms. */
  #holdMs(vip: string): number {
    const ld = this.config.ldirectord as NonNullable<ActiveConfig['ldirectord']>;
    const own = ld.virtuals.filter((v) => this.config.vipOf.get(v.id) === vip);
    return 1000 * Math.max(0, ...(own.length > 0 ? own : ld.virtuals).map((v) => v.checkinterval.value));
  }

  /** At a check's down: withdraw, before the table changes, every VIP left with no real server up. */
  #withdrawUnhealthy(): void {
    if (!this.#routing) return;
    const now = this.#healthyByChecks();
    for (const vip of this.#routing.wanted)
      if (!now.has(vip)) {
        this.#healthy.delete(vip);
        void this.#routing.withdraw(vip).catch((e: Error) => this.#say(`error bgp: ${e.message}`));
      }
  }

  /** The VIPs with a real server up by the latest check results (newer than any table). */
  #healthyByChecks(): Set<string> {
    const status = [...this.config.vipOf.keys()].map((id) => ({
      id,
      up: [...(this.#upReals.get(id) ?? [])],
    }));
    return healthyVips(this.config.vipOf, status, this.config.extraVips);
  }

  /** A changed ldirectord.cf (made for the mode again); a changed bgp.cf needs a restart. */
  async reload(
    next: ActiveConfig,
  ): Promise<{ file: string; ok: boolean; restart?: true; message?: string }[]> {
    const out: { file: string; ok: boolean; restart?: true; message?: string }[] = [];
    const director = this.#director;
    if (!director || this.#state !== 'active')
      throw new ActiveNodeError('STATE', `reload when ${this.#state}`);
    if (!next.ldirectord || !next.bgp) {
      this.counters.reloads.refused++;
      for (const p of next.problems) if (p.severity === 'error') this.#say(`error ${p.message}`);
      return [{ file: next.ldirectordFile, ok: false }];
    }
    const sameVips =
      JSON.stringify([...next.vipOf.values(), ...next.extraVips].sort()) ===
      JSON.stringify([...this.config.vipOf.values(), ...this.config.extraVips].sort());
    if (!sameVips || JSON.stringify(next.bgp) !== JSON.stringify(this.config.bgp)) {
      out.push({
        file: next.bgpFile,
        ok: true,
        restart: true,
        message: `${next.bgpFile} or the VIPs changed: that needs a restart (lvs-ha stop, start)`,
      });
      if (!sameVips) return out;
    }
    await director.reload(next.ldirectord).catch(() => undefined);
    (this as { config: ActiveConfig }).config = {
      ...this.config,
      ldirectord: next.ldirectord,
      vipOf: next.vipOf,
    };
    this.counters.reloads.ok++;
    out.push({ file: next.ldirectordFile, ok: true });
    return out;
  }

  status(): ClusterStatus {
    return {
      node: this.#o.node,
      nodeStatus: this.#state === 'active' ? 'active' : this.#state,
      nodeStatusSince: this.#since,
      peers: [],
      holding: this.#healthy.size > 0 ? 'all' : 'none',
      state: `active/active (${this.#state})`,
      directors: this.#director ? [this.config.ldirectordFile] : [],
      vips: [...this.#vipsUp],
    };
  }

  async routingStatus(): Promise<RoutingStatus> {
    const r = this.#routing;
    if (!r) return { running: false, pid: undefined, restarts: 0, sessions: [], vips: [] };
    return r.status().catch(() => ({ running: false, pid: undefined, restarts: 0, sessions: [], vips: [] }));
  }

  async report(): Promise<ActiveReport> {
    const [routing, virtuals] = await Promise.all([
      this.routingStatus(),
      this.#director?.report().catch(() => []) ?? [],
    ]);
    const byVip = new Map(routing.vips.map((v) => [v.vip, v]));
    const announce = [...new Set([...this.config.vipOf.values(), ...this.config.extraVips])].map(
      (vip): ActiveVipStatus => ({
        vip,
        virtuals: [...this.config.vipOf].filter(([, v]) => v === vip).map(([id]) => id),
        healthy: this.#healthy.has(vip),
        wanted: byVip.get(vip)?.wanted ?? false,
        announced: byVip.get(vip)?.announced ?? false,
      }),
    );
    return {
      ...this.status(),
      mode: 'active-active',
      routing,
      announce,
      ipvs: this.#director ? [{ file: this.config.ldirectordFile, virtuals }] : [],
    };
  }

  /** The Director that runs here, as ClusterNode.directorsRunning() gives them. */
  directorsRunning(): { file: string; director: Director; ipvs: DirectorIpvs }[] {
    return this.#director && this.#ipvs
      ? [{ file: this.config.ldirectordFile, director: this.#director, ipvs: this.#ipvs }]
      : [];
  }

  /** What the metrics read, as ClusterNode.observe() (no membership: heartbeat undefined). */
  async observe(): Promise<ClusterObservation> {
    const directors = await Promise.all(
      this.directorsRunning().map(async (d) => ({
        file: d.file,
        virtuals: await d.director.report().catch(() => []),
        table: await d.ipvs.getTable().catch(() => []),
        checks: d.director.states(),
      })),
    );
    return {
      status: this.status(),
      heartbeat: undefined,
      holdingChanges: 0,
      directors,
      counters: this.counters,
    };
  }

  /**
   * Withdraws every VIP (the routers move the flows to the other directors
   * first), stops BIRD (a Cease to each router), then removes the table,
   * the VIPs from lo, and puts the sysctls back.
   */
  async stop(): Promise<void> {
    // a stop during the start: the start ends first (it tears down itself if it fails)
    await this.#starting?.catch(() => undefined);
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    await this.#teardown();
    this.#state = 'stopped';
  }

  async #teardown(): Promise<void> {
    for (const t of this.#rising.values()) clearTimeout(t);
    this.#rising.clear();
    const routing = this.#routing;
    if (routing) {
      await routing.setAnnounced([]).catch((e: Error) => this.#say(`error bgp: withdraw: ${e.message}`));
      this.#say('bgp: every VIP withdrawn');
      await routing.stop().catch((e: Error) => this.#say(`error bird: stop: ${e.message}`));
      this.#routing = undefined;
    }
    if (this.#director) {
      try {
        for (const op of await this.#director.stop()) this.#say(describeOperation(op));
      } catch (e) {
        this.#say(`error ${(e as Error).message}`);
      }
      this.#director = undefined;
    }
    for (const vip of this.#vipsUp.splice(0)) {
      await (this.#o.addresses?.remove ?? removeAddress)({ address: vip, interface: 'lo' }).catch(
        (e: Error) => this.#say(`error vip ${vip} off lo: ${e.message}`),
      );
      this.#say(`vip ${vip} off lo`);
    }
    const sys = this.#o.sysctl ?? procSysctl;
    for (const [name, value] of this.#saved.splice(0).reverse())
      await sys.set(name, value).catch(() => undefined);
    this.#ipvs?.close();
    this.#ipvs = undefined;
  }
}
