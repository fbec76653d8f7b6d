// A simulated cluster for Membership: a virtual clock, media with latency and
// loss, and every packet going through the real codec and authentication
// (encodePacket → bytes → openPacket), so the simulation exercises the same
// bytes the sockets would carry.
import {
  Authenticator,
  encodePacket,
  type HbMessage,
  keyring,
  Membership,
  type MembershipOptions,
  openPacket,
  type ResourceAction,
  ResourceManager,
} from '../../src/index.js';

export interface SimOptions {
  nodes: readonly string[];
  media?: readonly string[];
  keepaliveMs: number;
  deadtimeMs: number;
  warntimeMs?: number;
  initdeadMs?: number;
  latencyMs?: number;
  /** probability that one packet on one medium is lost */
  loss?: number;
  seed?: number;
  /** haresources hand-over: each node owns one group named after it */
  autoFailback?: 'on' | 'off' | 'legacy';
  /** how long the resource scripts take */
  actionMs?: number;
}

interface Pending {
  at: number;
  to: string;
  medium: string;
  bytes: Buffer;
}

/** Small deterministic PRNG (mulberry32) so simulations repeat. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimCluster {
  now = 0;
  readonly members = new Map<string, Membership>();
  readonly auth = new Authenticator(keyring('sha1', 'sim-key'));
  readonly media: readonly string[];
  readonly latencyMs: number;
  loss: number;
  /** silenced nodes send nothing and hear nothing (a crash) */
  readonly crashed = new Set<string>();
  /** media that drop everything */
  readonly cut = new Set<string>();
  /** every packet put on a medium (for replay tests): [from, medium, bytes] */
  readonly sent: { from: string; medium: string; bytes: Buffer }[] = [];
  /** drop the next packet from `from` whose message matches (test hook) */
  dropOnce: ((from: string, msg: HbMessage) => boolean) | undefined;
  #queue: Pending[] = [];
  readonly random: () => number;
  readonly rms = new Map<string, ResourceManager>();
  /** every resource action, with the node and the time it was asked for */
  readonly actions: { node: string; at: number; action: ResourceAction }[] = [];
  #actionsDue: { at: number; node: string; id: number }[] = [];

  constructor(
    readonly opts: SimOptions,
    perNode: (name: string) => Partial<MembershipOptions> = () => ({}),
  ) {
    this.media = opts.media ?? ['eth0'];
    this.latencyMs = opts.latencyMs ?? 1;
    this.loss = opts.loss ?? 0;
    this.random = prng(opts.seed ?? 1);
    for (const name of opts.nodes) {
      this.members.set(
        name,
        new Membership({
          node: name,
          nodes: opts.nodes,
          keepaliveMs: opts.keepaliveMs,
          deadtimeMs: opts.deadtimeMs,
          ...(opts.warntimeMs !== undefined ? { warntimeMs: opts.warntimeMs } : {}),
          ...(opts.initdeadMs !== undefined ? { initdeadMs: opts.initdeadMs } : {}),
          media: this.media,
          generation: 100,
          wallClock: () => 1_700_000_000_000 + this.now,
          random: this.random,
          ...perNode(name),
        }),
      );
    }
    if (opts.autoFailback) for (const name of opts.nodes) this.attachResources(name);
  }

  /** (Re)creates the resource manager of `name` on its current Membership. */
  attachResources(name: string): ResourceManager {
    const others = this.opts.nodes.filter((n) => n !== name);
    const rm = new ResourceManager({
      membership: this.member(name),
      autoFailback: this.opts.autoFailback ?? 'on',
      localGroups: [`group-${name}`],
      foreignGroups: others.map((n) => `group-${n}`),
      now: () => this.now,
      transmit: (pairs, to) => this.broadcast(name, this.member(name).send(pairs, this.now, to)),
    });
    rm.on('action', (action) => {
      this.actions.push({ node: name, at: this.now, action });
      this.#actionsDue.push({ at: this.now + (this.opts.actionMs ?? 100), node: name, id: action.id });
    });
    this.rms.set(name, rm);
    return rm;
  }

  rm(name: string): ResourceManager {
    const r = this.rms.get(name);
    if (!r) throw new Error(`no resource manager on ${name}`);
    return r;
  }

  member(name: string): Membership {
    const m = this.members.get(name);
    if (!m) throw new Error(`no node ${name}`);
    return m;
  }

  start(): void {
    for (const [name, m] of this.members) this.broadcast(name, m.start(this.now));
  }

  broadcast(from: string, msgs: HbMessage[]): void {
    if (this.crashed.has(from)) return;
    for (const msg of msgs) {
      const bytes = encodePacket(msg, { auth: this.auth });
      for (const medium of this.media) {
        this.sent.push({ from, medium, bytes });
        if (this.dropOnce?.(from, msg)) {
          this.dropOnce = undefined;
          continue;
        }
        for (const to of this.members.keys()) {
          if (to === from) continue;
          if (this.cut.has(medium) || this.random() < this.loss) continue;
          this.#queue.push({ at: this.now + this.latencyMs, to, medium, bytes });
        }
      }
    }
  }

  /** Injects raw bytes as if heard on `medium` by `to`. */
  inject(to: string, medium: string, bytes: Buffer): void {
    this.#queue.push({ at: this.now, to, medium, bytes });
  }

  /** Advances the virtual clock to `until`, delivering packets and running ticks in time order. */
  run(until: number): void {
    for (;;) {
      let next = until;
      for (const p of this.#queue) next = Math.min(next, p.at);
      for (const [name, m] of this.members)
        if (!this.crashed.has(name)) next = Math.min(next, m.nextDeadline());
      next = Math.max(next, this.now);
      if (next > until) break;
      this.now = next;
      const due = this.#queue.filter((p) => p.at <= this.now);
      // a crashed node's scripts never finish
      this.#actionsDue = this.#actionsDue.filter((a) => !this.crashed.has(a.node));
      this.#queue = this.#queue.filter((p) => p.at > this.now);
      for (const p of due) {
        if (this.crashed.has(p.to)) continue;
        const msg = openPacket(p.bytes, this.auth).message;
        this.broadcast(p.to, this.member(p.to).receive(msg, p.medium, this.now));
      }
      for (const [name, m] of this.members) {
        if (this.crashed.has(name)) continue;
        if (m.nextDeadline() <= this.now) this.broadcast(name, m.tick(this.now));
      }
      const actionsDue = this.#actionsDue.filter((a) => a.at <= this.now);
      this.#actionsDue = this.#actionsDue.filter((a) => a.at > this.now);
      for (const a of actionsDue) if (!this.crashed.has(a.node)) this.rm(a.node).done(a.id);
      for (const [name, r] of this.rms)
        if (!this.crashed.has(name) && r.nextDeadline() <= this.now) r.tick(this.now);
      if (next === until && due.length === 0) {
        let more = false;
        for (const [name, m] of this.members)
          if (!this.crashed.has(name) && m.nextDeadline() <= this.now) more = true;
        if (!more && !this.#queue.some((p) => p.at <= this.now)) break;
      }
    }
    this.now = until;
  }
}
