// Debian's own systemd, as PID 1 of new PID, mount, UTS and cgroup
// namespaces (optionally inside a network namespace), for tests of a unit
// under a real service manager on a machine whose PID 1 is not systemd:
//
// - its own cgroup2 subtree (a cgroup namespace rooted in a directory made
//   for it), so it manages nothing of the host's;
// - a private mount namespace: a tmpfs on /run, and on the unit directories
//   only what the test installs plus empty stub targets (sysinit.target and
//   friends), no generators: nothing of the host's units (tmpfiles, udev,
//   sysctl…) ever starts;
// - container=lvs-ha-test, so systemd takes itself for a container's init
//   (no kernel modules, no clock, no hostname but the one given);
// - its log (debug, with times) on a pty that script(1) copies to a file:
//   in a container systemd logs to /dev/console, bound here to that pty.
//   "Got notification message from PID N (READY=1, …)" lines are what the
//   manager received.
//
// systemctl runs inside its mount and PID namespaces (nsenter), as on a
// machine booted with it. shutdown() SIGKILLs it, which ends every process
// of its PID namespace, and removes its cgroups.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ExecResult, hostRunner } from '@lvs-ha/lab';

const SYSTEMD = '/lib/systemd/systemd';
const STUB_TARGETS = [
  'sysinit',
  'basic',
  'shutdown',
  'network',
  'network-pre',
  'network-online',
  'multi-user',
  'sockets',
  'timers',
  'paths',
  'slices',
  'local-fs',
  'remote-fs',
];

/** The cgroup2 hierarchy systemd's subtree goes in: the unified mount (hybrid hosts) or the root (cgroup2 hosts). */
function cgroup2Root(): string | undefined {
  for (const d of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'])
    if (existsSync(join(d, 'cgroup.controllers'))) return d;
  return undefined;
}

/** Why systemd cannot run as PID 1 here, or undefined when it can. */
export function systemdPid1Missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(SYSTEMD)) return `no ${SYSTEMD} (apt-get install systemd)`;
  for (const tool of ['/usr/bin/script', '/usr/bin/unshare', '/usr/bin/nsenter', '/usr/bin/systemctl'])
    if (!existsSync(tool)) return `no ${tool} (util-linux, systemd)`;
  if (!cgroup2Root()) return 'no cgroup2 hierarchy under /sys/fs/cgroup';
  return undefined;
}

let counter = 0;

export interface SystemdPid1Options {
  /** A network namespace under /run/netns to run in (its services then see only its interfaces). */
  netns?: string;
  /** The hostname inside (what a node without --node takes for its name). */
  hostname: string;
  /** Where its files go (unit directories, the log): must not be under /tmp if units use PrivateTmp. */
  baseDir: string;
}

export class SystemdPid1 {
  /** systemd's pid, as this machine sees it. */
  readonly pid: number;
  readonly dir: string;
  readonly #cgroup: string;
  readonly #script: ReturnType<typeof spawn>;

  private constructor(pid: number, dir: string, cgroup: string, script: ReturnType<typeof spawn>) {
    this.pid = pid;
    this.dir = dir;
    this.#cgroup = cgroup;
    this.#script = script;
  }

