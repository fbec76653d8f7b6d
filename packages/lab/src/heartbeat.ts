// Runs Debian's real Heartbeat 3.0.6 as one cluster node inside a network
// namespace of the lab (the peer that hb-proto's and lvs-ha's tests talk to),
// on this machine or in the guest: everything goes through the namespace's
// runner. Heartbeat insists on fixed paths (/etc/ha.d, /var/lib/heartbeat,
// /run, /var/log) and takes its node name from uname, so each node also gets
// its own mount and UTS namespace with temporary directories bind-mounted
// over those paths and hostname = node name.
import type { Netns } from './netns.js';
import type { BackgroundProcess } from './runner.js';
import { until } from './until.js';

/** Where Debian's heartbeat package puts the daemon. */
export const HEARTBEAT_DAEMON = '/usr/libexec/heartbeat/heartbeat';

export interface RealHeartbeatOptions {
  ns: Netns;
  /** node name (Heartbeat lower-cases it; give it lower-case) */
  name: string;
  haCf: string;
  authkeys: string;
  haresources?: string;
  /** More files for its /etc/ha.d, by name (e.g. ldirectord.cf). */
  files?: Record<string, string>;
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
  /** Its private copies of /etc/ha.d (etc), /var/lib/heartbeat (lib), /run (run), /var/log (log), as the runner sees them. */
  readonly dir: string;
  readonly process: BackgroundProcess;

  private constructor(ns: Netns, name: string, dir: string, process: BackgroundProcess) {
    this.ns = ns;
    this.name = name;
    this.dir = dir;
    this.process = process;
  }

  static async start(opts: RealHeartbeatOptions): Promise<RealHeartbeat> {
    const runner = opts.ns.runner;
    const dir = (
      await runner.exec(['mktemp', '-d', `/tmp/lvsha-heartbeat-${opts.name}-XXXXXX`], { check: true })
    ).stdout.trim();
    // cp -a keeps the owners the package gives (hacluster:haclient) that the
    // daemon checks; /run/heartbeat and /run/resource-agents are made as
    // their packages' tmpfiles.d say.
    await runner.exec(
      [
        'sh',
        '-c',
        [
          'set -e',
          'cp -a /etc/ha.d "$1/etc"',
          'cp -a /var/lib/heartbeat "$1/lib"',
          'mkdir -p "$1/log"',
          'install -d -m 0755 "$1/run"',
          'install -d -o hacluster -g haclient -m 0750 "$1/run/heartbeat" "$1/run/heartbeat/ccm" "$1/run/heartbeat/crm" "$1/run/heartbeat/dopd" "$1/run/crm"',
          // resource-agents' tmpfiles.d: IPaddr keeps its interface locks there
          'install -d -m 1755 "$1/run/resource-agents"',
        ].join('\n'),
        'sh',
        dir,
      ],
      { check: true },
    );
    const files: [string, string, number][] = [
      ['ha.cf', opts.haCf, 0o644],
      ['authkeys', opts.authkeys, 0o600],
      ['haresources', opts.haresources ?? '', 0o644],
      ...Object.entries(opts.files ?? {}).map(([n, c]): [string, string, number] => [n, c, 0o644]),
      ['resource.d/hbflag', flagScript('hbflag'), 0o755],
      ['resource.d/hbflagb', flagScript('hbflagb'), 0o755],
    ];
    for (const [name, content, mode] of files)
      await runner.exec(
        ['sh', '-c', 'cat > "$1" && chmod "$2" "$1"', 'sh', `${dir}/etc/${name}`, mode.toString(8)],
        {
          input: content,
          check: true,
        },
      );
    const script = [
      'set -e',
      'mount --make-rprivate /',
      `mount --bind ${dir}/etc /etc/ha.d`,
      `mount --bind ${dir}/run /run`,
      `mount --bind ${dir}/lib /var/lib/heartbeat`,
      `mount --bind ${dir}/log /var/log`,
      `hostname ${opts.name}`,
      `exec ${HEARTBEAT_DAEMON} -f`,
    ].join('\n');
    const process = await opts.ns.start(['unshare', '--mount', '--uts', 'sh', '-c', script]);
    return new RealHeartbeat(opts.ns, opts.name, dir, process);
  }

  /** pid of the Heartbeat master process (ip netns exec, unshare and sh all exec), as its runner sees it. */
  get pid(): number {
    return this.process.pid;
  }

  running(): Promise<boolean> {
    return this.process.running();
  }

  /** Runs a command in this node's namespaces (network, mount, UTS). */
  async inside(
    argv: readonly string[],
    timeoutMs = 20_000,
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    return this.ns.runner.exec(['nsenter', '-t', String(this.pid), '-m', '-u', '-n', ...argv], { timeoutMs });
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

  /** Its ha-log ('' before it wrote one). */
  async log(): Promise<string> {
    return this.#read('log/ha-log');
  }

  /** A flag resource's state file ('running', 'stopped' or '' if never run). */
  async flag(name = 'hbflag'): Promise<string> {
    return (await this.#read(`lib/${name}.state`)).trim();
  }

  async #read(path: string): Promise<string> {
    const r = await this.ns.runner.exec(['cat', `${this.dir}/${path}`]).catch(() => undefined);
    return r?.code === 0 ? r.stdout : '';
  }

  /** Stops the node: SIGKILL for a crash (every process of its namespace), SIGTERM for a clean shutdown. */
  async stop(how: 'crash' | 'shutdown' = 'crash', timeoutMs = 30_000): Promise<void> {
    if (how === 'crash') await this.ns.killAll('KILL');
    else if (await this.running()) {
      await this.ns.runner.exec(['kill', '-TERM', String(this.pid)]);
      const until = Date.now() + timeoutMs;
      while ((await this.running()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (await this.running()) await this.ns.killAll('KILL');
    }
    await until(`heartbeat ${this.name} exited`, async () => !(await this.running()), 10_000, {
      everyMs: 50,
    });
  }

  async cleanup(): Promise<void> {
    if (await this.running()) await this.stop('crash');
    await this.ns.runner.exec(['rm', '-rf', this.dir]).catch(() => undefined);
  }
}
