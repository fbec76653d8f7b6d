// The seed's network from a declarative description: each host a network
// namespace, each segment a bridge inside one "switch" namespace (so nothing
// is added to the root namespace of the machine or guest), documentation
// addresses only. Real servers come configured for direct routing.
import { capabilitiesSync } from './capabilities.js';
import { LabError } from './errors.js';
import { Guest, type GuestBootOptions } from './guest.js';
import { destroyNetns, Netns } from './netns.js';
import {
  type BackgroundProcess,
  type ExecOptions,
  type ExecResult,
  hostRunner,
  type Runner,
} from './runner.js';
import {
  type ApacheOptions,
  type ApacheServer,
  type HttpServerOptions,
  startApache,
  startHttpServer,
} from './services.js';

export type HostRole = 'client' | 'director' | 'realServer';

export interface HostSpec {
  role: HostRole;
  /** Address (CIDR) per segment name, e.g. { front: '192.0.2.21/24' }. The first segment listed is eth0, the next eth1. */
  addresses: Record<string, string>;
  /** Default gateway (an address on one of its segments). */
  gateway?: string;
}

export interface Topology {
  /** The virtual IP the directors share (not configured on a director at start: bring it up by hand or with lvs-ha). */
  vip: string;
  /** Prefix length of the VIP on a director's interface (the front segment's). */
  vipPrefix: number;
  /** Segment name -> subnet (CIDR). */
  segments: Record<string, string>;
  /** Host name (1-12 characters [a-z0-9]) -> spec. */
  hosts: Record<string, HostSpec>;
}

/**
 * The seed's network: a client, two directors (load1, load2) and two real
 * servers (rs1, rs2) on one segment for the VIP side (192.0.2.0/24, direct
 * routing), and a back-end segment (198.51.100.0/24) between directors and
 * real servers. VIP 192.0.2.50.
 */
export const seedTopology: Topology = {
  vip: '192.0.2.50',
  vipPrefix: 24,
  segments: { front: '192.0.2.0/24', back: '198.51.100.0/24' },
  hosts: {
    client: { role: 'client', addresses: { front: '192.0.2.10/24' } },
    load1: { role: 'director', addresses: { front: '192.0.2.2/24', back: '198.51.100.2/24' } },
    load2: { role: 'director', addresses: { front: '192.0.2.3/24', back: '198.51.100.3/24' } },
    rs1: { role: 'realServer', addresses: { front: '192.0.2.21/24', back: '198.51.100.21/24' } },
    rs2: { role: 'realServer', addresses: { front: '192.0.2.22/24', back: '198.51.100.22/24' } },
  },
};

/**
 * The seed topology with `realServers` real servers (rs1, rs2, rs3...; from
 * 192.0.2.21 and 198.51.100.21 up) and, optionally, more clients.
 */
export function seedTopologyWith(o: { realServers?: number; clients?: number } = {}): Topology {
  const realServers = o.realServers ?? 2;
  const clients = o.clients ?? 1;
  if (!Number.isInteger(realServers) || realServers < 1 || realServers > 50) {
    throw new LabError('INVALID_ARGUMENT', `realServers must be 1-50, got ${realServers}`);
  }
  if (!Number.isInteger(clients) || clients < 1 || clients > 10) {
    throw new LabError('INVALID_ARGUMENT', `clients must be 1-10, got ${clients}`);
  }
  const hosts: Record<string, HostSpec> = {};
  for (let i = 1; i <= clients; i++) {
    hosts[i === 1 ? 'client' : `client${i}`] = {
      role: 'client',
      addresses: { front: `192.0.2.${9 + i}/24` },
    };
  }
  hosts.load1 = seedTopology.hosts.load1!;
  hosts.load2 = seedTopology.hosts.load2!;
  for (let i = 1; i <= realServers; i++) {
    hosts[`rs${i}`] = {
      role: 'realServer',
      addresses: { front: `192.0.2.${20 + i}/24`, back: `198.51.100.${20 + i}/24` },
    };
  }
  return { ...seedTopology, hosts };
}

/** One address family's view of `ip -j addr`. */
export interface InterfaceInfo {
  ifname: string;
  mac: string;
  up: boolean;
  addresses: string[];
}

export interface NeighbourEntry {
  address: string;
  dev: string;
  mac?: string;
  state: string[];
}

export interface FetchResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface FetchOptions {
  /** Per request (default 5 s). */
  timeoutMs?: number;
}

