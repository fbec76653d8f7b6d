// One director of the pair, as Heartbeat, its resource scripts and
// ldirectord make it: Heartbeat's membership and haresources hand-over
// (@lvs-ha/hb-proto, wire-compatible with Heartbeat 3.0.6), and what the
// resource groups start and stop when they move: a VIP (IPaddr, IPaddr2 or
// the bare address) brought up and announced with @lvs-ha/vip, ldirectord
// as the Director, any other resource by its script in resource.d or
// init.d, as Heartbeat runs it. A group is started left to right and
// stopped right to left; a resource that fails is reported and the others
// still run, as Heartbeat's ResourceManager does.
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { access, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { Director, type DirectorIpvs, describeOperation } from '@lvs-ha/director';
import {
  type ConfigDir,
  type HaResource,
  type HaResourceGroup,
  ldirectordCandidates,
  parseLdirectordCf,
  resolveLdirectordDefaults,
} from '@lvs-ha/ha-config';
import { HeartbeatNode, haresourcesGroups, type ResourceAction, resourceKey } from '@lvs-ha/hb-proto';
import { Ipvs } from '@lvs-ha/ipvs';
import { announce, listAddresses, release, takeOver } from '@lvs-ha/vip';
import { HeartbeatThread, type HeartbeatThreadOptions } from './heartbeat-thread.js';

export interface ClusterNodeOptions {
  /** What loadConfigDir() read: ha.cf, authkeys, haresources (and ldirectord.cf). */
  config: ConfigDir;
  /** This node's name in ha.cf (Heartbeat: uname -n, lower-cased). */
  node: string;
  /** Opens the IPVS binding for an ldirectord resource (default Ipvs.open()). */
  openIpvs?: () => Promise<DirectorIpvs & { close(): void }>;
  /** Seconds a resource script may run (default 60). */
  scriptTimeout?: number;
}

type Events = {
  /** One line of what the node does and sees, for a log. */
  log: [line: string];
};

/** The first of `paths` that exists, as Heartbeat and ldirectord look their files up. */
async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths)
    if (
      await access(p).then(
        () => true,
        () => false,
      )
    )
      return p;
  return undefined;
}

/** What a running node believes, as `cl_status` tells it of Heartbeat. */
export interface ClusterStatus {
  /** This node's name. */
  node: string;
  /** This node's own status (init, up, active). */
  nodeStatus: string;
  /** Every node of ha.cf but this one: its status (init, up, active, dead) and its links by medium. */
  peers: { name: string; status: string; links: Record<string, string> }[];
  /** Which haresources groups this node holds (cl_status rscstatus: all, local, foreign, none). */
  holding: string;
  /** The hand-over's state (init, starting, stable, transition, shutdown…). */
  state: string;
  /** The ldirectord.cf files whose Director runs here. */
  directors: string[];
}

export class ClusterNodeError extends Error {
  override readonly name = 'ClusterNodeError';
  constructor(
    readonly code: 'CONFIG' | 'RESOURCE',
    message: string,
  ) {
    super(message);
  }
}

