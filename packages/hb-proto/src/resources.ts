// Resource hand-over for haresources mode (two nodes), as heartbeat's
// hb_resource.c and its rc.d scripts decide it. The library decides and
// tells: it emits "action" (acquire or release local/foreign resource groups)
// and the application calls done(id) when the scripts finished; only then is
// the next protocol message sent, exactly where Heartbeat's child process
// would send it.
//
// Words: "local" groups are those haresources gives to this node, "foreign"
// those it gives to the other node. A "resource" message says what its
// sender holds (none/local/foreign/all, from the sender's point of view) and
// whether it is stable.
//
// auto_failback on|off ("nice failback"):
//   comm up → "starting"; each answers "starting" with "resource" (what it
//   holds); once the other side is stable, a node takes its local groups
//   unless the other holds them (its "foreign" bit) → stable.
//   peer dead → take its groups (a "stonith" note first when it may have
//   held something), then "resource rsc_hold=foreign info=mach_down".
//   peer back → it learns we hold everything; with auto_failback on we give
//   its groups back through the standby protocol; with off we keep them.
// standby (hb_standby): "ask_resources info=me" → the other answers
//   "info=other" → we release and say "done" → it acquires and says "done".
//   hb_takeover sends "hb_takeover": the other goes standby for the mirror set.
// auto_failback legacy: each node always takes its local groups at start,
//   asking the holder with "ip-request" (answered by "ip-request-resp"), and
//   takes the dead node's groups; no standby.
import { EventEmitter } from 'node:events';
import type { HaResource, Haresources } from '@lvs-ha/ha-config';
import { HbProtoError } from './errors.js';
import type { Membership, NodeStatus } from './membership.js';
import { F, getString, type HbMessage, T } from './message.js';

export type AutoFailback = 'on' | 'off' | 'legacy';
/** What a node holds, from its own point of view (Heartbeat's rsc_hold words). */
export type ResourceSet = 'none' | 'local' | 'foreign' | 'all';
export type ResourceState = 'init' | 'starting' | 'bothstarting' | 'rscrcvd' | 'stable' | 'shutdown';
export type StandbyState = 'not' | 'me' | 'other' | 'done';

const NONE = 0;
const LOCAL = 1;
const FOREIGN = 2;
const ALL = 3;
const SET_NAMES: readonly ResourceSet[] = ['none', 'local', 'foreign', 'all'];
/** RQSTDELAY: how long to wait for an unstable peer before taking our groups anyway */
const RQSTDELAY_MS = 10_000;
/** STANDBY_INIT_TO_MS: the other side must answer a standby request within this */
const STANDBY_INIT_MS = 10_000;
/** HB_STANDBY_RSC_TO_MS: the whole hand-over must finish within an hour */
const STANDBY_RSC_MS = 3_600_000;
/** legacy: an ip-request without an answer is sent again after this */
const LEGACY_ASK_AGAIN_MS = 5_000;

const encode = (s: string | undefined): number => {
  const i = SET_NAMES.indexOf((s ?? '') as ResourceSet);
  return i < 0 ? NONE : i;
};

export interface ResourceAction {
  id: number;
  action: 'acquire' | 'release';
  /** which groups, from our point of view */
  set: 'local' | 'foreign' | 'all';
  /** the haresources group keys concerned */
  groups: string[];
  /** why (Heartbeat's words): req_our_resources, mach_down, standby, shutdown, ip-request, ip-request-resp */
  reason: string;
}

export interface ResourceEvents {
  /** run the scripts, then call done(action.id) */
  action: [action: ResourceAction];
  /** what we hold changed, or the state or the stability (rscstatus) moved */
  change: [holding: ResourceSet, state: ResourceState];
  /** something Heartbeat logs as an error or warning (ignored standby request, both own our groups…) */
  warning: [message: string];
}

export interface ResourceManagerOptions {
  membership: Membership;
  /** sends an application message through the node (Membership.send + the wire) */
  transmit: (pairs: readonly (readonly [string, string])[], to?: string) => void;
  autoFailback: AutoFailback;
  /** haresources group keys of this node, and of the other node */
  localGroups: readonly string[];
  foreignGroups: readonly string[];
  /** the clock Membership uses */
  now: () => number;
}

