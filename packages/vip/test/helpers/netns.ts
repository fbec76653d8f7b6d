// Minimal network-namespace helpers for this package's tests, used until
// @lvs-ha/lab's Netns lands: `ip netns add`, veth pairs, and teardown.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe } from 'vitest';

const run = promisify(execFile);
let counter = 0;

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Why namespace tests cannot run here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_SYS_ADMIN)';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip'))
    return 'iproute2 (ip) missing';
  const probe = `vipprobe${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
  return undefined;
}

const reason = await netnsUnavailable();

/** describe() that runs only where namespaces work, printing why otherwise. */
export function describeWithNetns(name: string, fn: () => void): void {
  if (reason) {
    console.warn(`[skip] ${name}: ${reason}`);
    describe.skip(name, fn);
  } else describe(name, fn);
}

export class Netns {
  private constructor(readonly name: string) {}

  static async create(prefix = 'vip'): Promise<Netns> {
    const name = `${prefix}${process.pid}x${counter++}`;
    await run('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.sh('ip link set lo up');
    return ns;
  }

  /** Runs argv inside the namespace; never throws, returns the exit code. */
  async exec(argv: string[]): Promise<ExecResult> {
    try {
      const { stdout, stderr } = await run('ip', ['netns', 'exec', this.name, ...argv], {
        maxBuffer: 64 << 20,
      });
      return { stdout, stderr, code: 0 };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      return {
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? '',
        code: typeof err.code === 'number' ? err.code : 1,
      };
    }
  }

  /** Runs a shell line inside the namespace and throws when it fails. */
  async sh(line: string): Promise<string> {
    const r = await this.exec(['sh', '-c', line]);
    if (r.code !== 0) throw new Error(`[${this.name}] ${line}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  spawn(argv: string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', this.name, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async destroy(): Promise<void> {
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}

/** A veth pair between two namespaces, both ends up, with fixed MACs. */
export async function veth(a: Netns, ifA: string, macA: string, b: Netns, ifB: string, macB: string) {
  await run('ip', [
    'link',
    'add',
    ifA,
    'netns',
    a.name,
    'address',
    macA,
    'type',
    'veth',
    'peer',
    'name',
    ifB,
    'netns',
    b.name,
    'address',
    macB,
  ]);
  await a.sh(`ip link set ${ifA} up`);
  await b.sh(`ip link set ${ifB} up`);
}
