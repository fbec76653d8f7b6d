// The states a notify hook is told of, as keepalived names them
// (notify_master, notify_backup, notify_fault, notify_stop): for each
// haresources group, and for this node as a whole. Pure bookkeeping: the
// ClusterNode says what happened (a group started, could not be started,
// was released, the node failed or stopped) and gets back the changes, each
// once and in the order they happened.

/** keepalived's words: MASTER holds, BACKUP does not, FAULT cannot, STOP has left. */
export type HaState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP';

/** One change of state: a haresources group (by its key) or this node (by its name). */
export interface StateChange {
  type: 'GROUP' | 'NODE';
  /** The group's key (its first resource, as haresources writes it) or this node's name. */
  name: string;
  state: HaState;
  /** Why: the hand-over's reason (req_our_resources, mach_down, standby, shutdown…), or join, start-failed, fail-stop, partition, stop. */
  reason: string;
}

/** What each group and the node are in, and what changed. */
export class NotifyStates {
  private readonly groups = new Map<string, HaState | undefined>();
  private node: HaState | undefined;

  constructor(
    private readonly nodeName: string,
    groupKeys: Iterable<string>,
  ) {
    for (const k of groupKeys) this.groups.set(k, undefined);
  }

  /** The state of each group and of the node now (undefined: not said yet). */
  current(): { node: HaState | undefined; groups: Record<string, HaState | undefined> } {
    return { node: this.node, groups: Object.fromEntries(this.groups) };
  }

  /** Joined the cluster: every group not held is BACKUP (keepalived says BACKUP at start too). */
  joined(): StateChange[] {
    const out: StateChange[] = [];
    for (const [k, s] of this.groups) if (s === undefined || s === 'STOP') this.set(k, 'BACKUP', 'join', out);
    return this.withNode(out, 'join');
  }

  /** A group started here. */
  acquired(key: string, reason: string): StateChange[] {
    return this.withNode(this.set(key, 'MASTER', reason, []), reason);
  }

  /** A group could not be started here (stopped again, given to the peer). */
  failed(key: string): StateChange[] {
    return this.withNode(this.set(key, 'FAULT', 'start-failed', []), 'start-failed');
  }

  /** A group was released: BACKUP, or STOP when the node is leaving. */
  released(key: string, reason: string, leaving: boolean): StateChange[] {
    // leaving: the node's own STOP comes with stopped(), after the last group
    if (leaving) return this.set(key, 'STOP', reason, []);
    return this.withNode(this.set(key, 'BACKUP', reason, []), reason);
  }

  /** The node fail-stopped: what it held is FAULT, and so is the node. */
  failStop(): StateChange[] {
    const out: StateChange[] = [];
    for (const [k, s] of this.groups) if (s === 'MASTER') this.set(k, 'FAULT', 'fail-stop', out);
    if (this.node !== 'FAULT') {
      this.node = 'FAULT';
      out.push({ type: 'NODE', name: this.nodeName, state: 'FAULT', reason: 'fail-stop' });
    }
    return out;
  }

  /** The node left the cluster: every group not said STOP yet is STOP, then the node. */
  stopped(): StateChange[] {
    const out: StateChange[] = [];
    // never joined: nothing was said, nothing to end
    if (this.node === undefined) return out;
    for (const [k, s] of this.groups) if (s !== 'STOP') this.set(k, 'STOP', 'stop', out);
    if (this.node !== 'STOP') {
      this.node = 'STOP';
      out.push({ type: 'NODE', name: this.nodeName, state: 'STOP', reason: 'stop' });
    }
    return out;
  }

  private set(key: string, state: HaState, reason: string, out: StateChange[]): StateChange[] {
    if (!this.groups.has(key) || this.groups.get(key) === state) return out;
    this.groups.set(key, state);
    out.push({ type: 'GROUP', name: key, state, reason });
    return out;
  }

  /** The node's own state follows its groups: MASTER while it holds one, else BACKUP (a FAULT or STOP node stays so). */
  private withNode(out: StateChange[], reason: string): StateChange[] {
    if (out.length === 0 && this.node !== undefined) return out;
    if (this.node === 'FAULT' || this.node === 'STOP') {
      // only a join again clears them
      if (reason !== 'join') return out;
    }
    const next: HaState = [...this.groups.values()].includes('MASTER') ? 'MASTER' : 'BACKUP';
    if (next !== this.node) {
      this.node = next;
      out.push({ type: 'NODE', name: this.nodeName, state: next, reason });
    }
    return out;
  }
}