/** The key Heartbeat's ResourceManager lists for a group: its first resource as written. */
export function resourceKey(r: HaResource): string {
  if (r.kind === 'ipaddr') {
    const spec = [r.spec, ...r.extra].join('::');
    return r.shorthand ? spec : `${r.agent}::${spec}`;
  }
  return [r.name, ...r.args].join('::');
}

/** Group keys haresources gives to `node` and to the others (compared lower-cased). */
export function haresourcesGroups(
  h: Pick<Haresources, 'groups'>,
  node: string,
): { local: string[]; foreign: string[] } {
  const me = node.toLowerCase();
  const local: string[] = [];
  const foreign: string[] = [];
  for (const g of h.groups) {
    const first = g.resources[0];
    if (!first) continue;
    (g.node.toLowerCase() === me ? local : foreign).push(resourceKey(first));
  }
  return { local, foreign };
}

interface Pending {
  action: ResourceAction;
  then: () => void;
}

export class ResourceManager extends EventEmitter<ResourceEvents> {
  readonly membership: Membership;
  readonly autoFailback: AutoFailback;
  readonly localGroups: readonly string[];
  readonly foreignGroups: readonly string[];
  readonly #transmit: ResourceManagerOptions['transmit'];
  readonly #now: () => number;
  readonly #nice: boolean;
  readonly #auto: boolean;
  #iHold = NONE;
  #otherHolds = NONE;
  #otherStable = false;
  #state: ResourceState = 'init';
  #standby: StandbyState = 'not';
  #standbyUntil = 0;
  #standbyType = ALL;
  #needsFailback = false;
  #takeoverInProgress = false;
  #localTakeoverAt = 0;
  #failbackRetryAt = 0;
  #shuttingDown = false;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #requestedYet = false;
  /** legacy: groups asked for with ip-request */
  #asked = new Set<string>();
  #lastReported = '';
  /** legacy: ask for our groups once the peer is active; ask again if unanswered */
  #askWhenActive = false;
  #askAgainAt = 0;
  /** our own messages, acted on after the current step (Heartbeat hears its own broadcasts) */
  #selfQueue: HbMessage[] = [];
  #busy = false;

  constructor(opts: ResourceManagerOptions) {
    super();
    this.membership = opts.membership;
    this.autoFailback = opts.autoFailback;
    this.localGroups = [...opts.localGroups];
    this.foreignGroups = [...opts.foreignGroups];
    this.#transmit = opts.transmit;
    this.#now = opts.now;
    this.#nice = opts.autoFailback !== 'legacy';
    this.#auto = opts.autoFailback === 'on';
    if (opts.membership.nodes.length !== 2) {
      throw new HbProtoError(
        'UNSUPPORTED',
        'haresources hand-over is between two nodes (Heartbeat supports no more)',
      );
    }
    this.membership.on('status', (name, status, previous) =>
      this.#run(() => this.#onStatus(name, status, previous)),
    );
    this.membership.on('message', (msg, from) => this.#run(() => this.#onMessage(msg, from, false)));
  }

  /** What we hold: none, local, foreign or all (cl_status rscstatus says the same, or "transition"). */
  get holding(): ResourceSet {
    return SET_NAMES[this.#iHold] as ResourceSet;
  }

  get state(): ResourceState {
    return this.#state;
  }

  get standbyState(): StandbyState {
    return this.#standby;
  }

  /** What cl_status rscstatus would print for us: the holding, or "transition" while unstable. */
  get rscstatus(): ResourceSet | 'transition' {
    return this.isStable() ? this.holding : 'transition';
  }

  /** actions emitted and not yet done() */
  get pendingActions(): number {
    return this.#pending.size;
  }

  /** hb_rsc_isstable */
  isStable(): boolean {
    if (!this.#nice) return this.#pending.size === 0;
    return (
      this.#otherStable &&
      !this.#takeoverInProgress &&
      this.#standby === 'not' &&
      this.#standbyUntil === 0 &&
      this.#pending.size === 0 &&
      (this.#state === 'stable' || this.#state === 'shutdown' || this.#state === 'init')
    );
  }

  /** The application finished an action's scripts. */
  done(id: number): void {
    const p = this.#pending.get(id);
    if (!p) throw new HbProtoError('INVALID_ARGUMENT', `no pending resource action ${id}`);
    this.#pending.delete(id);
    this.#run(() => p.then());
  }

  /** hb_standby [all|local|foreign|failback]: give resources to the other node. */
  standby(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    const set = which === 'failback' ? 'foreign' : which;
    this.#run(() => {
      // What ask_for_resources would ignore on our side is not sent at all: the peer,
      // which may be stable by then, would answer "other" and wait an hour (STANDBY_RSC)
      // for a standby this node never began (seen: a failed start's hb_standby right
      // after a hand-over). The caller asks again later.
      const why = this.#standbyRefusal();
      if (why) return void this.emit('warning', `standby request not sent: ${why}`);
      this.#send([
        [F.type, T.askResources],
        [F.resources, set],
        [F.comment, 'me'],
      ]);
    });
  }

