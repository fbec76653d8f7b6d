// One director of the pair, as Heartbeat, its resource scripts and
// ldirectord make it: Heartbeat's membership and haresources hand-over
// (@lvs-ha/hb-proto, wire-compatible with Heartbeat 3.0.6) on a thread of
// its own, and what the resource groups start and stop when they move
// (ResourceRunner: the VIP, ldirectord as the Director, scripts).
//
// Its first duty is never to leave a VIP on both directors:
// - one owner of every action: the hand-over's actions, a reload, the idle
//   check and a shutdown run one at a time, in order, on one queue;
// - nothing joins before start(): the caller takes the control socket
//   first, so a second node on the machine stops before it joins;
// - at start, resources of ours found active are taken down before we join
//   (Heartbeat's verifyallidle);
// - a group that fails to start is stopped again and given to the peer
//   (hb_standby); one that fails to stop stays held, and is tried again;
// - fail-stop: when the membership thread dies, the VIPs go down first, then
//   the rest, then the node reports itself failed (the process should end;
//   systemd starts it again); when this thread hangs, the membership thread
//   does the same from its side;
// - a peer "returning after partition" (both thought the other dead): give
//   everything up and join again, as Heartbeat's CauseShutdownRestart does.
import { EventEmitter } from 'node:events';
import type { Director, DirectorIpvs, VirtualReport, VirtualStatus } from '@lvs-ha/director';
import { type ConfigDir, type HaResourceGroup, loadConfigDir } from '@lvs-ha/ha-config';
import {
  HeartbeatNode,
  type HeartbeatStats,
  haresourcesGroups,
  type ResourceAction,
  resourceKey,
} from '@lvs-ha/hb-proto';
import { Ipvs, type TableService } from '@lvs-ha/ipvs';
import { libc } from '@lvs-ha/sys';
import { listAddresses } from '@lvs-ha/vip';
import { HeartbeatThread, type HeartbeatThreadOptions } from './heartbeat-thread.js';
import { type DirectorCounters, ResourceRunner } from './resources.js';
import { NotifyStates, type StateChange } from './states.js';
import { ConnectionSync } from './sync.js';

/** How often a failed start asks the peer again to take what it gave up (ClusterNode.giveUpToPeer). */
const GIVE_UP_RETRY_MS = 1000;
export interface ClusterNodeOptions {
  /** What loadConfigDir() read: ha.cf, authkeys, haresources (and ldirectord.cf). */
  config: ConfigDir;
  /** This node's name in ha.cf (Heartbeat: uname -n, lower-cased). */
  node: string;
  /** Opens the IPVS binding for an ldirectord resource (default Ipvs.open()). */
  openIpvs?: () => Promise<DirectorIpvs & { close(): void }>;
  /** Seconds a resource script may run before it is killed and counts as failed (default 60). */
  scriptTimeout?: number;
  /** Milliseconds without a sign of life from this thread before the membership thread takes the VIPs down (default deadtime). */
  hangMs?: number;
  /**
   * IPVS connection sync (ConnectionSync): the interface and sync id, or
   * false for none. Default: when haresources runs ldirectord, the interface
   * of ha.cf's first bcast/mcast/ucast medium (the directors' link), sync id 0.
   */
  connectionSync?: { interface: string; syncId?: number } | false;
}

type Events = {
  /** One line of what the node does and sees, for a log. */
  log: [line: string];
  /** The node cannot go on (its membership thread died): its resources were taken down; end the process. */
  failed: [reason: string];
  /** A group or this node changed state (MASTER, BACKUP, FAULT, STOP), for notify hooks: after the change is done, in order. */
  state: [change: StateChange];
};

/** What a running node believes, as `cl_status` tells it of Heartbeat. */
export interface ClusterStatus {
  /** This node's name. */
  node: string;
  /** This node's own status (init, up, active). */
  nodeStatus: string;
  /** Since when (ISO time) this node has had its status. */
  nodeStatusSince?: string;
  /** Every node of ha.cf but this one: its status (init, up, active, dead) since when, and its links by medium. */
  peers: { name: string; status: string; since?: string; links: Record<string, string> }[];
  /** Which haresources groups this node holds (cl_status rscstatus: all, local, foreign, none). */
  holding: string;
  /** The hand-over's state (init, starting, stable, transition, shutdown…). */
  state: string;
  /** Since when it has held what it holds. */
  holdingSince?: string;
  /** Each haresources group: whose it is (haresources' node), and whether it is held here. */
  groups?: { key: string; owner: string; heldHere: boolean }[];
  /** The ldirectord.cf files whose Director runs here. */
  directors: string[];
  /** The VIPs up here. */
  vips: string[];
}

