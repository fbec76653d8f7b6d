// The sockets around Membership: UDP media as ha.cf names them (bcast,
// ucast, mcast), authentication on every packet in and out, and the timers.
//
// Heartbeat binds its sockets to the device (SO_BINDTODEVICE); Node's dgram
// cannot. We get the same traffic this way:
//   bcast IFACE       receive on a socket bound to IFACE's broadcast address
//                     (only broadcasts to that segment arrive), send from a
//                     socket bound to IFACE's address to the broadcast address;
//   ucast IFACE PEER  receive on IFACE's address, send to PEER;
//   mcast IFACE G P T L  receive on G:P joined on IFACE's address, send with
//                     IFACE as the multicast interface, TTL T, loop L.
// What differs: a packet for the same address arriving on another device
// (possible only with odd routing) is accepted, and the interface must have
// its IPv4 address when the node starts.
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { Authkeys, HaCfSettings, HaMedium } from '@lvs-ha/ha-config';
import { Authenticator, type Keyring } from './auth.js';
import { HbProtoError } from './errors.js';
import {
  Membership,
  type MembershipCounters,
  type MembershipEvents,
  type MembershipOptions,
  type NodeStatus,
} from './membership.js';
import type { HbMessage } from './message.js';
import { encodePacket, openPacket } from './packet.js';
import { type AutoFailback, type ResourceAction, ResourceManager } from './resources.js';

/**
 * A medium as ha.cf names it. `address` overrides the interface's first IPv4
 * address as our end (e.g. two nodes on 127.0.0.2 and 127.0.0.3 over lo).
 */
export type NodeMedium =
  | { type: 'bcast'; interface: string; port?: number; address?: string }
  | { type: 'ucast'; interface: string; peer: string; port?: number; address?: string }
  | {
      type: 'mcast';
      interface: string;
      group: string;
      port?: number;
      ttl?: number;
      loop?: boolean;
      address?: string;
    }
  | { type: 'ucast6'; interface: string; peer: string; port?: number; address?: string }
  | { type: 'mcast6'; interface: string; group: string; port?: number; hops?: number; loop?: boolean };

const SUPPORTED_MEDIA = new Set(['bcast', 'ucast', 'mcast', 'ucast6', 'mcast6']);

export interface HeartbeatNodeOptions extends Omit<MembershipOptions, 'media'> {
  media: readonly (NodeMedium | HaMedium)[];
  /** keys: a Keyring, or authkeys as ha-config parses them */
  auth: Keyring | Pick<Authkeys, 'auth' | 'keys'>;
  /**
   * Drops this share (0–1) of the packets we receive or send, as a lossy
   * network would (for tests and demonstrations of retransmission).
   */
  simulateLoss?: { receive?: number; send?: number; random?: () => number };
  /** haresources hand-over (two nodes): groups and auto_failback; omit to only track membership */
  resources?: {
    autoFailback: AutoFailback;
    localGroups: readonly string[];
    foreignGroups: readonly string[];
    /** runs an action's scripts (default: nothing to run, done at once) */
    run?: (action: ResourceAction) => Promise<void> | void;
  };
}

/**
 * What a node has sent and heard, for monitoring: Heartbeat's own counters
 * (the membership's and the authentication's) and the packets on the wire.
 * A plain object, so it crosses a thread as it is.
 */
export interface HeartbeatStats {
  node: string;
  status: NodeStatus;
  /** Datagrams sent, one per message and medium (keepalives, retransmissions, hand-over messages). */
  packetsSent: number;
  bytesSent: number;
  /** Datagrams the sockets failed to send. */
  sendErrors: number;
  /** Datagrams received, before authentication (what the sockets read). */
  packetsReceived: number;
  bytesReceived: number;
  /** Datagrams refused before the membership saw them, by HbProtoError code (AUTH_FAILED, AUTH_MISSING, AUTH_UNKNOWN_KEY, MALFORMED…). */
  rejected: Record<string, number>;
  membership: MembershipCounters;
  /** Status changes of each node (us included) since the node started. */
  transitions: Record<string, number>;
  peers: {
    name: string;
    status: NodeStatus;
    /** Wall-clock time (ms since 1970) its last status message was accepted; undefined before it was heard. */
    lastHeard: number | undefined;
    links: { medium: string; status: string; lastHeard: number | undefined }[];
  }[];
  /** Date.now() when the figures were taken. */
  at: number;
}

export interface NodeEvents extends MembershipEvents {
  /** a packet failed authentication or decoding (it is counted and ignored) */
  rejected: [error: HbProtoError, from: string];
  error: [error: Error];
}

interface OpenMedium {
  name: string;
  medium: NodeMedium;
  rx: Socket;
  tx: Socket;
  dest: { address: string; port: number };
}

