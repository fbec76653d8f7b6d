// Every IPv4 address of a director's namespace, event-driven: one long-lived
// `ip -n NS -ts monitor address` per namespace (the kernel's RTM_NEWADDR /
// RTM_DELADDR as they happen, each stamped by ip when it read it), after an
// initial `ip -j addr` dump. A marker address on lo, added once the monitor
// runs, tells when the monitor is subscribed, so the dump cannot miss a change
// made between the two. check() compares the monitor's picture with a fresh
// dump (the harness does so whenever it checks that a fault settled), so a
// monitor that lost an event is noticed instead of trusted.
//
// ip stamps an event when it reads it, so a monitor that the scheduler runs
// late stamps late: on a loaded machine load1's "Deleted" could be stamped
// after load2's add that it caused (release → shutdone → the peer's add takes
// a few ms), a split brain that never was. Each monitor therefore runs at
// real-time priority (SCHED_FIFO, `chrt -f`), woken the moment the kernel
// queues the message, ahead of every director, test and CI process.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Netns } from '@lvs-ha/lab';
import type { AddressEvent } from './timeline.js';

/** Added to lo (scope host, no traffic) once to see that the monitor is subscribed. */
const MARKER = '192.0.2.254';

/** `[2026-12-02T16:28:26.476142]` (ip -ts, local time) → ms since the epoch, with the microseconds. */
export function parseIpTimestamp(ts: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(ts);
  if (!m) return Number.NaN;
  const frac = m[2] ?? '0';
  return new Date(m[1] as string).getTime() + Number(`0.${frac}`) * 1000;
}

/** One line of `ip -ts monitor address` → the change, or undefined for continuation lines and IPv6. */
export function parseMonitorLine(
  line: string,
): { t: number; ifname: string; address: string; present: boolean } | undefined {
  const m = /^\[([^\]]+)\]\s+(Deleted\s+)?\d+:\s+(\S+)\s+inet\s+([\d.]+)\/\d+/.exec(line);
  if (!m) return undefined;
  return {
    t: parseIpTimestamp(m[1] as string),
    ifname: m[3] as string,
    address: m[4] as string,
    present: !m[2],
  };
}

/** IPv4 addresses of a namespace (`ip -j addr`), as "ifname address". */
export async function dumpAddresses(ns: Netns): Promise<Set<string>> {
  const r = await ns.ip(['-j', '-4', 'addr']);
  const links = JSON.parse(r.stdout) as { ifname: string; addr_info: { family: string; local: string }[] }[];
  const set = new Set<string>();
  for (const l of links)
    for (const a of l.addr_info) if (a.family === 'inet') set.add(`${l.ifname} ${a.local}`);
  return set;
}

/** `chrt -f 90` where the machine allows SCHED_FIFO (root, and no cgroup that forbids it), else nothing. */
let realtime: string[] | undefined;
export function realtimePrefix(): string[] {
  realtime ??= spawnSync('chrt', ['-f', '90', 'true']).status === 0 ? ['chrt', '-f', '90'] : [];
  return realtime;
}

export class AddressWatcher {
  /** changes of the addresses this watcher was asked about, in the order ip printed them */
  readonly events: AddressEvent[] = [];
  readonly #now = new Set<string>();
  #child: ChildProcess | undefined;
  #markerSeen: (() => void) | undefined;
  #exited = false;
  #stderr = '';

  private constructor(
    readonly ns: Netns,
    readonly director: string,
    readonly addresses: readonly string[],
  ) {}

  static async start(ns: Netns, director: string, addresses: readonly string[]): Promise<AddressWatcher> {
    const w = new AddressWatcher(ns, director, addresses);
    await w.#start();
    return w;
  }

  /** pid of the ip process (it lives in the director's namespace: never kill it with the node). */
  get pid(): number {
    return this.#child?.pid ?? -1;
  }

  async #start(): Promise<void> {
    const [cmd, ...args] = [...realtimePrefix(), 'ip', '-n', this.ns.name, '-ts', 'monitor', 'address'];
    const child = spawn(cmd as string, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stderr?.on('data', (b: Buffer) => {
      this.#stderr += b.toString();
    });
    child.once('exit', () => {
      this.#exited = true;
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => this.#line(line));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    // the marker: add it until the monitor prints it (the monitor may not be subscribed yet)
    const seen = new Promise<void>((resolve) => {
      this.#markerSeen = resolve;
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      await this.ns.ip(['addr', 'replace', `${MARKER}/32`, 'dev', 'lo', 'scope', 'host']);
      const ok = await Promise.race([seen.then(() => true), sleep(100).then(() => false)]);
      if (ok) break;
      await this.ns.ip(['addr', 'del', `${MARKER}/32`, 'dev', 'lo']).catch(() => undefined);
      if (Date.now() > deadline)
        throw new Error(`ip monitor in ${this.ns.name} printed nothing: ${this.#stderr}`);
    }
    await this.ns.ip(['addr', 'del', `${MARKER}/32`, 'dev', 'lo']);
    // now every change is printed: the dump gives where things start
    const t = Date.now();
    for (const key of await dumpAddresses(this.ns)) {
      const address = key.split(' ')[1] as string;
      if (!this.addresses.includes(address) || this.#now.has(key)) continue;
      this.#now.add(key);
      this.events.push({ t, director: this.director, address, present: true });
    }
  }

  #line(line: string): void {
    const c = parseMonitorLine(line);
    if (!c) return;
    if (c.address === MARKER) {
      this.#markerSeen?.();
      return;
    }
    if (!this.addresses.includes(c.address)) return;
    const key = `${c.ifname} ${c.address}`;
    const before = this.has(c.address);
    if (c.present) this.#now.add(key);
    else this.#now.delete(key);
    const after = this.has(c.address);
    if (before !== after)
      this.events.push({
        t: Number.isNaN(c.t) ? Date.now() : c.t,
        director: this.director,
        address: c.address,
        present: after,
      });
  }

  /** Whether the director has the address on any interface, as the monitor says now. */
  has(address: string): boolean {
    for (const k of this.#now) if (k.endsWith(` ${address}`)) return true;
    return false;
  }

  /** Which of the watched addresses it has now. */
  held(): string[] {
    return this.addresses.filter((a) => this.has(a));
  }

  /**
   * The monitor's picture against a fresh dump (twice, 300 ms apart, so an
   * event still in the pipe does not count): undefined when they agree, else
   * what differs.
   */
  async check(): Promise<string | undefined> {
    if (this.#exited) return `ip monitor in ${this.ns.name} exited: ${this.#stderr}`;
    let diff = '';
    for (let attempt = 0; attempt < 2; attempt++) {
      const dump = await dumpAddresses(this.ns);
      const want = [...dump].filter((k) => this.addresses.includes(k.split(' ')[1] as string)).sort();
      const got = [...this.#now].sort();
      if (JSON.stringify(want) === JSON.stringify(got)) return undefined;
      diff = `${this.director}: the dump says [${want.join(', ')}], the monitor [${got.join(', ')}]`;
      await sleep(300);
    }
    return diff;
  }

  stop(): void {
    this.#child?.kill('SIGKILL');
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