  /** Why a standby asked here now would be ignored here (ask_for_resources), or undefined. */
  #standbyRefusal(): string | undefined {
    if (!this.#nice || this.#state === 'shutdown') return undefined; // the receive side says why
    if (this.#standby !== 'not' || (this.#standbyUntil !== 0 && this.#now() < this.#standbyUntil))
      return 'a standby is in progress';
    if (!this.#otherStable) return 'the other side is in flux';
    if (this.#state !== 'stable') return 'local resources in flux';
    return undefined;
  }

  /** hb_takeover [all|local|foreign|failback]: ask the other node to give us resources. */
  takeover(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    this.#run(() =>
      this.#send([
        ['t', 'hb_takeover'],
        [F.resources, which],
      ]),
    );
  }

  /** Graceful shutdown: release everything, then Heartbeat's "shutdone". Resolves when sent. */
  shutdown(): void {
    this.#run(() => this.#shutdown());
  }

  #shutdown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    const had = this.#iHold;
    this.#iHold = NONE;
    this.#state = 'shutdown';
    if (this.#nice) this.#sendHeld(false, 'shutdown');
    const finish = () =>
      this.#send([
        [F.type, T.shutdone],
        [F.status, 'dead'],
      ]);
    if (had === NONE) finish();
    else this.#act('release', had, 'shutdown', finish);
  }

  /** Timers: delayed failback, standby timeout, RQSTDELAY. Call with Membership's tick. */
  tick(now: number): void {
    this.#run(() => this.#tick(now));
  }

  #tick(now: number): void {
    if (this.#standbyUntil !== 0 && now >= this.#standbyUntil) {
      this.#standbyUntil = 0;
      this.#otherStable = true;
      this.#standby = 'not';
      this.emit('warning', 'No reply to standby request. Standby request cancelled.');
    }
    if (
      this.#nice &&
      this.#state === 'rscrcvd' &&
      this.#localTakeoverAt !== 0 &&
      now > this.#localTakeoverAt
    ) {
      this.#state = 'stable';
      this.#reqOurResources(false);
      this.#sendHeld(true);
    }
    if (this.#askAgainAt !== 0 && now >= this.#askAgainAt) {
      this.#askAgainAt = 0;
      const peer = this.membership.statusOf(this.#peerName());
      if (this.#asked.size > 0 && peer === 'active' && !this.#shuttingDown)
        this.#askForGroups([...this.#asked]);
    }
    if (this.#failbackRetryAt !== 0 && now >= this.#failbackRetryAt) {
      this.#failbackRetryAt = 0;
      this.#performAutoFailback();
    }
  }

  nextDeadline(): number {
    let t = Number.POSITIVE_INFINITY;
    if (this.#standbyUntil) t = Math.min(t, this.#standbyUntil);
    if (this.#state === 'rscrcvd' && this.#localTakeoverAt) t = Math.min(t, this.#localTakeoverAt + 1);
    if (this.#failbackRetryAt) t = Math.min(t, this.#failbackRetryAt);
    if (this.#askAgainAt) t = Math.min(t, this.#askAgainAt);
    return t;
  }

  // -------------------------------------------------------------------------

  #peerName(): string {
    return this.membership.nodes.find((n) => n !== this.membership.node) as string;
  }

  /** Runs one step, then acts on our own messages it sent, in order. */
  #run(step: () => void): void {
    if (this.#busy) {
      step();
      return;
    }
    this.#busy = true;
    try {
      step();
      for (let msg = this.#selfQueue.shift(); msg; msg = this.#selfQueue.shift()) {
        this.#onMessage(msg, this.membership.node, true);
      }
    } finally {
      this.#busy = false;
      this.#selfQueue = [];
    }
    this.#report();
  }

  #send(pairs: [string, string][], to?: string): void {
    this.#transmit(pairs, to);
    // Heartbeat hears its own broadcasts and acts on them (standby, resource).
    const msg: HbMessage = { fields: pairs.map(([name, value]) => ({ name, type: 'string', value })) };
    msg.fields.push({ name: F.from, type: 'string', value: this.membership.node });
    this.#selfQueue.push(msg);
  }

  #sendHeld(stable: boolean, comment?: string): void {
    if (!this.#nice) return;
    const pairs: [string, string][] = [
      [F.type, T.resources],
      [F.resources, SET_NAMES[this.#iHold] as string],
      [F.rtype, 'full'],
      [F.isStable, stable ? '1' : '0'],
    ];
    if (comment) pairs.push([F.comment, comment]);
    this.#send(pairs);
  }

  #groupsFor(set: number): string[] {
    return [...(set & LOCAL ? this.localGroups : []), ...(set & FOREIGN ? this.foreignGroups : [])];
  }

  #act(action: 'acquire' | 'release', set: number, reason: string, then: () => void): void {
    const id = this.#nextId++;
    const a: ResourceAction = {
      id,
      action,
      set: SET_NAMES[set] as 'local' | 'foreign' | 'all',
      groups: this.#groupsFor(set),
      reason,
    };
    this.#pending.set(id, { action: a, then });
    this.emit('action', a);
  }

  #report(): void {
    const key = `${this.holding}/${this.#state}/${this.isStable()}`;
    if (key === this.#lastReported) return;
    this.#lastReported = key;
    this.emit('change', this.holding, this.#state);
  }

  #onStatus(name: string, status: NodeStatus, previous: NodeStatus): void {
    if (name === this.membership.node) {
      if (status === 'active' && previous !== 'active') this.#commUp();
      return;
    }
    if (status === 'dead' && previous !== 'dead') {
      this.#askWhenActive = false;
      this.#recoverDead(name);
    }
    if (status === 'active' && this.#askWhenActive) this.#askForGroups();
    this.#report();
  }

  /** comm_up_resource_action */
  #commUp(): void {
    if (this.#nice) {
      this.#send([[F.type, T.starting]]);
      this.#state = 'starting';
    } else if (!this.#requestedYet) {
      this.#requestedYet = true;
      this.#reqOurResources(false);
    }
    this.#report();
  }

  /** req_our_resources */
  #reqOurResources(anyway: boolean): void {
    if (this.#shuttingDown) return;
    if (this.#nice) {
      if (
        ((this.#otherHolds & FOREIGN) !== 0 || (this.#iHold & LOCAL) !== 0) &&
        !anyway &&
        this.#standby === 'not'
      ) {
        return; // someone already owns our groups
      }
      this.#iHold |= LOCAL;
      this.#act('acquire', LOCAL, 'req_our_resources', () => this.#sendHeld(true, 'req_our_resources()'));
      return;
    }
    // legacy: ask the other node to give each group up, unless we are alone
    const peer = this.membership.statusOf(this.#peerName());
    if (peer !== 'active' && peer !== 'up') {
      this.#iHold |= LOCAL;
      this.#act('acquire', LOCAL, 'req_our_resources', () => undefined);
      return;
    }
    // A Heartbeat peer acts on ip-request only once its own comm is up (it
    // registers the handler then), which its "active" status announces.
    if (peer === 'up') {
      this.#askWhenActive = true;
      return;
    }
    this.#askForGroups();
  }

  #askForGroups(keys: readonly string[] = this.localGroups): void {
    this.#askWhenActive = false;
    this.#askAgainAt = this.#now() + LEGACY_ASK_AGAIN_MS;
    for (const key of keys) {
      this.#asked.add(key);
      this.#transmit([
        [F.type, T.askRelease],
        ['ipaddr', key],
      ]);
    }
  }

  /** hb_rsc_recover_dead_resources */
  #recoverDead(name: string): void {
    if (this.#standby !== 'not') {
      this.#standby = 'not';
      this.#standbyUntil = 0;
      if (!this.#otherStable && (this.#iHold & ALL) === ALL) this.#otherStable = true;
    }
    if (this.#shuttingDown) return;
    this.#needsFailback = true;
    const peer = this.membership.peer(name);
    let needStonith = true;
    // legacy: Heartbeat assumes a node that talked may hold its groups
    if (peer?.heardFrom && this.#nice && this.#otherHolds === NONE) needStonith = false;
    if (needStonith) {
      this.#transmit([
        [F.type, T.stonith],
        ['node', name],
        ['result', 'n_stnth'],
      ]);
      this.emit('warning', 'No STONITH device configured. Shared disks are not protected.');
      this.#takeoverFrom(name);
      return;
    }
    this.#transmit([
      [F.type, T.stonith],
      ['node', name],
      ['result', 'unneeded'],
    ]);
    if (this.#nice) {
      if ((this.#iHold & ALL) === ALL) {
        this.#otherStable = true;
        return;
      }
      if (!(this.#iHold & LOCAL)) this.#reqOurResources(true);
      if (!(this.#iHold & FOREIGN)) this.#takeoverFrom(name);
    } else {
      this.#takeoverFrom(name);
    }
  }

  /** takeover_from_node: mach_down takes the dead node's groups */
  #takeoverFrom(_name: string): void {
    if (this.#shuttingDown) return;
    const had = this.#iHold;
    if (this.#nice) {
      this.#iHold |= FOREIGN;
      this.#otherHolds = NONE;
      this.#otherStable = true;
      this.#takeoverInProgress = true;
    }
    if (!(had & FOREIGN)) {
      this.#act('acquire', FOREIGN, 'mach_down', () => {
        if (!this.#nice) {
          this.#iHold |= FOREIGN;
          return;
        }
        // mach_down's message: "resource rsc_hold=foreign info=mach_down"
        this.#send([
          [F.type, T.resources],
          [F.resources, 'foreign'],
          [F.comment, 'mach_down'],
        ]);
      });
    } else {
      this.#takeoverInProgress = false;
    }
    this.#reqOurResources(true);
  }

  #onMessage(msg: HbMessage, from: string, fromMe: boolean): void {
    const type = getString(msg, F.type);
    switch (type) {
      case T.starting:
      case T.resources:
        this.#processResources(type, msg, fromMe);
        break;
      case T.askResources:
        this.#askForResources(msg, fromMe);
        break;
      case 'hb_takeover': {
        if (fromMe) break;
        const hold = getString(msg, F.resources) ?? 'all';
        // rc.d/hb_takeover: the mirror set; anything else (failback too) means all
        const mirror = hold === 'local' ? 'foreign' : hold === 'foreign' ? 'local' : 'all';
        this.#send([
          [F.type, T.askResources],
          [F.resources, mirror],
          [F.comment, 'me'],
        ]);
        break;
      }
      case T.shutdone:
        if (!fromMe && this.membership.commUp) this.#peerShutdone(from);
        break;
      case T.askRelease:
        if (!fromMe) this.#onIpRequest(msg, from);
        break;
      case T.ackRelease:
        this.#onIpRequestResp(msg);
        break;
    }
  }

  /** process_resources (nice failback only) */
  #processResources(type: string, msg: HbMessage, fromMe: boolean): void {
    if (!this.#nice) return;
    let next = this.#state;
    if (type === T.starting && !fromMe) {
      switch (this.#state) {
        case 'rscrcvd':
        case 'stable':
        case 'shutdown':
          break;
        case 'starting':
          next = 'bothstarting';
          break;
        default:
          this.emit('warning', `Received 'starting' message in state ${this.#state}`);
          return;
      }
      this.#otherStable = false;
      this.#sendHeld(this.#state === 'stable');
    }
    if (type === T.resources) {
      const n = encode(getString(msg, F.resources));
      const full = getString(msg, F.rtype) === 'full';
      switch (this.#state) {
        case 'bothstarting':
        case 'starting':
          next = 'rscrcvd';
          break;
        case 'rscrcvd':
        case 'stable':
        case 'shutdown':
          break;
        default:
          this.emit('warning', `'resource' message received in state ${this.#state}`);
          return;
      }
      if (!fromMe) {
        this.#otherHolds = full ? n : this.#otherHolds | n;
        const stable = getString(msg, F.isStable);
        if (stable !== undefined) {
          if (stable === '1') {
            if (!this.#otherStable) {
              this.#otherStable = true;
              this.#sendHeld(this.#state === 'stable');
              this.#performAutoFailback();
            }
          } else {
            this.#otherStable = false;
          }
        }
        if (next !== 'stable' && next !== 'shutdown' && this.#otherStable) {
          this.#state = next;
          this.#reqOurResources(false);
          next = 'stable';
          this.#state = 'stable';
          this.#sendHeld(true);
          this.#performAutoFailback();
        }
      } else {
        this.#iHold = full ? n : this.#iHold | n;
        const comment = getString(msg, F.comment);
        if (comment === 'mach_down') {
          this.#takeoverInProgress = false;
          this.#iHold |= FOREIGN;
          this.#needsFailback = true;
          this.#otherStable = true;
        } else if (comment === 'shutdown') {
          next = 'shutdown';
        }
      }
    }
    this.#state = next;
    if (this.#state === 'rscrcvd' && this.#localTakeoverAt === 0)
      this.#localTakeoverAt = this.#now() + RQSTDELAY_MS;
    if ((this.#iHold & LOCAL) !== 0 && (this.#otherHolds & FOREIGN) !== 0)
      this.emit('warning', 'Both machines own our resources!');
    if ((this.#otherHolds & LOCAL) !== 0 && (this.#iHold & FOREIGN) !== 0)
      this.emit('warning', 'Both machines own foreign resources!');
  }

  /** PerformAutoFailback */
  #performAutoFailback(): void {
    if (this.#shuttingDown || (this.#iHold & FOREIGN) === 0 || !this.#needsFailback || !this.#auto) {
      this.#needsFailback = false;
      return;
    }
    if (this.#standby !== 'not' || !this.#otherStable || this.#state !== 'stable' || this.#pending.size > 0) {
      this.#failbackRetryAt = this.#now() + 1000;
      return;
    }
    this.#standbyType = FOREIGN;
    this.#needsFailback = false;
    this.#send([
      [F.type, T.askResources],
      [F.resources, 'foreign'],
      [F.comment, 'me'],
    ]);
  }

  #sendStandby(state: StandbyState): void {
    this.#send([
      [F.type, T.askResources],
      [F.resources, SET_NAMES[this.#standbyType] as string],
      [F.comment, state],
    ]);
  }

  /** ask_for_resources: the three-phase standby protocol */
  #askForResources(msg: HbMessage, fromMe: boolean): void {
    if (!this.#nice) {
      this.emit('warning', 'Standby mode only implemented when nice_failback on');
      return;
    }
    if (this.#state === 'shutdown') return;
    const info = getString(msg, F.comment);
    const rsctype = getString(msg, F.resources);
    const rtype = rsctype === undefined ? ALL : encode(rsctype);
    const now = this.#now();
    if (info === undefined) return;
    if (this.#standbyUntil !== 0 && now < this.#standbyUntil && info === 'me') {
      this.emit('warning', 'Standby in progress - new request ignored');
      return;
    }
    const ignored = () => this.emit('warning', `Ignored standby message '${info}' in state ${this.#standby}`);
    switch (this.#standby) {
      case 'not':
        if (!this.#otherStable) {
          this.emit('warning', `standby message [${info}] ignored. Other side is in flux.`);
          return;
        }
        if (this.#state !== 'stable') {
          this.emit('warning', `standby message [${info}] ignored. local resources in flux.`);
          return;
        }
        this.#standbyType = rtype;
        if (info === 'me') {
          this.#otherStable = false;
          if (fromMe) {
            this.#standbyUntil = now + STANDBY_INIT_MS;
            this.#standby = 'me';
          } else {
            this.#standby = 'other';
            this.#sendStandby('other');
            this.#standbyUntil = now + STANDBY_RSC_MS;
          }
        } else ignored();
        break;
      case 'me':
        if (!fromMe) {
          this.#standbyType = rtype;
          this.#standbyUntil = now + STANDBY_RSC_MS;
          if (info === 'other') this.#goStandby('me', rtype);
          else ignored();
        } else if (info === 'done') {
          this.#standby = 'done';
          this.#iHold &= ~this.#standbyType;
          this.#standbyUntil = now + STANDBY_RSC_MS;
        } else ignored();
        break;
      case 'other':
        this.#standbyType = rtype;
        if (info === 'done') {
          this.#standbyUntil = now + STANDBY_RSC_MS;
          if (!fromMe) {
            this.#standby = 'done';
            this.#goStandby('other', rtype);
          } else ignored();
        } else if (!fromMe || info !== 'other') ignored();
        break;
      case 'done':
        this.#standbyType = rtype;
        if (info === 'done') {
          this.#standbyUntil = 0;
          this.#standby = 'not';
          if (fromMe) {
            this.#iHold |= rtype === LOCAL ? FOREIGN : rtype === FOREIGN ? LOCAL : ALL;
          }
          this.#sendHeld(true);
          this.#standby = 'not';
        } else ignored();
        break;
    }
  }

  /** go_standby: release ours (ME) or acquire theirs (OTHER), then say "done". */
  #goStandby(who: 'me' | 'other', set: number): void {
    if (who === 'me') {
      this.#otherStable = false;
      this.#iHold &= ~set;
      this.#sendHeld(false, 'standby');
    }
    // the sets are named from the standby node's point of view
    const act = set === ALL ? ALL : who === 'me' ? set : set === LOCAL ? FOREIGN : LOCAL;
    this.#act(who === 'me' ? 'release' : 'acquire', act, 'standby', () => this.#sendStandby('done'));
  }

  /** HBDoMsg_T_SHUTDONE from the other node: take everything it had */
  #peerShutdone(from: string): void {
    this.#otherStable = true;
    this.#otherHolds = NONE;
    if (this.#shuttingDown) return;
    if (!this.#nice) {
      this.#takeoverFrom(from);
      return;
    }
    // Take at once what we do not hold yet. (Heartbeat goes through its
    // standby code here with a resource set that does not always say what
    // it means; the outcome, every group here, is the same.)
    const missing = ALL & ~this.#iHold;
    if (missing === NONE) return;
    this.#iHold = ALL;
    this.#act('acquire', missing, 'shutdone', () => this.#sendHeld(true));
  }

  /** rc.d/ip-request: give the group up if we hold it, and say so */
  #onIpRequest(msg: HbMessage, from: string): void {
    const key = getString(msg, 'ipaddr');
    if (!key) return;
    const weown = this.foreignGroups.includes(key) && (this.#iHold & FOREIGN) !== 0;
    const reply = () =>
      this.#transmit([
        [F.type, T.ackRelease],
        [F.to, from],
        ['ipaddr', key],
        ['weown', weown ? 'yes' : 'no'],
        ['ok', 'OK'],
      ]);
    if (weown) {
      this.#iHold &= ~FOREIGN;
      this.#act('release', FOREIGN, 'ip-request', reply);
    } else reply();
  }

  /** rc.d/ip-request-resp: the holder gave our group up: take it */
  #onIpRequestResp(msg: HbMessage): void {
    const key = getString(msg, 'ipaddr');
    if (getString(msg, F.to) !== this.membership.node || !key || !this.#asked.delete(key)) return;
    if (getString(msg, 'ok') !== 'OK') return;
    this.#iHold |= LOCAL;
    this.#act('acquire', LOCAL, 'ip-request-resp', () => undefined);
  }
}
