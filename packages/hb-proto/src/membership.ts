// Heartbeat's membership as a pure state machine: messages and times in,
// messages to send and events out. No sockets and no timers here — the
// caller passes `now` (milliseconds, any monotonic clock) to every call and
// calls tick() at nextDeadline(). Mirrors heartbeat.c: control fields
// (src, srcuuid, seq, hg, ts, ld, ttl), sequence tracking per node with
// generation numbers (replays refused), retransmission requests for gaps
// (NS_rexmit after a random 50–250 ms, repeated until the packet arrives or
// the sender NAKs it), acknowledgements (NS_ackmsg every tenth seq), node
// states init/up/active/dead with the peer's own deadtime (its "dt" field),
// initdead until every node was heard from, and links per medium (a node is
// dead only when silent on all of them).
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { HbProtoError } from './errors.js';
import { F, getBinary, getString, type HbMessage, NOSEQ_PREFIX, setBinary, setString, T } from './message.js';

export type NodeStatus = 'init' | 'up' | 'active' | 'dead';
export type LinkStatus = 'up' | 'dead';

export interface MembershipOptions {
  /** our node name (compared lower-cased, as Heartbeat does) */
  node: string;
  /** every node of ha.cf's `node` lines, us included */
  nodes: readonly string[];
  keepaliveMs: number;
  deadtimeMs: number;
  /** late-heartbeat warning; Heartbeat's default is deadtime/2… we default to deadtime */
  warntimeMs?: number;
  /** deadtime until every node was heard from once (default: deadtime) */
  initdeadMs?: number;
  /** names of our media (e.g. "eth0", "bcast eth0"); links are tracked per medium */
  media?: readonly string[];
  /** our 16-byte uuid (random by default; Heartbeat keeps it in hb_uuid) */
  uuid?: Uint8Array;
  /** generation number (Heartbeat keeps a counter in hb_generation; default: seconds since 1970) */
  generation?: number;
  /** max_rexmit_delay (default 250 ms) */
  maxRexmitDelayMs?: number;
  /** wall clock for the "ts" field (default Date.now) */
  wallClock?: () => number;
  /** the "ld" field (default "0.00 0.00 0.00 1/1 <pid>") */
  load?: () => string;
  /** randomness in [0, 1) for rexmit delays and the ack trigger (default Math.random) */
  random?: () => number;
}

export interface LinkState {
  status: LinkStatus;
  lastHeardAt: number;
}

export interface PeerState {
  name: string;
  status: NodeStatus;
  uuid: Uint8Array | undefined;
  generation: number;
  /** last in-order sequence number seen (0 = none yet) */
  lastSeq: number;
  /** sequence numbers we have not received yet */
  missing: Set<number>;
  /** the peer's deadtime from its "dt" field (ours until it tells) */
  deadtimeMs: number;
  /** when its last status message was accepted (what deadtime counts from) */
  lastHeardAt: number;
  lastStatusAt: number | undefined;
  statusSeq: number;
  statusTime: number;
  heardFrom: boolean;
  ackTrigger: number;
  /** the highest of our seqs the peer acknowledged */
  ackedSeq: number;
  links: Map<string, LinkState>;
}

export interface MembershipCounters {
  received: number;
  duplicates: number;
  replays: number;
  stale: number;
  notForUs: number;
  unknownNode: number;
  malformed: number;
  rexmitRequested: number;
  rexmitSent: number;
  naksSent: number;
  naksReceived: number;
  lost: number;
}

export interface MembershipEvents {
  /** a node's status changed (us included) */
  status: [name: string, status: NodeStatus, previous: NodeStatus];
  /** a link (node, medium) went up or dead */
  link: [name: string, medium: string, status: LinkStatus];
  /** a status message came later than warntime (or deadtime) after the previous one */
  late: [name: string, intervalMs: number];
  /** a message for the application (not membership's own types), in order, deduplicated */
  message: [msg: HbMessage, from: string];
  /** a packet was dropped: reason is one of the counters' names */
  dropped: [reason: keyof MembershipCounters, from: string | undefined];
  /** a node that was dead talks again without having restarted (split brain healed) */
  partition: [name: string];
  /** a node restarted (new generation) */
  restart: [name: string, generation: number];
}

interface HistEntry {
  seq: number;
  msg: HbMessage;
  lastRexmitAt: number | undefined;
}

interface RexmitTimer {
  node: string;
  seq: number;
  at: number;
}

