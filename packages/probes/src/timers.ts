// The Monitor's default timers. Each real server waits one interval between
// checks; with 10,000 servers at 1 s that is 10,000 Node timers a second,
// each with its own jittered duration (Node keeps one list per duration).
// Here the waits fall into slots of `grainMs` and one Node timer is armed for
// the earliest slot: an insertion is an array push, a cancellation a flag.

export interface CoarseTimer {
  fn: (arg: never) => void;
  /** What `fn` is called with: one function for many timers, not a closure each. */
  arg: unknown;
  cancelled: boolean;
}

export class CoarseTimers {
  private readonly slots = new Map<number, CoarseTimer[]>();
  /** Slot numbers with timers, as a binary min-heap. */
  private readonly heap: number[] = [];
  private armed: NodeJS.Timeout | undefined;
  private armedSlot = Number.POSITIVE_INFINITY;

  constructor(readonly grainMs = 10) {}

  /** Calls `fn(arg)` after at least `ms` milliseconds, at most one grain later. */
  set<A>(fn: (arg: A) => void, ms: number, arg?: A): CoarseTimer {
    const t: CoarseTimer = { fn, arg, cancelled: false };
    const slot = Math.ceil((performance.now() + ms) / this.grainMs);
    let list = this.slots.get(slot);
    if (!list) {
      list = [];
      this.slots.set(slot, list);
      this.push(slot);
      if (slot < this.armedSlot) this.arm(slot);
    }
    list.push(t);
    return t;
  }

  clear(t: CoarseTimer): void {
    t.cancelled = true;
  }

  private arm(slot: number): void {
    if (this.armed !== undefined) clearTimeout(this.armed);
    this.armedSlot = slot;
    this.armed = setTimeout(this.fire, Math.max(0, slot * this.grainMs - performance.now()));
  }

  private readonly fire = (): void => {
    this.armed = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    const nowSlot = Math.floor(performance.now() / this.grainMs);
    while (this.heap.length > 0 && (this.heap[0] as number) <= nowSlot) {
      const slot = this.pop();
      const list = this.slots.get(slot) as CoarseTimer[];
      this.slots.delete(slot);
      for (const t of list) if (!t.cancelled) (t.fn as (arg: unknown) => void)(t.arg);
    }
    if (this.heap.length > 0) this.arm(this.heap[0] as number);
  };

  private push(slot: number): void {
    const h = this.heap;
    let i = h.push(slot) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((h[parent] as number) <= slot) break;
      h[i] = h[parent] as number;
      i = parent;
    }
    h[i] = slot;
  }

  private pop(): number {
    const h = this.heap;
    const top = h[0] as number;
    const last = h.pop() as number;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && (h[r] as number) < (h[l] as number) ? r : l;
        if ((h[c] as number) >= last) break;
        h[i] = h[c] as number;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