/** Splits one HTTP/1.x response (head + body) as curl -i prints it. Pure. */
export function parseHttpResponse(text: string): FetchResult {
  const sep = text.indexOf('\r\n\r\n');
  if (sep < 0 || !text.startsWith('HTTP/')) {
    throw new LabError('COMMAND_FAILED', `not an HTTP response: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const [statusLine, ...lines] = text.slice(0, sep).split('\r\n');
  const status = Number(statusLine!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers, body: text.slice(sep + 4) };
}

/** Segment name -> interface name inside the host: the first segment listed is eth0, the next eth1... */
function interfacesOf(spec: HostSpec): Record<string, string> {
  const out: Record<string, string> = {};
  Object.keys(spec.addresses).forEach((seg, i) => {
    out[seg] = `eth${i}`;
  });
  return out;
}

/**
 * The shell script that builds a topology once its namespaces exist: a
 * bridge per segment in the switch namespace, a veth pair per host and
 * segment (eth<i> in the host, <host>-<i> on the bridge), addresses, default
 * routes, direct-routing set-up on real servers, forwarding on directors.
 * Pure; `nsNames` maps host names to namespace names.
 */
export function topologyScript(t: Topology, switchNs: string, nsNames: Record<string, string>): string {
  // Grouped into one `ip -batch` per namespace: each process start is slow inside a TCG guest.
  const root: string[] = [];
  const sw: string[] = [];
  const perHost: string[] = [];
  for (const seg of Object.keys(t.segments)) {
    // No STP and no forwarding delay: a test's segment passes frames at once.
    sw.push(`link add name br-${seg} type bridge forward_delay 0 stp_state 0`, `link set br-${seg} up`);
  }
  for (const [name, spec] of Object.entries(t.hosts)) {
    const ns = nsNames[name];
    if (!ns) throw new LabError('INVALID_ARGUMENT', `no namespace for host ${name}`);
    const inHost: string[] = [];
    Object.entries(spec.addresses).forEach(([seg, addr], i) => {
      const port = `${name}-${i}`;
      root.push(`link add name eth${i} netns ${ns} type veth peer name ${port} netns ${switchNs}`);
      sw.push(`link set ${port} master br-${seg} up`);
      // with its broadcast address, as ifupdown gives it: Heartbeat's bcast
      // sends to the interface's broadcast address (0.0.0.0 without one)
      inHost.push(`link set eth${i} up`, `addr add ${addr}${addr.includes(':') ? '' : ' brd +'} dev eth${i}`);
    });
    if (spec.gateway) inHost.push(`route add default via ${spec.gateway}`);
    const sysctls: string[] = [];
    if (spec.role === 'realServer') {
      // Direct routing: the real server holds the VIP on lo but must not answer ARP for it.
      inHost.push(`addr add ${t.vip}/32 dev lo`);
      for (const scope of ['all', ...Object.values(interfacesOf(spec))]) {
        sysctls.push(`net.ipv4.conf.${scope}.arp_ignore=1`, `net.ipv4.conf.${scope}.arp_announce=2`);
      }
    }
    if (spec.role === 'director') sysctls.push('net.ipv4.ip_forward=1');
    perHost.push(`ip -n ${ns} -batch - <<'EOF'\n${inHost.join('\n')}\nEOF`);
    if (sysctls.length > 0) perHost.push(`ip netns exec ${ns} sysctl -q -w ${sysctls.join(' ')}`);
  }
  return [
    'set -e',
    `ip -batch - <<'EOF'\n${root.join('\n')}\nEOF`,
    `ip -n ${switchNs} -batch - <<'EOF'\n${sw.join('\n')}\nEOF`,
    ...perHost,
    '',
  ].join('\n');
}

const MARK = '\n--lvsha-lab-end--\n';

/** A host of the lab: its namespace plus what tests ask of hosts. */
export class LabHost {
  readonly name: string;
  readonly spec: HostSpec;
  readonly ns: Netns;
  /** Segment name -> interface name inside the host (eth0, eth1...). */
  readonly interfaces: Record<string, string>;
  readonly #lab: Lab;

  constructor(lab: Lab, name: string, spec: HostSpec, ns: Netns, interfaces: Record<string, string>) {
    this.#lab = lab;
    this.name = name;
    this.spec = spec;
    this.ns = ns;
    this.interfaces = interfaces;
  }

  /** The host's address (without prefix) on a segment (default: its first). */
  address(segment?: string): string {
    const seg = segment ?? Object.keys(this.spec.addresses)[0]!;
    const a = this.spec.addresses[seg];
    if (!a) throw new LabError('INVALID_ARGUMENT', `${this.name} has no address on segment ${seg}`);
    return a.split('/')[0]!;
  }

  /** The interface name on a segment (default: the first, eth0). */
  iface(segment?: string): string {
    const seg = segment ?? Object.keys(this.interfaces)[0]!;
    const i = this.interfaces[seg];
    if (!i) throw new LabError('INVALID_ARGUMENT', `${this.name} is not on segment ${seg}`);
    return i;
  }

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.ns.exec(argv, opts);
  }

  sh(script: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.ns.sh(script, opts);
  }

  start(
    argv: readonly string[],
    opts?: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'>,
  ): Promise<BackgroundProcess> {
    return this.ns.start(argv, opts);
  }

  /** An HTTP GET from inside this host (curl in the namespace; no proxy, a new connection). */
  async fetch(url: string, opts: FetchOptions = {}): Promise<FetchResult> {
    const [r] = await this.fetchMany(url, 1, opts);
    return r!;
  }

  /**
   * `count` HTTP GETs, one after the other, each on a new TCP connection (so
   * IPVS schedules each one), in a single curl run. A failed request throws.
   */
  async fetchMany(url: string, count: number, opts: FetchOptions = {}): Promise<FetchResult[]> {
    const seconds = String((opts.timeoutMs ?? 5000) / 1000);
    const argv = ['curl', '-sS', '-i', '--noproxy', '*', '-H', 'Connection: close', '--max-time', seconds];
    for (let i = 0; i < count; i++) {
      if (i > 0)
        argv.push('--next', '-sS', '-i', '--noproxy', '*', '-H', 'Connection: close', '--max-time', seconds);
      argv.push('-w', MARK, url);
    }
    const r = await this.exec(argv, { timeoutMs: (opts.timeoutMs ?? 5000) * count + 10_000 });
    if (r.code !== 0) {
      throw new LabError(
        'COMMAND_FAILED',
        `GET ${url} from ${this.name} failed (curl exit ${r.code}): ${r.stderr.trim()}`,
      );
    }
    const parts = r.stdout.split(MARK).slice(0, count);
    return parts.map(parseHttpResponse);
  }

  /** `ip -j addr`: interfaces with their MAC, state and addresses (CIDR). */
  async interfacesInfo(): Promise<InterfaceInfo[]> {
    const r = await this.exec(['ip', '-j', 'addr', 'show'], { check: true });
    const list = JSON.parse(r.stdout) as {
      ifname: string;
      address?: string;
      flags: string[];
      addr_info?: { local: string; prefixlen: number }[];
    }[];
    return list.map((i) => ({
      ifname: i.ifname,
      mac: i.address ?? '',
      up: i.flags.includes('UP'),
      addresses: (i.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`),
    }));
  }

  /** The MAC address of an interface (default: eth0). */
  async mac(ifname = this.iface()): Promise<string> {
    const info = (await this.interfacesInfo()).find((i) => i.ifname === ifname);
    if (!info) throw new LabError('INVALID_ARGUMENT', `${this.name} has no interface ${ifname}`);
    return info.mac;
  }

  /** `ip addr` as text, for people. */
  async ipAddr(): Promise<string> {
    return (await this.exec(['ip', '-br', 'addr', 'show'], { check: true })).stdout;
  }

  /** The neighbour (ARP) cache. */
  async arpCache(): Promise<NeighbourEntry[]> {
    const r = await this.exec(['ip', '-4', '-j', 'neigh', 'show'], { check: true });
    const list = JSON.parse(r.stdout || '[]') as {
      dst: string;
      dev: string;
      lladdr?: string;
      state?: string[];
    }[];
    return list.map((n) => ({ address: n.dst, dev: n.dev, mac: n.lladdr, state: n.state ?? [] }));
  }

  /** /proc/net/ip_vs of this host (empty string when its kernel has no IPVS). */
  async ipvsTable(): Promise<string> {
    const r = await this.exec(['cat', '/proc/net/ip_vs']);
    return r.code === 0 ? r.stdout : '';
  }

  /** `ipvsadm` with arguments, checked. */
  async ipvsadm(args: readonly string[]): Promise<string> {
    return (await this.exec(['ipvsadm', ...args], { check: true })).stdout;
  }

  /** Adds the VIP to this host's front interface and announces it with gratuitous ARP. */
  async addVip(vip = this.#lab.topology.vip, prefix = this.#lab.topology.vipPrefix): Promise<void> {
    await this.ns.addAddress(this.iface(), `${vip}/${prefix}`);
    await this.announce(vip);
  }

  /** Removes the VIP from this host's front interface. */
  async delVip(vip = this.#lab.topology.vip, prefix = this.#lab.topology.vipPrefix): Promise<void> {
    await this.ns.delAddress(this.iface(), `${vip}/${prefix}`);
  }

  /** Sends unsolicited (gratuitous) ARP for an address this host holds; two, a second apart by default. */
  async announce(address: string, count = 2, ifname = this.iface()): Promise<void> {
    await this.exec(['busybox', 'arping', '-U', '-c', String(count), '-I', ifname, '-s', address, address], {
      check: true,
    });
  }

  /** Starts the lab's minimal Node HTTP server here (body: the host name), waiting until it listens. */
  serveHttp(opts: Partial<HttpServerOptions> = {}): Promise<BackgroundProcess> {
    return startHttpServer(this.ns, { label: this.name, ...opts });
  }

  /**
   * Starts Debian's Apache here with mod_status, listening on this host's
   * addresses (and the VIP when it is a real server), body of /: the host name.
   */
  startApache(opts: Partial<ApacheOptions> = {}): Promise<ApacheServer> {
    const listen = Object.keys(this.spec.addresses).map((seg) => this.address(seg));
    if (this.spec.role === 'realServer') listen.push(this.#lab.topology.vip);
    return startApache(this.ns, { listen, serverName: this.name, ...opts });
  }

  /** Kills every process in this host (SIGKILL by default); returns how many. */
  killAll(signal: 'KILL' | 'TERM' = 'KILL'): Promise<number> {
    return this.ns.killAll(signal);
  }
}

