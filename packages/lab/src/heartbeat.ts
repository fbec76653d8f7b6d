// Runs Debian's real Heartbeat 3.0.6 as one cluster node inside a network
// namespace of the lab (the peer that hb-proto's and lvs-ha's tests talk to). Heartbeat insists on fixed paths (/etc/ha.d,
// /var/lib/heartbeat, /run, /var/log) and takes its node name from uname, so
// each node also gets its own mount and UTS namespace with temporary
// directories bind-mounted over those paths and hostname = node name.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Netns } from './netns.js';

const run = promisify(execFile);

/** Where Debian's heartbeat package puts the daemon. */
export const HEARTBEAT_DAEMON = '/usr/libexec/heartbeat/heartbeat';

export interface RealHeartbeatOptions {
  ns: Netns;
  /** node name (Heartbeat lower-cases it; give it lower-case) */
  name: string;
  haCf: string;
  authkeys: string;
  haresources?: string;
}

/**
 * Resource scripts for haresources (`hbflag`, `hbflagb`) that record
 * start/stop in /var/lib/heartbeat/<name>.state and answer `status`: cheap,
 * and they let a test see what Heartbeat really did.
 */
const flagScript = (name: string) => `#!/bin/sh
F=/var/lib/heartbeat/${name}.state
case "$1" in
  start) echo running > $F; echo "$(date +%s.%N) start" >> $F.log ;;
  stop) echo stopped > $F; echo "$(date +%s.%N) stop" >> $F.log ;;
  status) if [ "$(cat $F 2>/dev/null)" = running ]; then echo running; else echo stopped; fi ;;
esac
exit 0
`;

export class RealHeartbeat {
  readonly ns: Netns;
  readonly name: string;
  readonly dir: string;
  readonly child: ChildProcess;
  #exited: Promise<void>;

  private constructor(ns: Netns, name: string, dir: string, child: ChildProcess) {
    this.ns = ns;
    this.name = name;
    this.dir = dir;
    this.child = child;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    // Pipes must be drained or the daemon blocks on a full pipe.
    child.stdout?.resume();
    child.stderr?.resume();
  }

  static async start(opts: RealHeartbeatOptions): Promise<RealHeartbeat> {
    const dir = await mkdtemp(join(tmpdir(), `lvsha-heartbeat-${opts.name}-`));
    const etc = join(dir, 'etc');
    await mkdir(join(dir, 'run'), { recursive: true });
    await mkdir(join(dir, 'log'), { recursive: true });
    // cp -a keeps the owners the package gives (hacluster:haclient) that the daemon checks.
    await run('cp', ['-a', '/etc/ha.d', etc]);
    await run('cp', ['-a', '/var/lib/heartbeat', join(dir, 'lib')]);
    await run('cp', ['-a', '/run/heartbeat', join(dir, 'run')]).catch(() => undefined);
    await writeFile(join(etc, 'ha.cf'), opts.haCf);
    await writeFile(join(etc, 'authkeys'), opts.authkeys, { mode: 0o600 });
    await chmod(join(etc, 'authkeys'), 0o600);
    await writeFile(join(etc, 'haresources'), opts.haresources ?? '');
    for (const flag of ['hbflag', 'hbflagb']) {
      await writeFile(join(etc, 'resource.d', flag), flagScript(flag), { mode: 0o755 });
    }
    const script = [
      'set -e',
      'mount --make-rprivate /',
      `mount --bind ${etc} /etc/ha.d`,
      `mount --bind ${join(dir, 'run')} /run`,
      `mount --bind ${join(dir, 'lib')} /var/lib/heartbeat`,
      `mount --bind ${join(dir, 'log')} /var/log`,
      `hostname ${opts.name}`,
      `exec ${HEARTBEAT_DAEMON} -f`,
    ].join('\n');
    const child = opts.ns.spawn(['unshare', '--mount', '--uts', 'sh', '-c', script]);
    return new RealHeartbeat(opts.ns, opts.name, dir, child);
  }

  /** pid of the Heartbeat master process (ip netns exec, unshare and sh all exec). */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error('heartbeat did not start');
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Runs a command in this node's namespaces (network, mount, UTS). */
  async inside(
    argv: readonly string[],
    timeoutMs = 20_000,
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    try {
      const { stdout, stderr } = await run('nsenter', ['-t', String(this.pid), '-m', '-u', '-n', ...argv], {
        timeout: timeoutMs,
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

  /** `cl_status ARGS` as the real node sees it (trimmed stdout; its exit code says e.g. dead = 2, so not checked). */
  async clStatus(...args: string[]): Promise<string> {
    const r = await this.inside(['cl_status', ...args]);
    return r.stdout.trim();
  }

  /** Polls cl_status until it prints `want` (or until timeoutMs). Returns the last answer. */
  async waitStatus(
    args: string[],
    want: string | ((s: string) => boolean),
    timeoutMs: number,
  ): Promise<string> {
    const ok = typeof want === 'string' ? (s: string) => s === want : want;
    const until = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.clStatus(...args);
      if (ok(last) || Date.now() > until) return last;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async log(): Promise<string> {
    return readFile(join(this.dir, 'log', 'ha-log'), 'utf8').catch(() => '');
  }

  /** A flag resource's state file ('running', 'stopped' or '' if never run). */
  async flag(name = 'hbflag'): Promise<string> {
    return (await readFile(join(this.dir, 'lib', `${name}.state`), 'utf8').catch(() => '')).trim();
  }

  /** Stops the node: SIGKILL for a crash (every process of its namespace), SIGTERM for a clean shutdown. */
  async stop(how: 'crash' | 'shutdown' = 'crash', timeoutMs = 30_000): Promise<void> {
    if (how === 'crash') {
      await this.ns.killAll('KILL');
    } else if (this.running) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => void this.ns.killAll('KILL'), timeoutMs);
      await this.#exited;
      clearTimeout(t);
    }
    await this.#exited;
  }

  async cleanup(): Promise<void> {
    if (this.running) await this.stop('crash');
    await rm(this.dir, { recursive: true, force: true });
  }
}