/** The interface's IPv6 address: a global one if any, else the link-local one with its scope. */
function ipv6Of(ifname: string): string {
  const list = (networkInterfaces()[ifname] ?? []).filter((a) => a.family === 'IPv6');
  const global = list.find((a) => !a.address.toLowerCase().startsWith('fe80'));
  if (global) return global.address;
  const local = list[0];
  if (!local)
    throw new HbProtoError(
      'TRANSPORT',
      `interface ${ifname} has no IPv6 address (is it up, and in this namespace?)`,
    );
  return `${local.address}%${ifname}`;
}

function ipv4Of(ifname: string): { address: string; broadcast: string } {
  const list = networkInterfaces()[ifname];
  const v4 = list?.find((a) => a.family === 'IPv4');
  if (!v4)
    throw new HbProtoError(
      'TRANSPORT',
      `interface ${ifname} has no IPv4 address (is it up, and in this namespace?)`,
    );
  const a = v4.address.split('.').map(Number);
  const m = v4.netmask.split('.').map(Number);
  const broadcast = a.map((x, i) => (x | (~(m[i] as number) & 255)) & 255).join('.');
  return { address: v4.address, broadcast };
}

let loadCache = { at: 0, value: '' };

/** The "ld" field as Heartbeat fills it: /proc/loadavg without its newline (read at most once a second). */
function procLoadavg(): string {
  const now = Date.now();
  if (now - loadCache.at > 1000) {
    let value = '';
    try {
      value = readFileSync('/proc/loadavg', 'latin1').trim();
    } catch {
      value = `0.00 0.00 0.00 1/1 ${process.pid}`;
    }
    loadCache = { at: now, value };
  }
  return loadCache.value;
}

export function mediumName(m: NodeMedium | HaMedium): string {
  switch (m.type) {
    case 'bcast':
      return `bcast ${m.interface}`;
    case 'ucast':
      return `ucast ${m.interface} ${m.peer}`;
    case 'mcast':
      return `mcast ${m.interface} ${m.group}`;
    case 'ucast6':
      return `ucast6 ${m.interface} ${m.peer}`;
    case 'mcast6':
      return `mcast6 ${m.interface} ${m.group}`;
    default:
      return `${m.type} ${'interface' in m ? m.interface : ''}`;
  }
}

/** A Heartbeat cluster node on real UDP sockets. */

/** Binds a datagram socket, rejecting on the bind's own error (EADDRINUSE, EADDRNOTAVAIL...). */
function bindSocket(s: Socket, address: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve();
    });
  });
}
export class HeartbeatNode extends EventEmitter<NodeEvents> {
  readonly membership: Membership;
  readonly auth: Authenticator;
  /** the haresources hand-over, when options.resources was given */
  readonly resources: ResourceManager | undefined;
  readonly #media: NodeMedium[];
  #open: OpenMedium[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #start = performance.now();
  readonly #loss: { receive: number; send: number; random: () => number };
  readonly #wire = { packetsSent: 0, bytesSent: 0, sendErrors: 0, packetsReceived: 0, bytesReceived: 0 };
  readonly #rejected: Record<string, number> = {};
  readonly #transitions: Record<string, number> = {};