export interface LabStartOptions {
  /** Where to build it: this machine (default) or a booted Guest. */
  runner?: Runner;
  /**
   * The lab needs kernel IPVS: on a machine whose kernel has it, build on the
   * machine; otherwise boot a guest (owned by the lab, shut down by stop()).
   */
  ipvs?: boolean;
  /** Options for the guest booted for `ipvs: true`. */
  guest?: GuestBootOptions;
}

export class Lab {
  readonly topology: Topology;
  readonly runner: Runner;
  /** The switch namespace holding one bridge per segment (br-<segment>). */
  readonly switch: Netns;
  readonly #hosts: Map<string, LabHost>;
  readonly #ownedGuest: Guest | undefined;
  #stopped = false;

  private constructor(
    topology: Topology,
    runner: Runner,
    sw: Netns,
    hosts: Map<string, LabHost>,
    ownedGuest: Guest | undefined,
  ) {
    this.topology = topology;
    this.runner = runner;
    this.switch = sw;
    this.#hosts = hosts;
    this.#ownedGuest = ownedGuest;
  }

  /** Validates a topology (names, addresses in the documentation ranges, segments known). Throws LabError. */
  static validate(t: Topology): void {
    const doc = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}(\/\d{1,2})?$/;
    const bad = (why: string) => new LabError('INVALID_ARGUMENT', `topology: ${why}`);
    if (!doc.test(t.vip)) throw bad(`VIP ${t.vip} is not in a documentation range`);
    for (const [seg, subnet] of Object.entries(t.segments)) {
      if (!/^[a-z][a-z0-9]{0,9}$/.test(seg))
        throw bad(`segment name "${seg}" must be 1-10 characters [a-z0-9]`);
      if (!doc.test(subnet)) throw bad(`segment ${seg} subnet ${subnet} is not in a documentation range`);
    }
    for (const [name, spec] of Object.entries(t.hosts)) {
      if (!/^[a-z][a-z0-9]{0,11}$/.test(name))
        throw bad(`host name "${name}" must be 1-12 characters [a-z0-9]`);
      const segs = Object.keys(spec.addresses);
      if (segs.length > 9) throw bad(`host ${name} is on more than 9 segments`);
      for (const [seg, addr] of Object.entries(spec.addresses)) {
        if (!(seg in t.segments)) throw bad(`host ${name} is on unknown segment ${seg}`);
        if (!doc.test(addr) || !addr.includes('/')) {
          throw bad(`host ${name} address ${addr} must be a CIDR in a documentation range`);
        }
      }
      if (spec.gateway !== undefined && !doc.test(spec.gateway)) {
        throw bad(`host ${name} gateway ${spec.gateway} is not in a documentation range`);
      }
    }
  }

  /**
   * Builds the topology: namespaces, veth pairs into per-segment bridges,
   * addresses, routes, direct-routing set-up on real servers (VIP on lo,
   * arp_ignore=1, arp_announce=2) and IP forwarding on directors. On any
   * failure everything built so far is torn down.
   */
  static async start(topology: Topology, opts: LabStartOptions = {}): Promise<Lab> {
    Lab.validate(topology);
    let runner = opts.runner;
    let owned: Guest | undefined;
    if (!runner) {
      if (opts.ipvs && !capabilitiesSync().hostIpvs) {
        owned = await Guest.boot(opts.guest);
        runner = owned;
      } else {
        runner = hostRunner;
      }
    }
    const names = ['sw', ...Object.keys(topology.hosts)];
    const created = await Netns.createMany(names, { runner });
    try {
      const [sw, ...hostNs] = created;
      const nsNames: Record<string, string> = {};
      Object.keys(topology.hosts).forEach((h, i) => {
        nsNames[h] = hostNs[i]!.name;
      });
      // One script for the whole build: every command inside a TCG guest costs a process start.
      await runner.exec(['sh', '-c', topologyScript(topology, sw!.name, nsNames)], {
        check: true,
        timeoutMs: 120_000,
      });
      const hosts = new Map<string, LabHost>();
      const lab: Lab = new Lab(topology, runner, sw!, hosts, owned);
      Object.entries(topology.hosts).forEach(([name, spec], i) => {
        hosts.set(name, new LabHost(lab, name, spec, hostNs[i]!, interfacesOf(spec)));
      });
      return lab;
    } catch (e) {
      await destroyNetns(created);
      await owned?.shutdown();
      throw e;
    }
  }

  /** The guest the lab runs in, when it booted one (ipvs: true on a machine without IPVS). */
  get guest(): Guest | undefined {
    return this.#ownedGuest ?? (this.runner instanceof Guest ? this.runner : undefined);
  }

  host(name: string): LabHost {
    const h = this.#hosts.get(name);
    if (!h) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `no host "${name}" in the lab (hosts: ${[...this.#hosts.keys()].join(', ')})`,
      );
    }
    return h;
  }

  get hosts(): LabHost[] {
    return [...this.#hosts.values()];
  }

  #port(host: string, segment?: string): string {
    const h = this.host(host);
    const seg = segment ?? Object.keys(h.interfaces)[0]!;
    const i = Object.keys(h.interfaces).indexOf(seg);
    if (i < 0) throw new LabError('INVALID_ARGUMENT', `${host} is not on segment ${seg}`);
    return `${host}-${i}`;
  }

  /** Cuts a host's link to a segment (its switch port goes down; the host sees carrier loss). */
  async cut(host: string, segment?: string): Promise<void> {
    await this.switch.linkDown(this.#port(host, segment));
  }

  /** Restores a link cut with cut(). */
  async restore(host: string, segment?: string): Promise<void> {
    await this.switch.linkUp(this.#port(host, segment));
  }

  /**
   * Adds loss (percent) and/or delay (ms) with tc netem on a host's link, in
   * both directions (the host's interface and its switch port). Call with {} to clear.
   */
  async netem(host: string, o: { lossPercent?: number; delayMs?: number }, segment?: string): Promise<void> {
    const h = this.host(host);
    const seg = segment ?? Object.keys(h.interfaces)[0]!;
    const args: string[] = [];
    if (o.delayMs) args.push('delay', `${o.delayMs}ms`);
    if (o.lossPercent) args.push('loss', `${o.lossPercent}%`);
    const pairs: [Netns, string][] = [
      [h.ns, h.iface(seg)],
      [this.switch, this.#port(host, seg)],
    ];
    for (const [ns, dev] of pairs) {
      if (args.length === 0) await ns.exec(['tc', 'qdisc', 'del', 'dev', dev, 'root']);
      else await ns.exec(['tc', 'qdisc', 'replace', 'dev', dev, 'root', 'netem', ...args], { check: true });
    }
  }

  /** Destroys every namespace (killing their processes) and shuts down a guest the lab booted. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await destroyNetns([...[...this.#hosts.values()].map((h) => h.ns), this.switch]);
    await this.#ownedGuest?.shutdown();
  }
}
