// Network namespaces for tests. Names carry the creating process's pid
// (lvsha-<pid>-<n>-<label>; <n> is <thread>_<n> in a worker thread) so
// suites of several packages can run at once, and so a later run can
// recognise and remove what a killed run left behind.
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { LabError } from './errors.js';
import {
  type BackgroundProcess,
  type ExecOptions,
  type ExecResult,
  hostRunner,
  type Runner,
  spawnLocal,
} from './runner.js';

/** Every namespace the lab creates starts with this. */
export const NETNS_PREFIX = 'lvsha-';

let counter = 0;
const live = new Set<Netns>();

export interface NetnsCreateOptions {
  /** Where to create it: this machine (default) or a booted Guest. */
  runner?: Runner;
}

export class Netns {
  readonly name: string;
  readonly runner: Runner;
  #destroyed = false;

  private constructor(name: string, runner: Runner) {
    this.name = name;
    this.runner = runner;
  }

  /**
   * Creates a namespace named lvsha-<pid>-<n>-<label>, with `lo` up.
   * Labels are limited to [a-z0-9_] so names stay safe in shell commands.
   */
  static async create(label = 'ns', opts: NetnsCreateOptions = {}): Promise<Netns> {
    const [ns] = await Netns.createMany([label], opts);
    return ns!;
  }