  constructor(opts: HeartbeatNodeOptions) {
    super();
    this.#media = opts.media.map((m): NodeMedium => {
      if (SUPPORTED_MEDIA.has(m.type)) return m as NodeMedium;
      throw new HbProtoError(
        'UNSUPPORTED',
        `medium ${m.type} is not supported (bcast, ucast, mcast, ucast6 and mcast6 are)`,
      );
    });
    if (this.#media.length === 0)
      throw new HbProtoError('INVALID_ARGUMENT', 'a node needs at least one medium');
    this.auth = new Authenticator(opts.auth);
    this.#loss = {
      receive: opts.simulateLoss?.receive ?? 0,
      send: opts.simulateLoss?.send ?? 0,
      random: opts.simulateLoss?.random ?? Math.random,
    };
    this.membership = new Membership({ load: procLoadavg, ...opts, media: this.#media.map(mediumName) });
    for (const ev of ['status', 'link', 'late', 'message', 'dropped', 'partition', 'restart'] as const) {
      this.membership.on(ev, (...args: unknown[]) =>
        (this.emit as (e: string, ...a: unknown[]) => boolean)(ev, ...args),
      );
    }
    this.membership.on('status', (name) => {
      this.#transitions[name] = (this.#transitions[name] ?? 0) + 1;
    });
    const r = opts.resources;
    if (r) {
      const rm = new ResourceManager({
        membership: this.membership,
        autoFailback: r.autoFailback,
        localGroups: r.localGroups,
        foreignGroups: r.foreignGroups,
        now: () => this.now(),
        transmit: (pairs, to) => this.send(pairs, to),
      });
      const run = r.run ?? (() => undefined);
      rm.on('action', (a) => {
        // scripts run outside the protocol step; done() continues the protocol
        void Promise.resolve()
          .then(() => run(a))
          .catch((e: unknown) => this.emit('error', e instanceof Error ? e : new Error(String(e))))
          .then(() => {
            if (!this.#closed) rm.done(a.id);
          });
      });
      this.resources = rm;
    } else {
      this.resources = undefined;
    }
  }

  /** Options from ha.cf settings (ha-config's parseHaCf(...).value.settings) and our node name. */
  static optionsFromHaCf(
    settings: HaCfSettings,
    node: string,
    auth: HeartbeatNodeOptions['auth'],
  ): HeartbeatNodeOptions {
    return {
      node,
      nodes: settings.nodes,
      keepaliveMs: settings.keepaliveMs,
      deadtimeMs: settings.deadtimeMs,
      ...(settings.warntimeMs !== undefined ? { warntimeMs: settings.warntimeMs } : {}),
      ...(settings.initdeadMs !== undefined ? { initdeadMs: settings.initdeadMs } : {}),
      media: settings.media.filter((m) => SUPPORTED_MEDIA.has(m.type)),
      auth,
    };
  }

  /** milliseconds since the node was created (the membership clock) */
  now(): number {
    return performance.now() - this.#start;
  }

  statusOf(name: string): NodeStatus | undefined {
    return this.membership.statusOf(name);
  }

  /** The counters now (a copy). */
  stats(): HeartbeatStats {
    const at = Date.now();
    const now = this.now();
    // membership times are on its clock; heard-before-start (lastHeardAt set by start()) is not hearing
    const wall = (t: number, heard: boolean) => (heard ? Math.round(at - (now - t)) : undefined);
    return {
      node: this.membership.node,
      status: this.membership.statusOf(this.membership.node) ?? 'init',
      ...this.#wire,
      rejected: { ...this.#rejected },
      membership: { ...this.membership.counters },
      transitions: { ...this.#transitions },
      peers: this.membership.peers().map((p) => ({
        name: p.name,
        status: p.status,
        lastHeard: wall(p.lastHeardAt, p.heardFrom),
        links: [...p.links].map(([medium, l]) => ({
          medium,
          status: l.status,
          lastHeard: wall(l.lastHeardAt, l.status === 'up'),
        })),
      })),
      at,
    };
  }

  async start(): Promise<void> {
    for (const medium of this.#media) this.#open.push(await this.#openMedium(medium));
    this.#sendAll(this.membership.start(this.now()));
    this.#schedule();
  }

  /** Sends an application message (string fields) to every node or to one. */
  send(pairs: readonly (readonly [string, string])[], to?: string): void {
    this.#sendAll(this.membership.send(pairs, this.now(), to));
    this.#schedule();
  }

  /**
   * Stops. `graceful` sends Heartbeat's "shutdone" first so peers mark us dead
   * at once; otherwise we fall silent as a crashed node does. A graceful close
   * of a node with resources releases them first and waits for the release
   * however long it takes (`timeoutMs`, default no limit): telling the peer
   * we are gone while a resource may still be up here would put it on both.
   */
  async close({ graceful = false, timeoutMs = Number.POSITIVE_INFINITY } = {}): Promise<void> {
    if (this.#closed) return;
    if (graceful && this.resources) {
      // release everything first; the manager sends "shutdone" when done
      const rm = this.resources;
      rm.shutdown();
      for (const until = Date.now() + timeoutMs; rm.pendingActions > 0 && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (rm.pendingActions > 0) {
        // the release did not finish: fall silent rather than say it did
        await this.#closeSockets();
        return;
      }
      this.#sendAll(this.membership.stop(this.now(), { shutdone: false }));
      await new Promise((r) => setTimeout(r, 20));
    } else if (graceful) {
      this.#sendAll(this.membership.stop(this.now()));
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.#closeSockets();
  }

  /**
   * Leaves at once with Heartbeat's "shutdone", without running a release:
   * for a node whose resources were already taken down outside the
   * hand-over (a fail-stop), so the peer takes over now instead of after
   * deadtime.
   */
  async leave(): Promise<void> {
    if (this.#closed) return;
    this.#sendAll(this.membership.stop(this.now()));
    await new Promise((r) => setTimeout(r, 20));
    await this.#closeSockets();
  }

  async #closeSockets(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await Promise.all(
      this.#open.flatMap((o) => [o.rx, o.tx]).map((s) => new Promise<void>((r) => s.close(() => r()))),
    );
    this.#open = [];
  }

  async #openMedium(medium: NodeMedium): Promise<OpenMedium> {
    if (medium.type === 'ucast6' || medium.type === 'mcast6') return this.#openMedium6(medium);
    const port = medium.port ?? 694;
    const info =
      medium.address === undefined || medium.type === 'bcast' ? ipv4Of(medium.interface) : undefined;
    const address = medium.address ?? (info?.address as string);
    const broadcast = info?.broadcast ?? address;
    const name = mediumName(medium);
    const rx = createSocket({ type: 'udp4', reuseAddr: true });
    const tx = createSocket({ type: 'udp4', reuseAddr: true });
    let dest: { address: string; port: number };
    if (medium.type === 'bcast') {
      await bindSocket(rx, broadcast, port);
      await bindSocket(tx, address, 0);
      tx.setBroadcast(true);
      dest = { address: broadcast, port };
    } else if (medium.type === 'ucast') {
      await bindSocket(rx, address, port);
      await bindSocket(tx, address, 0);
      dest = { address: medium.peer, port };
    } else {
      await bindSocket(rx, medium.group, port);
      rx.addMembership(medium.group, address);
      await bindSocket(tx, address, 0);
      tx.setMulticastInterface(address);
      tx.setMulticastTTL(medium.ttl ?? 1);
      tx.setMulticastLoopback(medium.loop ?? false);
      dest = { address: medium.group, port };
    }
    rx.on('message', (bytes, rinfo) => this.#onPacket(bytes, name, `${rinfo.address}:${rinfo.port}`));
    for (const s of [rx, tx]) s.on('error', (e) => this.emit('error', e));
    return { name, medium, rx, tx, dest };
  }

  async #openMedium6(medium: Extract<NodeMedium, { type: 'ucast6' | 'mcast6' }>): Promise<OpenMedium> {
    const port = medium.port ?? 694;
    const name = mediumName(medium);
    const rx = createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: true });
    const tx = createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: true });
    let dest: { address: string; port: number };
    if (medium.type === 'ucast6') {
      const address = medium.address ?? ipv6Of(medium.interface);
      await bindSocket(rx, address, port);
      await bindSocket(tx, address, 0);
      dest = { address: medium.peer, port };
    } else {
      // as Heartbeat's mcast6: [::]:port with the group joined on the interface
      const scope = `::%${medium.interface}`;
      await bindSocket(rx, '::', port);
      rx.addMembership(medium.group, scope);
      await bindSocket(tx, '::', 0);
      tx.setMulticastInterface(scope);
      tx.setMulticastTTL(medium.hops ?? 1);
      tx.setMulticastLoopback(medium.loop ?? false);
      // a link-local group (scope nibble 2: ff02::, ff12::…) needs the interface as its zone
      const linkLocal = /^ff[0-9a-f]2:/i.test(medium.group);
      dest = { address: linkLocal ? `${medium.group}%${medium.interface}` : medium.group, port };
    }
    rx.on('message', (bytes, rinfo) => this.#onPacket(bytes, name, `[${rinfo.address}]:${rinfo.port}`));
    for (const s of [rx, tx]) s.on('error', (e) => this.emit('error', e));
    return { name, medium, rx, tx, dest };
  }

  #onPacket(bytes: Buffer, medium: string, from: string): void {
    if (this.#closed) return;
    if (this.#loss.receive > 0 && this.#loss.random() < this.#loss.receive) return;
    this.#wire.packetsReceived++;
    this.#wire.bytesReceived += bytes.length;
    let msg: HbMessage;
    try {
      msg = openPacket(bytes, this.auth).message;
    } catch (e) {
      if (e instanceof HbProtoError) {
        this.#rejected[e.code] = (this.#rejected[e.code] ?? 0) + 1;
        this.emit('rejected', e, from);
        return;
      }
      throw e;
    }
    this.#sendAll(this.membership.receive(msg, medium, this.now()));
    this.#schedule();
  }

  #sendAll(msgs: HbMessage[]): void {
    if (this.#closed) return;
    for (const msg of msgs) {
      const bytes = encodePacket(msg, { auth: this.auth });
      for (const o of this.#open) {
        if (this.#loss.send > 0 && this.#loss.random() < this.#loss.send) continue;
        this.#wire.packetsSent++;
        this.#wire.bytesSent += bytes.length;
        o.tx.send(bytes, o.dest.port, o.dest.address, (err) => {
          if (err) {
            this.#wire.sendErrors++;
            this.emit('error', err);
          }
        });
      }
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const deadline = Math.min(
      this.membership.nextDeadline(),
      this.resources?.nextDeadline() ?? Number.POSITIVE_INFINITY,
    );
    const delay = Math.max(1, deadline - this.now());
    this.#timer = setTimeout(() => {
      // setImmediate runs after the poll phase: packets already waiting in the
      // sockets (say after the process was stalled) count before a deadline does
      setImmediate(() => {
        if (this.#closed) return;
        this.#sendAll(this.membership.tick(this.now()));
        this.resources?.tick(this.now());
        this.#schedule();
      });
    }, delay);
  }
}