/** status() with the IPVS table of each running Director, as the kernel has it now, and the checks' view. */
export interface ClusterReport extends ClusterStatus {
  ipvs: { file: string; virtuals: VirtualReport[] }[];
}

/** What a scrape of the metrics reads: the status, the membership thread's counters, and each Director's table with the kernel's counters. */
export interface ClusterObservation {
  status: ClusterStatus;
  /** HeartbeatNode.stats() from the membership thread; undefined before the join or when it does not answer. */
  heartbeat: HeartbeatStats | undefined;
  /** Times the groups held here changed (cl_status rscstatus), since the start. */
  holdingChanges: number;
  directors: {
    file: string;
    /** Director.report(): each virtual service's real servers, health and kernel entry. */
    virtuals: VirtualReport[];
    /** The kernel's table of the same moment, with its counters and rates (IPVS stats). */
    table: TableService[];
    /** The checks' state of each real server (counts by result, the duration histogram). */
    checks: ReturnType<Director['states']>;
  }[];
  /** Operations, apply errors and reloads of every Director since the start. */
  counters: DirectorCounters;
}

export class ClusterNodeError extends Error {
  override readonly name = 'ClusterNodeError';
  constructor(
    readonly code: 'CONFIG' | 'RESOURCE' | 'STATE',
    message: string,
  ) {
    super(message);
  }
}

/** A parsed file as text without where things stood in it (a moved line, a comment, a mode change are no change). */
function meaning(value: unknown): string {
  const where = new Set(['line', 'column', 'argColumns', 'before', 'trailer', 'mode', 'authLine']);
  return JSON.stringify(value ?? null, (k, v) => (where.has(k) ? undefined : v));
}

/** A director of the pair: membership, the hand-over, and the resources it starts and stops. */
export class ClusterNode extends EventEmitter<Events> {
  private thread: HeartbeatThread | undefined;
  private readonly options: HeartbeatThreadOptions;
  private readonly groups = new Map<string, HaResourceGroup>();
  private readonly runner: ResourceRunner;
  private readonly sync: ConnectionSync | undefined;
  /** The one queue every action runs on. */
  private queue: Promise<unknown> = Promise.resolve();
  private phase: 'new' | 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed' = 'new';
  private stopping: Promise<void> | undefined;
  private generation = 0;
  /** ldirectord's autoreload: looks at the running Directors' files once a second (each at its checkinterval). */
  private autoreloadTimer: NodeJS.Timeout | undefined;
  /** A failed start's hb_standby, asked again until the peer takes the groups (see giveUpToPeer). */
  private giveUpTimer: NodeJS.Timeout | undefined;
  /** What the membership told us last (the rest is read when asked). */
  private seen: Omit<ClusterStatus, 'directors' | 'vips'>;
  private holdingChanges = 0;
  private readonly states: NotifyStates;