const MAX_HISTORY = 500;
const FLOWCONTROL_LIMIT = 250;
const ACK_MSG_DIV = 10;
const MAX_REXMIT_BATCH = 50;

const hex = (n: number) => n.toString(16);

function parseHex(s: string | undefined): number | undefined {
  if (s === undefined || !/^[0-9a-fA-F]{1,13}$/.test(s)) return undefined;
  return Number.parseInt(s, 16);
}

function defaultLoad(): string {
  return `0.00 0.00 0.00 1/1 ${process.pid}`;
}

export class Membership extends EventEmitter<MembershipEvents> {
  readonly node: string;
  readonly nodes: readonly string[];
  readonly uuid: Uint8Array;
  readonly generation: number;
  readonly keepaliveMs: number;
  readonly deadtimeMs: number;
  readonly warntimeMs: number;
  readonly initdeadMs: number;
  readonly media: readonly string[];
  readonly counters: MembershipCounters = {
    received: 0,
    duplicates: 0,
    replays: 0,
    stale: 0,
    notForUs: 0,
    unknownNode: 0,
    malformed: 0,
    rexmitRequested: 0,
    rexmitSent: 0,
    naksSent: 0,
    naksReceived: 0,
    lost: 0,
  };
  #status: NodeStatus = 'init';
  #peers = new Map<string, PeerState>();
  #seq = 0;
  #history: HistEntry[] = [];
  #rexmit: RexmitTimer[] = [];
  #nextKeepalive = 0;
  #commUp = false;
  #reqnodesSentAt: number | undefined;
  #started = false;
  #stopped = false;
  readonly #maxRexmitDelay: number;
  readonly #wallClock: () => number;
  readonly #load: () => string;
  readonly #random: () => number;
  #out: HbMessage[] = [];