  static async boot(o: SystemdPid1Options): Promise<SystemdPid1> {
    const missing = systemdPid1Missing();
    if (missing) throw new Error(`systemd cannot run as PID 1 here: ${missing}`);
    const dir = mkdtempSync(join(o.baseDir, 'systemd-'));
    for (const d of ['units', 'etc', 'empty']) mkdirSync(join(dir, d));
    for (const t of STUB_TARGETS)
      writeFileSync(join(dir, 'units', `${t}.target`), `[Unit]\nDescription=${t} (stub)\n`);
    writeFileSync(join(dir, 'units', 'lvs-ha-test.target'), '[Unit]\nDescription=the test\n');
    writeFileSync(join(dir, 'hostname'), `${o.hostname}\n`);
    writeFileSync(join(dir, 'console.log'), '');
    counter += 1;
    const cgroup = join(cgroup2Root() as string, `lvs-ha-test-systemd-${process.pid}-${counter}`);
    const inner = [
      'set -e',
      'mount -t tmpfs tmpfs /run',
      'mount -t cgroup2 cgroup2 /sys/fs/cgroup',
      `mount --bind ${dir}/units /usr/lib/systemd/system`,
      `mount --bind ${dir}/etc /etc/systemd/system`,
      `mount --bind ${dir}/empty /usr/lib/systemd/system-generators`,
      `mount --bind ${dir}/hostname /etc/hostname`,
      'mount --bind "$(tty)" /dev/console',
      `exec env -i container=lvs-ha-test SYSTEMD_COLORS=0 PATH=/usr/sbin:/usr/bin:/sbin:/bin ${SYSTEMD} --unit=lvs-ha-test.target --log-target=console --log-level=debug --log-time=yes`,
    ].join('\n');
    writeFileSync(join(dir, 'inner.sh'), inner);
    const enter = o.netns ? `nsenter --net=/run/netns/${o.netns} ` : '';
    const outer = [
      'set -e',
      `mkdir ${cgroup}`,
      `echo $$ > ${cgroup}/cgroup.procs`,
      `exec script -q -f -e -c "${enter}unshare --pid --fork --mount --uts --cgroup --mount-proc sh ${dir}/inner.sh" ${dir}/console.log`,
    ].join('\n');
    writeFileSync(join(dir, 'outer.sh'), outer);
    const script = spawn('sh', [join(dir, 'outer.sh')], { stdio: 'ignore', detached: true });
    // systemd is the one process in the new cgroup's init.scope once it runs
    const t0 = Date.now();
    for (;;) {
      const procs = existsSync(join(cgroup, 'init.scope', 'cgroup.procs'))
        ? readFileSync(join(cgroup, 'init.scope', 'cgroup.procs'), 'utf8').trim()
        : '';
      const pid = Number(procs.split('\n')[0]);
      if (pid > 0 && existsSync(`/proc/${pid}`)) {
        const sd = new SystemdPid1(pid, dir, cgroup, script);
        // up when its private bus answers
        for (;;) {
          const r = await sd.systemctl(['is-system-running']).catch(() => undefined);
          if (r && /running|degraded/.test(r.stdout)) return sd;
          if (Date.now() - t0 > 30_000) {
            await sd.shutdown();
            throw new Error(`systemd did not come up in 30 s:\n${sd.log().slice(-3000)}`);
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (Date.now() - t0 > 30_000 || script.exitCode !== null) {
        script.kill('SIGKILL');
        const log = existsSync(join(dir, 'console.log'))
          ? readFileSync(join(dir, 'console.log'), 'utf8')
          : '';
        throw new Error(`systemd did not start as PID 1:\n${log.slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A path inside its mount namespace, as this machine reaches it. */
  hostPath(path: string): string {
    return `/proc/${this.pid}/root${path}`;
  }

  /** systemctl inside, as on a machine booted with this systemd. */
  systemctl(
    args: readonly string[],
    opts: { check?: boolean; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    return hostRunner.exec(['nsenter', '-t', String(this.pid), '-m', '-p', 'systemctl', ...args], {
      timeoutMs: 60_000,
      ...opts,
    });
  }

  /** `systemctl show UNIT -p …` as an object. */
  async show(unit: string, props: readonly string[]): Promise<Record<string, string>> {
    const r = await this.systemctl(['show', unit, ...props.flatMap((p) => ['-p', p])], { check: true });
    return Object.fromEntries(
      r.stdout
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  /** Installs a unit file (its /etc/systemd/system) or a drop-in (name "UNIT.d/X.conf"). */
  install(name: string, text: string): void {
    const path = join(this.dir, 'etc', name);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text);
  }

  /** What systemd logged so far. */
  log(): string {
    // a pty's line ends, and no colours (SYSTEMD_COLORS=0; stripped all the same)
    return readFileSync(join(this.dir, 'console.log'), 'utf8')
      .replace(/\x1b\[[0-9;]*m/g, '')
      .replace(/\r+\n/g, '\n');
  }

  /** The notifications systemd received for `unit`: the sender's pid and the fields, in order. */
  notifications(unit: string): { pid: number; fields: string[] }[] {
    const re = new RegExp(
      `${unit.replace(/\./g, '\\.')}: Got notification message from PID (\\d+) \\((.*)\\)$`,
    );
    return this.log()
      .split('\n')
      .flatMap((l) => {
        const m = re.exec(l);
        return m ? [{ pid: Number(m[1]), fields: (m[2] as string).split(', ') }] : [];
      });
  }

  /** SIGKILL to systemd ends its PID namespace; then its cgroups and files go. */
  async shutdown(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // gone already
    }
    const t0 = Date.now();
    while (existsSync(`/proc/${this.pid}`) && Date.now() - t0 < 10_000)
      await new Promise((r) => setTimeout(r, 50));
    if (this.#script.exitCode === null && this.#script.signalCode === null) {
      const exited = new Promise((r) => this.#script.once('exit', r));
      this.#script.kill('SIGKILL');
      await exited;
    }
    // leaves first: a cgroup can be removed once it is empty and has no children
    await hostRunner.exec([
      'sh',
      '-c',
      `[ -d ${this.#cgroup} ] && find ${this.#cgroup} -depth -type d -exec rmdir {} + ; true`,
    ]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