/** A director of the pair: membership, the hand-over, and the resources it starts and stops. */
export class ClusterNode extends EventEmitter<Events> {
  /** The membership, on its own thread. */
  readonly heartbeat: HeartbeatThread;
  private readonly groups = new Map<string, HaResourceGroup>();
  private readonly directors = new Map<string, { director: Director; ipvs: { close(): void } }>();
  /** What the membership told us last (the directors are read when asked). */
  private readonly seen: Omit<ClusterStatus, 'directors'>;

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
    const options: HeartbeatThreadOptions = HeartbeatNode.optionsFromHaCf(settings, name, c.authkeys.value);
    if (c.haresources) {
      for (const g of c.haresources.value.groups) {
        const first = g.resources[0];
        if (first) this.groups.set(resourceKey(first), g);
      }
      const { local, foreign } = haresourcesGroups(c.haresources.value, name);
      options.resources = {
        autoFailback: settings.autoFailback,
        localGroups: local,
        foreignGroups: foreign,
      };
    }
    this.seen = {
      node: name,
      nodeStatus: 'init',
      peers: settings.nodes
        .map((n) => n.toLowerCase())
        .filter((n) => n !== name)
        .map((n) => ({ name: n, status: 'init', links: {} })),
      holding: 'none',
      state: 'init',
    };
    this.heartbeat = new HeartbeatThread(options, (a) => this.run(a));
    this.heartbeat.on('status', (peer, status) => {
      const p = this.seen.peers.find((x) => x.name === peer);
      if (p) p.status = status;
      else if (peer === name) this.seen.nodeStatus = status;
      this.say(`node ${peer} ${status}`);
    });
    this.heartbeat.on('link', (peer, medium, status) => {
      const p = this.seen.peers.find((x) => x.name === peer);
      if (p) p.links[medium] = status;
      this.say(`link ${peer} ${medium} ${status}`);
    });
    this.heartbeat.on('error', (message) => this.say(`error ${message}`));
    this.heartbeat.on('change', (holding, state) => {
      this.seen.holding = holding;
      this.seen.state = state;
      this.say(`resources ${holding} (${state})`);
    });
    this.heartbeat.on('warning', (m) => this.say(`warning ${m}`));
  }

  async start(): Promise<void> {
    // The membership shares this thread with everything the resources do: load
    // what they load on first use (koffi's native module, the IPVS family)
    // now, not while a peer is counting our silence against deadtime.
    await this.warmUp();
    await this.checkBroadcast();
    await this.heartbeat.start();
    this.say(`started as ${this.o.node.toLowerCase()}`);
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
        createRequire(import.meta.url)('koffi');
      } catch {
        // the VIP and the checks say so themselves when they need it
      }
    }
    if (kinds.has('ldirectord')) {
      const ipvs = await (this.o.openIpvs ?? (() => Ipvs.open()))().catch(() => undefined);
      ipvs?.close();
    }
  }

  /** What this node believes now (a copy). */
  status(): ClusterStatus {
    return {
      ...this.seen,
      peers: this.seen.peers.map((p) => ({ ...p, links: { ...p.links } })),
      directors: [...this.directors.keys()],
    };
  }

  /** Leaves the cluster: with `graceful`, resources are released first and the peer told (Heartbeat's shutdown). */
  async stop({ graceful = true } = {}): Promise<void> {
    await this.heartbeat.close({ graceful });
    for (const { director, ipvs } of this.directors.values()) {
      await director.stop().catch(() => []);
      ipvs.close();
    }
    this.directors.clear();
  }

  private say(line: string): void {
    this.emit('log', line);
  }

  private async run(a: ResourceAction): Promise<void> {
    // "(none)" as Heartbeat logs it: a node with no group of its own still goes through the step
    this.say(`${a.action} ${a.set} (${a.reason}): ${a.groups.join(' ') || '(none)'}`);
    const groups = a.groups
      .map((k) => this.groups.get(k))
      .filter((g): g is HaResourceGroup => g !== undefined);
    if (a.action === 'acquire') {
      for (const g of groups) for (const r of g.resources) await this.resource(r, 'start');
    } else {
      for (const g of [...groups].reverse())
        for (const r of [...g.resources].reverse()) await this.resource(r, 'stop');
    }
  }

  /** One resource started or stopped; a failure is said, not thrown (the others still run). */
  private async resource(r: HaResource, op: 'start' | 'stop'): Promise<void> {
    const what = r.kind === 'ipaddr' ? `IPaddr ${r.spec}` : [r.name, ...r.args].join('::');
    try {
      if (r.kind === 'ipaddr') {
        // Heartbeat's IPaddr does not ask who else has the address: the peer is dead or gave it up.
        if (op === 'start') {
          // One round of announcements at once, four more in the background
          // while the group's next resources start (IPaddr2's arp_bg).
          const t = await takeOver(r.spec, { probe: false, announce: { count: 1 } });
          this.say(`vip ${r.spec} up on ${t.change.interface}`);
          announce({ address: r.address, interface: t.change.interface, count: 4, intervalMs: 200 }).catch(
            (e: unknown) => this.say(`error announcing ${r.spec}: ${(e as Error).message}`),
          );
        } else {
          const c = await release(r.spec);
          this.say(`vip ${r.spec} down on ${c.interface}`);
        }
      } else if (r.name === 'ldirectord') await this.ldirectord(r.args[0] ?? 'ldirectord.cf', op);
      else await this.script(r.name, r.args, op);
    } catch (e) {
      this.say(`error ${op} ${what}: ${(e as Error).message}`);
    }
  }

  private async ldirectord(file: string, op: 'start' | 'stop'): Promise<void> {
    const running = this.directors.get(file);
    if (op === 'stop') {
      if (!running) return;
      this.directors.delete(file);
      for (const o of await running.director.stop()) this.say(describeOperation(o));
      running.ipvs.close();
      return;
    }
    if (running) return;
    const candidates = isAbsolute(file) ? [file] : ldirectordCandidates(this.o.config.dir, file);
    const path = await firstExisting(candidates);
    if (!path)
      throw new ClusterNodeError('RESOURCE', `ldirectord: ${candidates.join(' or ')} does not exist`);
    const parsed = parseLdirectordCf(await readFile(path, 'utf8'), { file: path });
    const errors = parsed.problems.filter((p) => p.severity === 'error');
    if (errors.length > 0) throw new ClusterNodeError('RESOURCE', errors.map((e) => e.message).join('; '));
    const ipvs = await (this.o.openIpvs ?? (() => Ipvs.open()))();
    const director = new Director({ ipvs });
    director.on('transition', (t) =>
      this.say(
        `${t.virtual} real ${t.real.address}:${t.real.port} ${t.up ? 'up' : `down (${t.result.reason})`}`,
      ),
    );
    director.on('applied', (x) => {
      for (const o of x.operations) this.say(describeOperation(o));
    });
    director.on('error', (e) => this.say(`error ${e.code}: ${e.message}`));
    this.directors.set(file, { director, ipvs });
    await director.start(resolveLdirectordDefaults(parsed.value));
    this.say(`ldirectord ${path} started`);
  }

  /** Heartbeat's way: /etc/ha.d/resource.d/NAME, else /etc/init.d/NAME, with the arguments then start|stop. */
  private async script(name: string, args: string[], op: 'start' | 'stop'): Promise<void> {
    const candidates = [join(this.o.config.dir, 'resource.d', name), join('/etc/init.d', name)];
    const path = await firstExisting(candidates);
    if (!path) throw new ClusterNodeError('RESOURCE', `no script ${candidates.join(' or ')}`);
    await new Promise<void>((resolve, reject) =>
      execFile(path, [...args, op], { timeout: (this.o.scriptTimeout ?? 60) * 1000 }, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    this.say(`${name} ${op}: done`);
  }
}