  constructor(opts: MembershipOptions) {
    super();
    this.node = opts.node.toLowerCase();
    this.nodes = opts.nodes.map((n) => n.toLowerCase());
    if (!this.nodes.includes(this.node)) {
      throw new HbProtoError(
        'INVALID_ARGUMENT',
        `node "${this.node}" is not among the cluster's nodes (${this.nodes.join(', ')})`,
      );
    }
    if (!(opts.keepaliveMs > 0) || !(opts.deadtimeMs > opts.keepaliveMs)) {
      throw new HbProtoError(
        'INVALID_ARGUMENT',
        `deadtime (${opts.deadtimeMs} ms) must exceed keepalive (${opts.keepaliveMs} ms)`,
      );
    }
    this.keepaliveMs = opts.keepaliveMs;
    this.deadtimeMs = opts.deadtimeMs;
    this.warntimeMs = opts.warntimeMs ?? opts.deadtimeMs;
    this.initdeadMs = Math.max(opts.initdeadMs ?? opts.deadtimeMs, opts.deadtimeMs);
    this.media = opts.media?.length ? [...opts.media] : ['default'];
    this.uuid = opts.uuid ?? randomBytes(16);
    if (this.uuid.length !== 16) throw new HbProtoError('INVALID_ARGUMENT', 'a node uuid has 16 bytes');
    this.generation = opts.generation ?? Math.floor(Date.now() / 1000);
    this.#maxRexmitDelay = opts.maxRexmitDelayMs ?? 250;
    this.#wallClock = opts.wallClock ?? Date.now;
    this.#load = opts.load ?? defaultLoad;
    this.#random = opts.random ?? Math.random;
    for (const name of this.nodes) {
      if (name === this.node) continue;
      this.#peers.set(name, {
        name,
        status: 'init',
        uuid: undefined,
        generation: 0,
        lastSeq: 0,
        missing: new Set(),
        deadtimeMs: this.deadtimeMs,
        lastHeardAt: 0,
        lastStatusAt: undefined,
        statusSeq: 0,
        statusTime: 0,
        heardFrom: false,
        ackTrigger: Math.floor(this.#random() * ACK_MSG_DIV),
        ackedSeq: 0,
        links: new Map(this.media.map((m) => [m, { status: 'dead' as LinkStatus, lastHeardAt: 0 }])),
      });
    }
  }

  /** our own status */
  get status(): NodeStatus {
    return this.#status;
  }

  /** true once every node was heard from (or declared dead) and the node list exchanged */
  get commUp(): boolean {
    return this.#commUp;
  }

  peer(name: string): Readonly<PeerState> | undefined {
    return this.#peers.get(name.toLowerCase());
  }

  peers(): Readonly<PeerState>[] {
    return [...this.#peers.values()];
  }

  /** Status of any node, us included. */
  statusOf(name: string): NodeStatus | undefined {
    const n = name.toLowerCase();
    return n === this.node ? this.#status : this.#peers.get(n)?.status;
  }

  /** Starts: status "init" then "up", as Heartbeat announces itself. Returns messages to send. */
  start(now: number): HbMessage[] {
    if (this.#started) return [];
    this.#started = true;
    for (const p of this.#peers.values()) {
      p.lastHeardAt = now;
      for (const l of p.links.values()) l.lastHeardAt = now;
    }
    this.#sendStatus(now);
    this.#setStatus('up', now);
    return this.#drain();
  }

  /**
   * Stops. With `shutdone` (default) it first sends Heartbeat's last words,
   * "shutdone" with st=dead, which peers take as a clean departure.
   */
  stop(now: number, { shutdone = true }: { shutdone?: boolean } = {}): HbMessage[] {
    if (this.#stopped) return [];
    if (shutdone) {
      this.#queue({ fields: [] }, now, [
        [F.type, T.shutdone],
        [F.status, 'dead'],
      ]);
    }
    this.#stopped = true;
    return this.#drain();
  }

  /** Builds and sends an application message (e.g. the resource protocol's). `to` sets dest/destuuid. */
  send(pairs: readonly (readonly [string, string])[], now: number, to?: string): HbMessage[] {
    const msg: HbMessage = { fields: [] };
    for (const [k, v] of pairs) msg.fields.push({ name: k, type: 'string', value: v });
    if (to !== undefined) setString(msg, F.to, to.toLowerCase());
    this.#queue(msg, now, []);
    return this.#drain();
  }

  /** When tick() next has work (keepalive, a deadline, a rexmit request). */
  nextDeadline(): number {
    let t = this.#nextKeepalive;
    for (const p of this.#peers.values()) {
      if (p.status !== 'dead') t = Math.min(t, p.lastHeardAt + this.#deadFor(p) + 1);
      for (const l of p.links.values())
        if (l.status === 'up') t = Math.min(t, l.lastHeardAt + this.#deadFor(p) + 1);
    }
    for (const r of this.#rexmit) t = Math.min(t, r.at);
    if (this.#reqnodesSentAt !== undefined && !this.#commUp) t = Math.min(t, this.#reqnodesSentAt + 1000);
    return t;
  }

  /** Runs what is due at `now`. Returns messages to send. */
  tick(now: number): HbMessage[] {
    if (!this.#started || this.#stopped) return [];
    // check_for_timeouts
    for (const p of this.#peers.values()) {
      const deadFor = this.#deadFor(p);
      for (const [medium, l] of p.links) {
        if (l.status === 'up' && now - l.lastHeardAt > deadFor) {
          l.status = 'dead';
          this.emit('link', p.name, medium, 'dead');
        }
      }
      if (p.status !== 'dead' && now - p.lastHeardAt > deadFor) this.#markDead(p, now);
    }
    this.#checkCommUp(now);
    if (this.#reqnodesSentAt !== undefined && !this.#commUp && now - this.#reqnodesSentAt >= 1000)
      this.#sendReqnodes(now);
    // retransmission requests that are due
    const due = this.#rexmit.filter((r) => r.at <= now);
    if (due.length) {
      this.#rexmit = this.#rexmit.filter((r) => r.at > now);
      for (const r of due) {
        const p = this.#peers.get(r.node);
        if (!p?.missing.has(r.seq) || (p.status !== 'up' && p.status !== 'active')) continue;
        this.counters.rexmitRequested++;
        this.#queue({ fields: [] }, now, [
          [F.type, T.rexmit],
          [F.to, p.name],
          [F.firstSeq, String(r.seq)],
          [F.lastSeq, String(r.seq)],
        ]);
        this.#rexmit.push({ node: r.node, seq: r.seq, at: now + this.#maxRexmitDelay });
      }
    }
    if (now >= this.#nextKeepalive) this.#sendStatus(now);
    return this.#drain();
  }

  /** Processes a received, authenticated message heard on `medium`. Returns messages to send. */
  receive(msg: HbMessage, medium: string, now: number): HbMessage[] {
    if (!this.#started || this.#stopped) return [];
    this.counters.received++;
    const type = getString(msg, F.type);
    const from = getString(msg, F.from)?.toLowerCase();
    const ts = parseHex(getString(msg, F.time));
    if (type === undefined || from === undefined || ts === undefined || ts === 0)
      return this.#drop('malformed', from);
    if (from === this.node) return this.#drain(); // our own broadcast, looped back
    const p = this.#peers.get(from);
    if (!p) return this.#drop('unknownNode', from);
    const uuid = getBinary(msg, F.fromUuid);
    if (uuid && uuid.length === 16) p.uuid = Buffer.from(uuid);
    const action = this.#shouldDrop(p, msg, type, now);
    if (action === 'drop') return this.#drain();
    // any packet that passes the sequence check (duplicates too) proves the link;
    // the node itself lives by its status messages (local_lastupdate in heartbeat.c)
    p.heardFrom = true;
    const link = p.links.get(medium) ?? { status: 'dead' as LinkStatus, lastHeardAt: now };
    p.links.set(medium, link);
    link.lastHeardAt = now;
    if (link.status !== 'up') {
      link.status = 'up';
      this.emit('link', p.name, medium, 'up');
    }
    if (action === 'duplicate') {
      this.counters.duplicates++;
      return this.#drain();
    }
    if (action === 'notForUs') {
      this.counters.notForUs++;
      return this.#drain();
    }
    this.#dispatch(p, type, msg, ts, now);
    this.#checkCommUp(now);
    return this.#drain();
  }

  // -------------------------------------------------------------------------

  #deadFor(p: PeerState): number {
    return this.#commUp ? p.deadtimeMs : this.initdeadMs;
  }

  #drop(reason: keyof MembershipCounters, from: string | undefined): HbMessage[] {
    this.counters[reason]++;
    this.emit('dropped', reason, from);
    return this.#drain();
  }

  #drain(): HbMessage[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** add_control_msg_fields: appends our control fields and queues the message. */
  #queue(msg: HbMessage, _now: number, pairs: readonly (readonly [string, string])[]): void {
    for (const [k, v] of pairs) setString(msg, k, v);
    const type = getString(msg, F.type) ?? '';
    const noseq = type.startsWith(NOSEQ_PREFIX);
    const to = getString(msg, F.to);
    const toUuid = to !== undefined ? this.#peers.get(to)?.uuid : undefined;
    if (toUuid) setBinary(msg, F.toUuid, toUuid);
    const put = (name: string, value: string) => {
      if (noseq && getString(msg, name) !== undefined) return;
      setString(msg, name, value);
    };
    put(F.from, this.node);
    setBinary(msg, F.fromUuid, this.uuid);
    let seq = 0;
    if (!noseq) {
      seq = ++this.#seq;
      setString(msg, F.seq, hex(seq));
    }
    put(F.generation, hex(this.generation));
    put(F.time, hex(Math.floor(this.#wallClock() / 1000)));
    if (!noseq) setString(msg, F.load, this.#load());
    put(F.ttl, '3');
    if (!noseq) {
      this.#history.push({ seq, msg, lastRexmitAt: undefined });
      if (this.#history.length > MAX_HISTORY) this.#history.shift();
    }
    this.#out.push(msg);
  }

  #sendStatus(now: number): void {
    this.#queue({ fields: [] }, now, [
      [F.type, T.status],
      [F.status, this.#status],
      [F.deadtime, hex(this.deadtimeMs)],
      [F.protocol, '1'],
    ]);
    this.#nextKeepalive = now + this.keepaliveMs;
  }

  #setStatus(status: NodeStatus, now: number): void {
    if (status === this.#status) return;
    const previous = this.#status;
    this.#status = status;
    this.emit('status', this.node, status, previous);
    this.#sendStatus(now);
  }

  #setPeerStatus(p: PeerState, status: NodeStatus): void {
    if (p.status === status) return;
    const previous = p.status;
    p.status = status;
    this.emit('status', p.name, status, previous);
  }

  #markDead(p: PeerState, _now: number): void {
    this.#setPeerStatus(p, 'dead');
    for (const [medium, l] of p.links) {
      if (l.status === 'up') {
        l.status = 'dead';
        this.emit('link', p.name, medium, 'dead');
      }
    }
    // mark_node_dead: forget what we heard (after listeners saw it) and the sequence track
    p.heardFrom = false;
    p.lastSeq = 0;
    p.missing.clear();
    this.#rexmit = this.#rexmit.filter((r) => r.node !== p.name);
  }

  /** check_comm_isup: every node heard from (or dead) → exchange node lists → active. */
  #checkCommUp(now: number): void {
    if (this.#commUp || this.#reqnodesSentAt !== undefined) return;
    for (const p of this.#peers.values()) if (!p.heardFrom && p.status !== 'dead') return;
    this.#sendReqnodes(now);
  }

  #sendReqnodes(now: number): void {
    const dest = [...this.#peers.values()].find((p) => p.status !== 'dead');
    if (!dest) {
      this.#commNowUp(now);
      return;
    }
    this.#reqnodesSentAt = now;
    this.#queue({ fields: [] }, now, [
      [F.type, T.reqNodes],
      [F.to, dest.name],
    ]);
  }

  #commNowUp(now: number): void {
    if (this.#commUp) return;
    this.#commUp = true;
    this.#reqnodesSentAt = undefined;
    this.#setStatus('active', now);
  }

  /** should_drop_message: sequence numbers, generations, replays, gaps. */
  #shouldDrop(
    p: PeerState,
    msg: HbMessage,
    type: string,
    now: number,
  ): 'keep' | 'drop' | 'duplicate' | 'notForUs' {
    const to = getString(msg, F.to)?.toLowerCase();
    const toUuid = getBinary(msg, F.toUuid);
    const isToUs =
      toUuid && toUuid.length === 16
        ? Buffer.from(toUuid).equals(this.uuid)
        : to === undefined || to === this.node;
    if (type.startsWith(NOSEQ_PREFIX)) {
      if (type === T.nakRexmit) {
        const seq = parseHex(getString(msg, F.firstSeq));
        if (seq === undefined || seq <= 0) {
          this.#drop('malformed', p.name);
          return 'drop';
        }
        this.counters.naksReceived++;
        if (p.missing.delete(seq)) this.counters.lost++;
        this.#rexmit = this.#rexmit.filter((r) => !(r.node === p.name && r.seq === seq));
        return 'drop';
      }
      return isToUs ? 'keep' : 'notForUs';
    }
    const seq = parseHex(getString(msg, F.seq));
    const genField = getString(msg, F.generation);
    const gen = genField === undefined ? 0 : parseHex(genField);
    if (seq === undefined || seq <= 0 || gen === undefined) {
      this.#drop('malformed', p.name);
      return 'drop';
    }
    if (gen < p.generation) {
      this.#drop('replays', p.name);
      return 'drop';
    }
    const isStatus = type === T.status;
    let restarted = false;
    if (isStatus) {
      if (gen === p.generation && gen > 0) {
        if (p.status === 'dead') {
          if (seq <= p.statusSeq) {
            this.#drop('stale', p.name);
            return 'drop';
          }
          this.emit('partition', p.name);
        }
      } else if (gen > p.generation) {
        restarted = p.generation > 0;
        p.lastSeq = 0;
        p.missing.clear();
        p.statusSeq = 0;
        p.statusTime = 0;
        p.lastStatusAt = undefined;
        this.#rexmit = this.#rexmit.filter((r) => r.node !== p.name);
        if (restarted) this.emit('restart', p.name, gen);
      }
      p.generation = gen;
    }
    if (p.lastSeq === 0 || seq === p.lastSeq + 1) {
      p.lastSeq = seq;
      this.#ackIfNeeded(p, seq, now);
      return isToUs ? 'keep' : 'notForUs';
    }
    if (seq === p.lastSeq) return 'duplicate';
    if (seq > p.lastSeq) {
      const nlost = seq - (p.lastSeq + 1);
      if (nlost > FLOWCONTROL_LIMIT) {
        p.missing.clear();
        this.#rexmit = this.#rexmit.filter((r) => r.node !== p.name);
      } else {
        for (let k = p.lastSeq + 1; k < seq; k++) {
          if (p.missing.size >= MAX_HISTORY) break;
          p.missing.add(k);
          const a = this.#maxRexmitDelay < 100 ? 0 : 50;
          this.#rexmit.push({
            node: p.name,
            seq: k,
            at: now + a + Math.round(this.#random() * (this.#maxRexmitDelay - a)),
          });
        }
      }
      p.lastSeq = seq;
      return isToUs ? 'keep' : 'notForUs';
    }
    // older than the last one: a packet we were missing, else a duplicate or a replay
    if (p.missing.delete(seq)) {
      this.#rexmit = this.#rexmit.filter((r) => !(r.node === p.name && r.seq === seq));
      return isToUs ? 'keep' : 'notForUs';
    }
    if (restarted) {
      p.lastSeq = seq;
      return isToUs ? 'keep' : 'notForUs';
    }
    this.#drop('replays', p.name);
    return 'drop';
  }

  #ackIfNeeded(p: PeerState, seq: number, now: number): void {
    const firstMissing = p.missing.size ? Math.min(...p.missing) : 0;
    if ((firstMissing !== 0 && seq > firstMissing) || seq % ACK_MSG_DIV !== p.ackTrigger) return;
    this.#queue({ fields: [] }, now, [
      [F.type, T.ack],
      [F.to, p.name],
      [F.ackSeq, hex(seq)],
    ]);
  }

  #dispatch(p: PeerState, type: string, msg: HbMessage, ts: number, now: number): void {
    switch (type) {
      case T.status:
        this.#onStatus(p, msg, ts, now);
        return;
      case T.rexmit:
        this.#onRexmit(p, msg, now);
        return;
      case T.ack: {
        const ack = parseHex(getString(msg, F.ackSeq));
        if (ack !== undefined && ack > p.ackedSeq && ack <= this.#seq) p.ackedSeq = ack;
        return;
      }
      case T.reqNodes:
        this.#queue({ fields: [] }, now, [
          [F.to, p.name],
          [F.type, T.repNodes],
          ['nodelist', this.nodes.map((n) => `${n} `).join('')],
          ['delnodelist', ' '],
        ]);
        return;
      case T.repNodes:
        this.#commNowUp(now);
        return;
      case T.shutdone:
        // the peer shuts down cleanly: Heartbeat marks it dead at once
        if (getString(msg, F.status) === 'dead') this.#markDead(p, now);
        this.emit('message', msg, p.name);
        return;
      default:
        this.emit('message', msg, p.name);
    }
  }

  #onStatus(p: PeerState, msg: HbMessage, ts: number, now: number): void {
    const st = getString(msg, F.status)?.toLowerCase();
    const seq = parseHex(getString(msg, F.seq)) ?? 0;
    if (st !== 'init' && st !== 'up' && st !== 'active' && st !== 'dead') {
      this.#drop('malformed', p.name);
      return;
    }
    if (ts < p.statusTime && seq < p.statusSeq) {
      this.#drop('stale', p.name);
      return;
    }
    if (seq < p.statusSeq) {
      // An older status, retransmitted: Heartbeat takes it when it is from the
      // same second (it compares whole seconds) and its view flips back to
      // the old state for a keepalive. We let it prove the node alive but not
      // move its state back.
      this.counters.stale++;
      p.lastHeardAt = now;
      return;
    }
    if (p.lastStatusAt !== undefined) {
      const interval = now - p.lastStatusAt;
      if (interval > this.warntimeMs) this.emit('late', p.name, interval);
    }
    const dt = parseHex(getString(msg, F.deadtime));
    if (dt !== undefined && dt > 0) p.deadtimeMs = dt;
    this.#setPeerStatus(p, st);
    p.statusTime = ts;
    p.statusSeq = seq;
    p.lastStatusAt = now;
    p.lastHeardAt = now;
  }

  /** process_rexmit: resend what we still have, NAK what we do not. */
  #onRexmit(p: PeerState, msg: HbMessage, now: number): void {
    const first = Number.parseInt(getString(msg, F.firstSeq) ?? '', 10);
    const last = Number.parseInt(getString(msg, F.lastSeq) ?? '', 10);
    if (!(first > 0) || !(last >= first)) {
      this.#drop('malformed', p.name);
      return;
    }
    let sent = 0;
    for (let seq = first; seq <= last && seq <= this.#seq; seq++) {
      if (seq <= p.ackedSeq) continue;
      const entry = this.#history.find((h) => h.seq === seq);
      if (!entry) {
        this.counters.naksSent++;
        this.#queue({ fields: [] }, now, [
          [F.type, T.nakRexmit],
          [F.firstSeq, hex(seq)],
          [F.to, p.name],
          [F.comment, 'seqno too low'],
        ]);
        continue;
      }
      if (entry.lastRexmitAt !== undefined && now - entry.lastRexmitAt < this.#maxRexmitDelay - 10) continue;
      if (++sent > MAX_REXMIT_BATCH) return;
      entry.lastRexmitAt = now;
      this.counters.rexmitSent++;
      this.#out.push(entry.msg);
    }
  }
}
