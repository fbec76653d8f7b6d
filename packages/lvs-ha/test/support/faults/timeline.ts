// The invariant, read from outside: when each director had each VIP on an
// interface (from `ip monitor address`), and when each director was live (from
// what the test did to it). Pure: events in, moments out, so the reading of
// the invariant can itself be tested on made-up timelines.
//
// "Live" is the test's word for a director whose process runs, is not
// stopped (SIGSTOP) and whose links are up. It stops being live at the
// instant the test kills, stops or cuts it (or when its process exits by
// itself) and becomes live again a grace after the test starts, continues or
// reconnects it (see LIVE_GRACE in config.ts).

/** A director had (present) or stopped having an address, at t (ms since the epoch, fractional). */
export interface AddressEvent {
  t: number;
  director: string;
  address: string;
  present: boolean;
}

/** A span of time [from, to) during which a director was live; to undefined = still live. */
export interface LiveSpan {
  from: number;
  to?: number;
}

/** A span of time during which something held (split brain, outage). */
export interface Span {
  from: number;
  to: number;
}

export interface VipReport {
  vip: string;
  /** moments two live directors had the VIP at once (must be none) */
  splitBrain: (Span & { holders: string[] })[];
  /** spans during which at least one director was live and no live director had the VIP */
  outage: Span[];
  outageMs: number;
}

/** Who is live, per director, as the test made them. */
export class Liveness {
  readonly #spans = new Map<string, LiveSpan[]>();
  /** why each span began/ended, for the report */
  readonly notes: { t: number; director: string; note: string }[] = [];

  constructor(directors: readonly string[]) {
    for (const d of directors) this.#spans.set(d, []);
  }

  /** From `t` on the director is not live. */
  down(director: string, t: number, note: string): void {
    const spans = this.#list(director);
    const last = spans[spans.length - 1];
    if (last && last.to === undefined) {
      // a span that had not begun yet (still in its grace) never happened
      if (last.from >= t) spans.pop();
      else last.to = t;
    }
    this.notes.push({ t, director, note: `down: ${note}` });
  }

  /** The director is live from `from` on (the caller adds the grace). */
  up(director: string, from: number, note: string): void {
    const spans = this.#list(director);
    const last = spans[spans.length - 1];
    if (last && last.to === undefined) {
      // already live or about to be: keep the earlier start
      last.from = Math.min(last.from, from);
    } else spans.push({ from });
    this.notes.push({ t: from, director, note: `up: ${note}` });
  }

  spans(director: string): readonly LiveSpan[] {
    return this.#list(director);
  }

  isLive(director: string, t: number): boolean {
    return this.#list(director).some((s) => s.from <= t && (s.to === undefined || t < s.to));
  }

  directors(): string[] {
    return [...this.#spans.keys()];
  }

  #list(director: string): LiveSpan[] {
    const l = this.#spans.get(director);
    if (!l) throw new Error(`unknown director ${director}`);
    return l;
  }
}

/**
 * Where each address was on each director just before `from`, then every
 * change in [from, to): the sweep reads split-brain moments and outages
 * from it.
 */
export function vipReport(
  vip: string,
  events: readonly AddressEvent[],
  live: Liveness,
  from: number,
  to: number,
): VipReport {
  const directors = live.directors();
  const has = new Map<string, boolean>(directors.map((d) => [d, false]));
  const mine = events.filter((e) => e.address === vip).sort((a, b) => a.t - b.t);
  for (const e of mine) if (e.t < from) has.set(e.director, e.present);
  // every instant at which something may change within the window
  const times = new Set<number>([from]);
  for (const e of mine) if (e.t >= from && e.t < to) times.add(e.t);
  for (const d of directors)
    for (const s of live.spans(d)) {
      if (s.from > from && s.from < to) times.add(s.from);
      if (s.to !== undefined && s.to > from && s.to < to) times.add(s.to);
    }
  const sorted = [...times].sort((a, b) => a - b);
  const report: VipReport = { vip, splitBrain: [], outage: [], outageMs: 0 };
  let i = 0;
  let openSplit: (Span & { holders: string[] }) | undefined;
  let openOutage: Span | undefined;
  for (const [k, t] of sorted.entries()) {
    while (i < mine.length && (mine[i] as AddressEvent).t <= t) {
      const e = mine[i] as AddressEvent;
      if (e.t >= from) has.set(e.director, e.present);
      i++;
    }
    const next = sorted[k + 1] ?? to;
    const liveNow = directors.filter((d) => live.isLive(d, t));
    const holders = liveNow.filter((d) => has.get(d));
    if (holders.length >= 2) {
      if (openSplit) openSplit.to = next;
      else {
        openSplit = { from: t, to: next, holders };
        report.splitBrain.push(openSplit);
      }
    } else openSplit = undefined;
    if (liveNow.length > 0 && holders.length === 0) {
      if (openOutage) openOutage.to = next;
      else {
        openOutage = { from: t, to: next };
        report.outage.push(openOutage);
      }
    } else openOutage = undefined;
  }
  report.outageMs = Math.round(report.outage.reduce((s, o) => s + (o.to - o.from), 0));
  return report;
}

/** Who has the address at t, live or not. */
export function holdersAt(vip: string, events: readonly AddressEvent[], t: number): string[] {
  const has = new Map<string, boolean>();
  for (const e of events) if (e.address === vip && e.t <= t) has.set(e.director, e.present);
  return [...has.entries()].filter(([, v]) => v).map(([d]) => d);
}

/** One line for a report. */
export function describeVipReport(r: VipReport, t0: number): string {
  const at = (t: number) => `${((t - t0) / 1000).toFixed(2)} s`;
  const sb = r.splitBrain.map((s) => `${s.holders.join('+')} ${at(s.from)}–${at(s.to)}`).join(', ');
  return `${r.vip}: split-brain moments ${r.splitBrain.length}${sb ? ` (${sb})` : ''}, outage ${r.outageMs} ms`;
}