  /**
   * Creates several namespaces with one command (each command costs a
   * process start, which is slow inside a TCG guest).
   */
  static async createMany(labels: readonly string[], opts: NetnsCreateOptions = {}): Promise<Netns[]> {
    for (const label of labels) {
      if (!/^[A-Za-z0-9_]{1,24}$/.test(label)) {
        throw new LabError('INVALID_ARGUMENT', `netns label "${label}" must be 1-24 characters [A-Za-z0-9_]`);
      }
    }
    const runner = opts.runner ?? hostRunner;
    const list = labels.map((label) => {
      counter += 1;
      // Worker threads share the pid: their id keeps names unique under vitest's threads pool.
      const n = threadId ? `${threadId}_${counter}` : String(counter);
      const ns = new Netns(`${NETNS_PREFIX}${process.pid}-${n}-${label}`, runner);
      live.add(ns);
      return ns;
    });
    const script = list
      .map((ns) => `ip netns add ${ns.name} && ip -n ${ns.name} link set lo up`)
      .join(' && ');
    try {
      await runner.exec(['sh', '-c', script], { check: true });
    } catch (e) {
      await destroyNetns(list);
      throw e;
    }
    return list;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  #alive(): void {
    if (this.#destroyed) throw new LabError('DESTROYED', `netns ${this.name} was destroyed`);
  }

  /** Runs argv inside the namespace (`ip netns exec`) and returns its output and exit code. */
  async exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.#alive();
    return this.runner.exec(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Runs a shell script inside the namespace; throws on a non-zero exit unless check is false. */
  sh(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', script], { check: true, ...opts });
  }

  /** `ip -n <ns> ...`, throwing on failure. */
  async ip(args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.#alive();
    return this.runner.exec(['ip', '-n', this.name, ...args], { check: true, ...opts });
  }

  /**
   * Starts argv inside the namespace and returns the child process (this
   * machine only; inside a guest use start()).
   */
  spawn(argv: readonly string[], opts?: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'>): ChildProcess {
    this.#alive();
    if (this.runner.where !== 'host') {
      throw new LabError(
        'NOT_SUPPORTED',
        'Netns.spawn() is for namespaces on this machine; use start() in a guest',
      );
    }
    return spawnLocal(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Starts a long-running command inside the namespace, on this machine or in the guest. */
  async start(
    argv: readonly string[],
    opts?: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'>,
  ): Promise<BackgroundProcess> {
    this.#alive();
    return this.runner.start(['ip', 'netns', 'exec', this.name, ...argv], opts);
  }

  /** Adds an address (CIDR, e.g. 192.0.2.10/24) to an interface. */
  async addAddress(ifname: string, cidr: string, extra: readonly string[] = []): Promise<void> {
    await this.ip(['addr', 'add', cidr, 'dev', ifname, ...extra]);
  }

  async delAddress(ifname: string, cidr: string): Promise<void> {
    await this.ip(['addr', 'del', cidr, 'dev', ifname]);
  }

  async linkUp(ifname: string): Promise<void> {
    await this.ip(['link', 'set', ifname, 'up']);
  }

  async linkDown(ifname: string): Promise<void> {
    await this.ip(['link', 'set', ifname, 'down']);
  }

  /** Sets a sysctl inside the namespace, e.g. sysctl('net.ipv4.ip_forward', '1'). */
  async sysctl(key: string, value: string): Promise<void> {
    await this.exec(['sysctl', '-q', '-w', `${key}=${value}`], { check: true });
  }

  /** Pids of the processes running in the namespace. */
  async pids(): Promise<number[]> {
    if (this.#destroyed) return [];
    const r = await this.runner.exec(['ip', 'netns', 'pids', this.name]);
    return r.stdout
      .split(/\s+/)
      .filter(Boolean)
      .map((s) => Number(s));
  }

  /** Kills every process in the namespace (SIGKILL by default). Returns how many were signalled. */
  async killAll(signal: 'KILL' | 'TERM' = 'KILL'): Promise<number> {
    const pids = await this.pids();
    if (pids.length > 0) await this.runner.exec(['kill', `-${signal}`, ...pids.map(String)]);
    return pids.length;
  }

  /** Kills the namespace's processes and deletes it (and with it its veth ends). Idempotent. */
  async destroy(): Promise<void> {
    await destroyNetns([this]);
  }

  /** @internal marks the namespace destroyed; true when it was alive. */
  _markDestroyed(): boolean {
    if (this.#destroyed) return false;
    this.#destroyed = true;
    live.delete(this);
    return true;
  }
}

/** Destroys namespaces (killing their processes first) with one command per runner. Idempotent. */
export async function destroyNetns(list: readonly Netns[]): Promise<void> {
  const byRunner = new Map<Runner, Netns[]>();
  for (const ns of list) {
    if (!ns._markDestroyed()) continue;
    byRunner.set(ns.runner, [...(byRunner.get(ns.runner) ?? []), ns]);
  }
  for (const [runner, group] of byRunner) {
    const script = group
      .map(
        (ns) =>
          `p=$(ip netns pids ${ns.name} 2>/dev/null); [ -z "$p" ] || kill -KILL $p; ip netns del ${ns.name} 2>/dev/null`,
      )
      .join('; ');
    try {
      await runner.exec(['sh', '-c', `${script}; true`]);
    } catch {
      // The guest may already be gone (its namespaces with it); on the host the exit handler retries.
      if (runner.where === 'host') for (const ns of group) removeNetnsSync(ns.name);
    }
  }
}

/** Connects two namespaces (null = the runner's root namespace) with a veth pair, both ends up. */
export async function veth(a: Netns | null, ifA: string, b: Netns | null, ifB: string): Promise<void> {
  const runner = a?.runner ?? b?.runner ?? hostRunner;
  for (const n of [ifA, ifB]) {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n)) {
      throw new LabError('INVALID_ARGUMENT', `interface name "${n}" must be 1-15 characters [A-Za-z0-9_.-]`);
    }
  }
  const args = ['ip', 'link', 'add', 'name', ifA];
  if (a) args.push('netns', a.name);
  args.push('type', 'veth', 'peer', 'name', ifB);
  if (b) args.push('netns', b.name);
  await runner.exec(args, { check: true });
  await (a ? a.linkUp(ifA) : runner.exec(['ip', 'link', 'set', ifA, 'up'], { check: true }));
  await (b ? b.linkUp(ifB) : runner.exec(['ip', 'link', 'set', ifB, 'up'], { check: true }));
}

/** Creates a bridge inside a namespace, enslaves the given interfaces and brings all of them up. */
export async function bridge(ns: Netns, name: string, members: readonly string[] = []): Promise<void> {
  await ns.ip(['link', 'add', 'name', name, 'type', 'bridge']);
  // No STP and no forwarding delay: a test's segment must pass frames at once.
  await ns.ip(['link', 'set', name, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
  await ns.linkUp(name);
  for (const m of members) {
    await ns.ip(['link', 'set', m, 'master', name]);
    await ns.linkUp(m);
  }
}

/** Destroys every namespace this process created that is still alive. */
export async function destroyAllNetns(): Promise<void> {
  await destroyNetns([...live]);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes lab namespaces on this machine left by runs that were killed
 * (their pid is gone), killing any processes still inside. Returns their names.
 */
export function cleanupStaleNetns(): string[] {
  let names: string[];
  try {
    names = readdirSync('/run/netns');
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = /^lvsha-(\d+)-/.exec(name);
    if (!m || pidAlive(Number(m[1])) || Number(m[1]) === process.pid) continue;
    removeNetnsSync(name);
    removed.push(name);
  }
  // Apache's directories (config, logs) of those runs, named /tmp/lvsha-apache-<pid>-*.
  try {
    for (const name of readdirSync(tmpdir())) {
      const m = /^lvsha-apache-(\d+)-/.exec(name);
      if (m && !pidAlive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  } catch {
    // nothing to clean
  }
  return removed;
}

function removeNetnsSync(name: string): void {
  const r = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' });
  const pids = (r.stdout ?? '').split(/\s+/).filter(Boolean);
  if (pids.length > 0) spawnSync('kill', ['-KILL', ...pids]);
  spawnSync('ip', ['netns', 'del', name]);
}

// Last resort when a test forgot to tear down or threw past its afterAll:
// remove this process's namespaces on this machine synchronously at exit.
process.once('exit', () => {
  for (const ns of live) {
    if (ns.runner.where === 'host') removeNetnsSync(ns.name);
  }
});