  constructor(private readonly o: ClusterNodeOptions) {
    super();
    const c = o.config;
    const errors = c.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) throw new ClusterNodeError('CONFIG', errors.map((e) => e.message).join('\n'));
    if (!c.haCf || !c.authkeys)
      throw new ClusterNodeError('CONFIG', `${c.dir}: ha.cf and authkeys are needed`);
    const name = o.node.toLowerCase();
    const settings = c.haCf.value.settings;
    if (!settings.nodes.some((n) => n.toLowerCase() === name))
      throw new ClusterNodeError(
        'CONFIG',
        `${name} is not a node of ${c.haCf.file} (${settings.nodes.join(', ')})`,
      );
    this.options = {
      ...HeartbeatNode.optionsFromHaCf(settings, name, c.authkeys.value),
      ...(o.hangMs !== undefined && { hangMs: o.hangMs }),
    };
    if (c.haresources) {
      for (const g of c.haresources.value.groups) {
        const first = g.resources[0];
        if (first) this.groups.set(resourceKey(first), g);
      }
      const { local, foreign } = haresourcesGroups(c.haresources.value, name);
      this.options.resources = {
        autoFailback: settings.autoFailback,
        localGroups: local,
        foreignGroups: foreign,
      };
    }
    this.seen = this.initialSeen();
    this.states = new NotifyStates(name, this.groups.keys());
    const usesDirector = [...this.groups.values()].some((g) =>
      g.resources.some((r) => r.kind === 'script' && r.name === 'ldirectord'),
    );
    const link = settings.media.find(
      (m): m is Extract<typeof m, { interface: string }> =>
        'interface' in m && typeof m.interface === 'string',
    );
    const sync =
      o.connectionSync === undefined
        ? usesDirector && link
          ? { interface: link.interface }
          : undefined
        : o.connectionSync || undefined;
    this.sync = sync && new ConnectionSync({ ...sync, say: (line) => this.say(line) });
    this.runner = new ResourceRunner({
      configDir: c.dir,
      openIpvs: o.openIpvs ?? (() => Ipvs.open()),
      scriptTimeoutMs: (o.scriptTimeout ?? 60) * 1000,
      say: (line) => this.say(line),
      onFailStopList: (items) => this.thread?.failStopList(items),
    });
  }

  private initialSeen(): Omit<ClusterStatus, 'directors' | 'vips'> {
    const name = this.options.node;
    return {
      node: name,
      nodeStatus: 'init',
      peers: this.options.nodes
        .map((n) => n.toLowerCase())
        .filter((n) => n !== name)
        .map((n) => ({ name: n, status: 'init', links: {} })),
      holding: 'none',
      state: 'init',
    };
  }

  /** Runs `fn` on the queue, after every action before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /**
   * Checks that nothing of ours is active, then joins the cluster. Call it
   * once the control socket (or whatever proves this is the only node on the
   * machine) is yours.
   */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new ClusterNodeError('STATE', `start() when ${this.phase}`);
    this.phase = 'starting';
    // The membership shares this thread with everything the resources do: load
    // what they load on first use (koffi's native module, the IPVS family)
    // now, not while a peer is counting our silence against deadtime.
    await this.warmUp();
    await this.checkBroadcast();
    await this.serial(async () => {
      for (const name of this.ldirectordFiles()) {
        try {
          await this.runner.preloadLdirectord(name);
        } catch (e) {
          this.say(`warning ldirectord ${name}: ${(e as Error).message}`);
        }
      }
      await this.runner.idleCheck(this.groups.values());
    });
    await this.join();
    this.phase = 'running';
    await this.sync?.start();
    let looking = false;
    this.autoreloadTimer = setInterval(() => {
      // one look at a time: behind an action that takes long (a stop tried again) they must not pile up
      if (this.phase !== 'running' || looking) return;
      looking = true;
      void this.serial(() => this.runner.autoreload())
        .catch(() => undefined)
        .finally(() => {
          looking = false;
        });
    }, 1000);
    this.say(`started as ${this.options.node}`);
  }

  private async join(): Promise<void> {
    // A new generation each time we join: the peer must see a restart, not a replay.
    this.generation = Math.max(Math.floor(Date.now() / 1000), this.generation + 1);
    const thread = new HeartbeatThread({ ...this.options, generation: this.generation }, (a) => this.run(a));
    this.thread = thread;
    thread.on('status', (peer, status) => {
      const p = this.seen.peers.find((x) => x.name === peer);
      const since = new Date().toISOString();
      // the peer (back) in the cluster: if it held our VIPs meanwhile, the segment's ARP caches point at it
      if (p && (status === 'active' || status === 'up') && p.status !== status)
        void this.runner.announceAll(`${peer} is ${status}`);
      if (p) Object.assign(p, { status, since });
      else if (peer === this.options.node)
        Object.assign(this.seen, { nodeStatus: status, nodeStatusSince: since });
      this.say(`node ${peer} ${status}`);
    });
    thread.on('link', (peer, medium, status) => {
      const p = this.seen.peers.find((x) => x.name === peer);
      if (p) p.links[medium] = status;
      this.say(`link ${peer} ${medium} ${status}`);
    });
    thread.on('error', (message) => this.say(`error ${message}`));
    thread.on('change', (holding, state) => {
      if (holding !== this.seen.holding) {
        this.seen.holdingSince = new Date().toISOString();
        this.holdingChanges++;
      }
      this.seen.holding = holding;
      this.seen.state = state;
      this.say(`resources ${holding} (${state})`);
    });
    thread.on('warning', (m) => {
      this.say(`warning ${m}`);
      if (/^Both machines own/.test(m)) void this.runner.announceAll('both nodes held a group');
    });
    thread.on(
      'partition',
      (peer) => void this.restartAfterPartition(`Cluster node ${peer} returning after partition`),
    );
    thread.on(
      'frozen',
      (ms) => void this.restartAfterPartition(`this process was stopped for ${ms} ms`, true),
    );
    thread.on('died', (reason) => void this.failStop(reason));
    await thread.start();
    // on the queue: after any action queued before, before any queued after
    void this.serial(async () => this.tell(this.states.joined()));
  }

  private tell(changes: StateChange[]): void {
    for (const c of changes) this.emit('state', c);
  }

  /** hb_standby: give these groups to the peer. */
  standby(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    this.thread?.standby(which);
  }

  /** hb_takeover: take these groups from the peer. */
  takeover(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    this.thread?.takeover(which);
  }

  /**
   * Re-reads the ldirectord.cf of every running Director and applies it (a
   * broken file changes nothing). ha.cf, authkeys and haresources are read
   * too, but only compared: the membership's settings (nodes, media, timings,
   * keys) and the groups are fixed for the life of the process, so a change
   * is reported as needing a restart (`restart: true`) and nothing of it is
   * applied. Heartbeat re-execs itself on such a change with the resources
   * held; a restart here goes through the peer instead (standby, restart,
   * takeover) or accepts the hand-over, which the fail-safety rules allow.
   */
  reload(): Promise<{ file: string; ok: boolean; restart?: true; message?: string }[]> {
    return this.serial(async () => [
      ...(await this.runner.reload()),
      ...(await this.heartbeatFilesChanged()),
    ]);
  }

  /** The Heartbeat files whose meaning changed since the start (comments and spacing do not count). */
  private async heartbeatFilesChanged(): Promise<
    { file: string; ok: boolean; restart: true; message: string }[]
  > {
    const now = await loadConfigDir(this.o.config.dir);
    const out: { file: string; ok: boolean; restart: true; message: string }[] = [];
    for (const k of ['haCf', 'authkeys', 'haresources'] as const) {
      const before = this.o.config[k];
      const after = now[k];
      if (!before && !after) continue;
      if (meaning(before?.value) === meaning(after?.value)) continue;
      const file = after?.file ?? before?.file ?? k;
      const broken = now.problems.filter((p) => p.severity === 'error' && p.file === file);
      // never the keys themselves in a log line
      const message = broken.length
        ? `${file} changed and is broken (${broken.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`).join('; ')}): the running node keeps what it started with`
        : `${file} changed: not applied at run time, a restart of lvs-ha start applies it (the running node keeps what it started with)`;
      this.say(`warning reload ${message}`);
      out.push({ file, ok: broken.length === 0, restart: true, message });
    }
    return out;
  }

  /** The Directors running here (for status: their tables and their real servers' health). */
  directors(): { file: string; status: VirtualStatus[] }[] {
    return this.runner.directorsRunning().map((d) => ({ file: d.file, status: d.director.status() }));
  }

  /** The Directors running here, for runtime weights (lvs-ha drain, undrain, weight); a Director started anew (after a hand-over) starts without overrides. */
  directorsRunning(): { file: string; director: Director }[] {
    return this.runner.directorsRunning().map((d) => ({ file: d.file, director: d.director }));
  }

  /** For fault-injection tests only: the membership thread crashes. */
  crashHeartbeatThread(): void {
    this.thread?.crash();
  }

  /**
   * Heartbeat: "Cluster node … returning after partition": both sides took
   * the other for dead and may both hold its groups. Heartbeat gives
   * everything up and restarts; so do we, then join as a new instance. The
   * same when this whole process was stopped for longer than the peer waits
   * (SIGSTOP, a suspended VM): the peer has taken over; our VIPs go down at
   * once, before the rest is released.
   */
  private async restartAfterPartition(why: string, vipsFirst = false): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'restarting';
    this.say(
      `warning ${why}: giving up our resources and joining again (Heartbeat's restart), so that only one node holds each group`,
    );
    try {
      // stopped longer than the peer waits: it holds our groups by now; ours go first, at once
      if (vipsFirst) await this.runner.vipsDownNow();
      await this.thread?.close({ graceful: true });
      await this.releaseEverything('partition');
      if ((this.phase as string) !== 'restarting') return;
      this.seen = this.initialSeen();
      await this.join();
      if ((this.phase as string) === 'restarting') this.phase = 'running';
      this.say(`joined again as ${this.options.node}`);
    } catch (e) {
      this.say(`error restart after partition: ${(e as Error).message}`);
      await this.failStop(`cannot join again after a partition: ${(e as Error).message}`);
    }
  }

  /** Whatever the runner still holds, released (right to left, each stop tried until it stops). */
  private releaseEverything(reason: string): Promise<void> {
    return this.serial(async () => {
      for (const key of this.runner.holding().reverse()) {
        const g = this.groups.get(key);
        if (!g) continue;
        await this.runner.release(key, g);
        if (reason !== 'fail-stop') this.tell(this.states.released(key, reason, reason === 'shutdown'));
      }
    });
  }

  /** The membership thread is gone: the VIPs down first (the peer takes over after deadtime), then the rest. */
  private async failStop(reason: string): Promise<void> {
    if (this.phase === 'stopped' || this.phase === 'failed' || this.phase === 'stopping') return;
    this.phase = 'failed';
    clearInterval(this.autoreloadTimer);
    this.cancelGiveUp();
    this.say(`error ${reason}: fail-stop, taking the VIPs down before the peer takes over`);
    const left = await this.runner.vipsDownNow();
    if (left.length > 0)
      this.say(`error ${left.join(', ')} could not be taken down: the peer may hold them too (split brain)`);
    this.tell(this.states.failStop());
    await this.releaseEverything('fail-stop');
    this.emit('failed', reason);
  }

  /** What this node believes now (a copy). */
  status(): ClusterStatus {
    const held = new Set(this.runner.holding());
    return {
      ...this.seen,
      peers: this.seen.peers.map((p) => ({ ...p, links: { ...p.links } })),
      groups: [...this.groups].map(([key, g]) => ({
        key,
        owner: g.node.toLowerCase(),
        heldHere: held.has(key),
      })),
      directors: this.runner.runningDirectors(),
      vips: this.runner.vipsUp(),
    };
  }

  /** status() and each running Director's table as the kernel has it now (`lvs-ha status`). */
  async report(): Promise<ClusterReport> {
    const ipvs = await Promise.all(
      this.runner.directorsRunning().map(async (d) => ({
        file: d.file,
        virtuals: await d.director.report().catch(() => []),
      })),
    );
    return { ...this.status(), ipvs };
  }

  /** Everything the metrics show, read now (the membership thread asked, each Director's table read). */
  async observe(): Promise<ClusterObservation> {
    const [heartbeat, directors] = await Promise.all([
      this.thread?.stats(),
      Promise.all(
        this.runner.directorsRunning().map(async (d) => {
          // one request at a time on the Director's netlink socket
          const virtuals = await d.director.report().catch(() => []);
          const table = await d.ipvs.getTable().catch(() => []);
          return { file: d.file, virtuals, table, checks: d.director.states() };
        }),
      ),
    ]);
    return {
      status: this.status(),
      heartbeat,
      holdingChanges: this.holdingChanges,
      directors,
      counters: this.runner.counters,
    };
  }

  /**
   * Leaves the cluster: with `graceful`, resources are released first and
   * the peer told (Heartbeat's shutdown), however long the release takes (a
   * stop that fails is tried again, and the peer is not told until it
   * stops). A second call while stopping waits for the first.
   */
  stop({ graceful = true } = {}): Promise<void> {
    if (this.stopping) {
      this.say('shutdown in progress: waiting for the resources to stop');
      return this.stopping;
    }
    this.stopping = (async () => {
      this.phase = 'stopping';
      clearInterval(this.autoreloadTimer);
      this.cancelGiveUp();
      await this.thread?.close({ graceful });
      // Anything the hand-over did not release (an acquire still in flight when the shutdown began).
      await this.releaseEverything('shutdown');
      if (this.phase === 'stopping') this.tell(this.states.stopped());
      await this.sync?.stop();
      this.phase = 'stopped';
    })();
    return this.stopping;
  }

  private say(line: string): void {
    this.emit('log', line);
  }

  private run(a: ResourceAction): Promise<void> {
    return this.serial(async () => {
      await this.runAction(a);
      // the sync daemon's master follows the tables held here
      await this.sync?.holding(this.runner.runningDirectors().length > 0);
    });
  }

  private async runAction(a: ResourceAction): Promise<void> {
    // "(none)" as Heartbeat logs it: a node with no group of its own still goes through the step
    this.say(`${a.action} ${a.set} (${a.reason}): ${a.groups.join(' ') || '(none)'}`);
    if (a.action === 'release') {
      // the peer took what a failed start gave up (or more): nothing left to ask
      if (a.reason === 'standby') this.cancelGiveUp();
      // A shutdown releases everything held, whatever the hand-over thinks we hold.
      const keys = a.reason === 'shutdown' ? this.runner.holding() : a.groups;
      for (const k of [...keys].reverse()) {
        const g = this.groups.get(k);
        if (!g) continue;
        await this.runner.release(k, g);
        this.tell(this.states.released(k, a.reason, a.reason === 'shutdown' || this.phase === 'stopping'));
      }
      return;
    }
    if (this.phase === 'stopping' || this.phase === 'failed') {
      this.say(`not starting ${a.groups.join(' ')}: the node is ${this.phase}`);
      return;
    }
    const failed: string[] = [];
    for (const k of a.groups) {
      const g = this.groups.get(k);
      if (!g) continue;
      if (await this.runner.acquire(k, g)) this.tell(this.states.acquired(k, a.reason));
      else {
        failed.push(k);
        this.tell(this.states.failed(k));
      }
    }
    if (failed.length > 0) {
      // Heartbeat gives a group it cannot start to the peer (hb_standby), instead of claiming it with nothing behind.
      const set = a.set === 'all' ? 'all' : a.set;
      this.say(`giving ${failed.join(' ')} up to the peer (hb_standby ${set}): it could not be started here`);
      this.giveUpToPeer(set);
    }
  }

  /**
   * hb_standby for a failed start, asked again every GIVE_UP_RETRY_MS until
   * the peer takes the groups (our release for 'standby' ends it): the
   * hand-over ignores a standby while either side is still in flux
   * (Heartbeat's ask_for_resources: "Other side is in flux"), and a start
   * that failed right after a hand-over is just that case; asked once, the
   * group stayed nowhere (claimed here, held by nobody).
   */
  private giveUpToPeer(set: 'all' | 'local' | 'foreign'): void {
    this.cancelGiveUp();
    const ask = () => {
      if (this.phase !== 'running') return this.cancelGiveUp();
      this.thread?.standby(set);
    };
    this.giveUpTimer = setInterval(ask, GIVE_UP_RETRY_MS);
    setImmediate(ask);
  }

  private cancelGiveUp(): void {
    clearInterval(this.giveUpTimer);
    this.giveUpTimer = undefined;
  }

  private ldirectordFiles(): string[] {
    const names = new Set<string>();
    for (const g of this.groups.values())
      for (const r of g.resources)
        if (r.kind === 'script' && r.name === 'ldirectord') names.add(r.args[0] ?? 'ldirectord.cf');
    return [...names];
  }

  /**
   * Heartbeat's bcast sends to the interface's configured broadcast address:
   * an address added without one (ip addr add A/24, no brd) makes a real
   * Heartbeat send to 0.0.0.0, and nothing it sends leaves the machine. We
   * send to the prefix's broadcast either way, so the pair seems to work
   * while a real Heartbeat set up like this machine is never heard: say so.
   */
  private async checkBroadcast(): Promise<void> {
    const media = this.o.config.haCf?.value.settings.media ?? [];
    for (const m of media) {
      if (m.type !== 'bcast') continue;
      const v4 = await listAddresses({ interface: m.interface, family: 4 }).catch(() => undefined);
      const bare = v4?.filter((a) => !a.secondary && a.prefixLength < 31 && a.broadcast === undefined) ?? [];
      for (const a of bare)
        this.say(
          `warning bcast ${m.interface}: ${a.address.text}/${a.prefixLength} has no broadcast address; a real Heartbeat with this set-up sends its heartbeats to 0.0.0.0 and is never heard (ip addr add ${a.address.text}/${a.prefixLength} brd + dev ${m.interface})`,
        );
    }
  }

  private async warmUp(): Promise<void> {
    const kinds = new Set(
      [...this.groups.values()].flatMap((g) => g.resources.map((r) => (r.kind === 'ipaddr' ? 'ip' : r.name))),
    );
    if (kinds.has('ip') || kinds.has('ldirectord')) {
      try {
        libc();
      } catch {
        // the VIP and the checks say so themselves when they need it
      }
    }
    if (kinds.has('ldirectord')) {
      const ipvs = await (this.o.openIpvs ?? (() => Ipvs.open()))().catch(() => undefined);
      ipvs?.close();
    }
  }
}
