// A long-lived qemu guest running Debian's kernel (which has IPVS), with the
// host root shared read-only over virtio-9p so the host's Node, ipvsadm and
// node_modules run inside. The host talks to the agent in the guest over a
// virtio-serial port (one JSON line per request and per answer), so a test
// suite boots once and runs many steps. qemu never outlives us: it gets
// SIGKILL when we die (setpriv --pdeathsig), and an exit handler kills it too.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { capabilitiesSync, which } from './capabilities.js';
import { CommandFailedError, LabError } from './errors.js';
import { type GuestImage, guestCacheDir, prepareGuestImage } from './guest-image.js';
import { CONTROL_PORT_NAME, HOST_ROOT_TAG, SHARE_TAG } from './initramfs.js';
import {
  type BackgroundProcess,
  type ExecOptions,
  type ExecResult,
  hostRunner,
  type Runner,
} from './runner.js';

/**
 * The file URL of tsx's loader, for `node --import <it> file.ts` on this
 * machine or in the guest (which sees the same files), from any directory.
 */
export function tsxLoader(): string {
  try {
    const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
    return pathToFileURL(join(dirname(manifest), 'dist', 'loader.mjs')).href;
  } catch (e) {
    throw new LabError(
      'NOT_SUPPORTED',
      'tsx is not installed (a devDependency of @lvs-ha/lab: run pnpm install)',
      {
        cause: e,
      },
    );
  }
}

/** The agent the guest runs (plain JavaScript, shipped beside src/ and dist/). */
export const GUEST_AGENT_PATH = fileURLToPath(new URL('../agent/guest-agent.mjs', import.meta.url));

export interface GuestBootOptions {
  /** A prepared image (default: prepareGuestImage(), building it on first use). */
  image?: GuestImage;
  /**
   * Guest memory in MiB (default 2048: a pair tour runs two directors' Node
   * processes, two Apaches and the checks at once; qemu only takes what the
   * guest touches).
   */
  memoryMb?: number;
  /** Virtual CPUs (default 2). */
  cpus?: number;
  /**
   * 'auto' (default; or LVS_HA_GUEST_ACCEL): KVM where it really works, else
   * TCG. Nested KVM hangs or aborts on some machines, so the first boot on a
   * machine tries KVM once (up to KVM_PROBE_TIMEOUT_MS) and the verdict is
   * kept in the cache directory (kvm.json). 'tcg' or 'kvm' force one.
   */
  accel?: 'auto' | 'tcg' | 'kvm';
  /** Host directories to cover with a writable tmpfs inside the guest (besides /tmp, /run, /var/tmp, /var/log, /root). */
  tmpfs?: readonly string[];
  /** Give up booting after this long (default 180 s: TCG on a busy 2-core machine is slow). */
  bootTimeoutMs?: number;
  /** Progress lines (image build, boot time). */
  log?: (line: string) => void;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

const liveQemus = new Set<ChildProcess>();
process.once('exit', () => {
  for (const q of liveQemus) {
    try {
      q.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temporary directories (socket, console log, share) of guests whose booting process is gone. */
export function removeStaleGuestDirs(): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(tmpdir())) {
    const m = /^lvsha-guest-(\d+)-/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

/** What qemuArgs needs: the image, this boot's files, and the guest's size. */
export interface QemuOptions {
  image: GuestImage;
  socket: string;
  consoleLog: string;
  share: string;
  nodePath: string;
  agentPath: string;
  memoryMb: number;
  cpus: number;
  accel: 'tcg' | 'kvm';
  tmpfs: readonly string[];
  /** Host directories that stay visible although they lie under a tmpfs (see keptDirectories). */
  keep?: readonly string[];
}

/** Directories the guest covers with a writable tmpfs whatever the options say. */
export const GUEST_TMPFS = ['/tmp', '/run', '/var/tmp', '/var/log', '/root'] as const;

/**
 * The directories under a guest tmpfs that must stay visible: a project cloned
 * into /tmp or /root would otherwise vanish in the guest with its agent and
 * node_modules. For each path, the first directory below the covered one.
 */
export function keptDirectories(paths: readonly string[], tmpfs: readonly string[] = []): string[] {
  const covered = [...GUEST_TMPFS, ...tmpfs].map((d) => d.replace(/\/+$/, ''));
  const kept = new Set<string>();
  for (const p of paths) {
    for (const d of covered) {
      if (!p.startsWith(`${d}/`)) continue;
      const child = p.slice(d.length + 1).split('/')[0];
      if (child) kept.add(`${d}/${child}`);
    }
  }
  return [...kept];
}

/** How long a first KVM boot may take before KVM is judged not to work here. */
export const KVM_PROBE_TIMEOUT_MS = 20_000;

/** What a KVM probe found, kept per host kernel and qemu binary. */
export interface KvmVerdict {
  works: boolean;
  reason: string;
}

/**
 * Which accelerator to boot with: 'probe' means try KVM once and remember.
 * Pure: the request, whether /dev/kvm is usable, and a remembered verdict.
 */
export function chooseAccel(
  requested: 'auto' | 'tcg' | 'kvm',
  kvmUsable: boolean,
  verdict: KvmVerdict | undefined,
): 'tcg' | 'kvm' | 'probe' {
  if (requested !== 'auto') return requested;
  if (!kvmUsable) return 'tcg';
  if (verdict === undefined) return 'probe';
  return verdict.works ? 'kvm' : 'tcg';
}

function kvmAccessible(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function verdictKey(qemuBin: string): string {
  let qemu = qemuBin;
  try {
    qemu += `@${statSync(qemuBin).mtimeMs}`;
  } catch {
    // keep the path alone
  }
  return `${release()} ${qemu}`;
}

function readKvmVerdict(file: string, qemuBin: string): KvmVerdict | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as KvmVerdict & { key: string };
    return v.key === verdictKey(qemuBin) ? { works: v.works, reason: v.reason } : undefined;
  } catch {
    return undefined;
  }
}

function writeKvmVerdict(file: string, qemuBin: string, works: boolean, reason: string): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ key: verdictKey(qemuBin), works, reason }, null, 2)}\n`);
  } catch {
    // not remembering only costs a probe next time
  }
}

/** The qemu command line for an image; pure, so the arguments can be read and tested. */
export function qemuArgs(o: QemuOptions): string[] {
  for (const p of [o.nodePath, o.agentPath, o.share, ...o.tmpfs, ...(o.keep ?? [])]) {
    if (/[\s,]/.test(p))
      throw new LabError('INVALID_ARGUMENT', `path "${p}" must not contain spaces or commas`);
  }
  const append = [
    'console=ttyS0',
    'panic=-1',
    'quiet',
    'loglevel=4',
    'mitigations=off',
    // Under TCG on a loaded host the kernel's IO-APIC timer check can miss
    // its ticks and panic ("IO-APIC + timer doesn't work!"), seen in CI.
    'no_timer_check',
    `lab.node=${o.nodePath}`,
    `lab.agent=${o.agentPath}`,
    `lab.share=${o.share}`,
  ];
  if (o.tmpfs.length > 0) append.push(`lab.tmpfs=${o.tmpfs.join(',')}`);
  if (o.keep && o.keep.length > 0) append.push(`lab.keep=${o.keep.join(',')}`);
  return [
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-monitor',
    'none',
    '-machine',
    'pc',
    '-accel',
    o.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    '-cpu',
    o.accel === 'kvm' ? 'host' : 'max',
    '-smp',
    String(o.cpus),
    '-m',
    String(o.memoryMb),
    '-nic',
    'none',
    '-no-reboot',
    '-kernel',
    o.image.vmlinuz,
    '-initrd',
    o.image.initramfs,
    '-append',
    append.join(' '),
    '-serial',
    `file:${o.consoleLog}`,
    '-fsdev',
    `local,id=${HOST_ROOT_TAG},path=/,security_model=none,readonly=on,multidevs=remap`,
    '-device',
    `virtio-9p-pci,fsdev=${HOST_ROOT_TAG},mount_tag=${HOST_ROOT_TAG}`,
    '-fsdev',
    `local,id=${SHARE_TAG},path=${o.share},security_model=none`,
    '-device',
    `virtio-9p-pci,fsdev=${SHARE_TAG},mount_tag=${SHARE_TAG}`,
    '-device',
    'virtio-serial-pci',
    '-chardev',
    `socket,id=ctl,path=${o.socket},server=on,wait=off`,
    '-device',
    `virtserialport,chardev=ctl,name=${CONTROL_PORT_NAME}`,
    '-device',
    'virtio-rng-pci',
  ];
}

export class Guest implements Runner {
  readonly where = 'guest' as const;
  /** Wall time from starting qemu to the agent's hello, in ms. */
  readonly bootMs: number;
  /** The guest kernel's release (uname -r). */
  readonly kernel: string;
  /** A host directory that appears at the same path inside the guest, writable from both sides. */
  readonly shareDir: string;
  /** The qemu process id. */
  readonly pid: number;
  readonly #qemu: ChildProcess;
  readonly #socket: Socket;
  readonly #dir: string;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #closed: Error | undefined;
  readonly #exited: Promise<void>;

  private constructor(
    qemu: ChildProcess,
    socket: Socket,
    dir: string,
    hello: { uptime: number; kernel: string },
    bootMs: number,
    exited: Promise<void>,
  ) {
    this.#qemu = qemu;
    this.#socket = socket;
    this.#dir = dir;
    this.shareDir = join(dir, 'share');
    this.kernel = hello.kernel;
    this.bootMs = bootMs;
    this.pid = qemu.pid ?? -1;
    this.#exited = exited;
  }

  /** Boots the guest (building the image on first use) and waits until its agent answers. */
  static async boot(opts: GuestBootOptions = {}): Promise<Guest> {
    const qemuBin = which('qemu-system-x86_64');
    if (!qemuBin) {
      throw new LabError(
        'GUEST_BOOT',
        'no qemu-system-x86_64 (Debian package qemu-system-x86; run scripts/setup-system.sh)',
      );
    }
    const image = opts.image ?? (await prepareGuestImage({ log: opts.log }));
    const env = process.env.LVS_HA_GUEST_ACCEL;
    const requested = opts.accel ?? (env === 'kvm' || env === 'tcg' || env === 'auto' ? env : 'auto');
    const verdictFile = join(guestCacheDir(), 'kvm.json');
    const choice = chooseAccel(requested, kvmAccessible(), readKvmVerdict(verdictFile, qemuBin));
    if (choice !== 'probe') return Guest.#boot(qemuBin, image, choice, opts);
    // First boot on this machine: try KVM once, remember whether it really works.
    try {
      const guest = await Guest.#boot(qemuBin, image, 'kvm', {
        ...opts,
        bootTimeoutMs: KVM_PROBE_TIMEOUT_MS,
      });
      writeKvmVerdict(verdictFile, qemuBin, true, 'booted');
      return guest;
    } catch (e) {
      const lines = (e as Error).message.split('\n');
      const why = lines.find((l) => /error:|assert/i.test(l)) ?? lines[0] ?? 'no boot';
      writeKvmVerdict(verdictFile, qemuBin, false, why);
      opts.log?.(`KVM does not work on this machine (${why.trim()}); using TCG from now on`);
      return Guest.#boot(qemuBin, image, 'tcg', opts);
    }
  }

  static async #boot(
    qemuBin: string,
    image: GuestImage,
    accel: 'tcg' | 'kvm',
    opts: GuestBootOptions,
  ): Promise<Guest> {
    removeStaleGuestDirs();
    const dir = await mkdtemp(join(tmpdir(), `lvsha-guest-${process.pid}-`));
    const share = join(dir, 'share');
    await mkdir(share);
    const socketPath = join(dir, 'ctl.sock');
    const consoleLog = join(dir, 'console.log');
    const args = qemuArgs({
      image,
      socket: socketPath,
      consoleLog,
      share,
      nodePath: process.execPath,
      agentPath: GUEST_AGENT_PATH,
      memoryMb: opts.memoryMb ?? 2048,
      cpus: opts.cpus ?? 2,
      accel,
      tmpfs: opts.tmpfs ?? [],
      keep: keptDirectories([process.cwd(), GUEST_AGENT_PATH], opts.tmpfs ?? []),
    });
    const setpriv = which('setpriv');
    // --pdeathsig: the kernel SIGKILLs qemu when this process dies, however it dies.
    const argv = setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', '--', qemuBin, ...args] : [qemuBin, ...args];
    const started = Date.now();
    const qemu = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    liveQemus.add(qemu);
    opts.log?.(`qemu pid ${qemu.pid} started (${accel}); booting ${image.kernelRelease}`);
    let qemuStderr = '';
    qemu.stderr?.on('data', (b: Buffer) => {
      qemuStderr += b.toString();
    });
    const exited = new Promise<void>((resolve) => {
      qemu.once('exit', () => {
        liveQemus.delete(qemu);
        resolve();
      });
    });
    const consoleTail = () => {
      try {
        return readFileSync(consoleLog, 'utf8').split('\n').slice(-25).join('\n');
      } catch {
        return '';
      }
    };
    const fail = (why: string) => {
      qemu.kill('SIGKILL');
      const tail = consoleTail();
      rmSync(dir, { recursive: true, force: true });
      return new LabError(
        'GUEST_BOOT',
        `guest boot failed: ${why}\n--- qemu stderr ---\n${qemuStderr.trim()}\n--- console ---\n${tail}`,
      );
    };
    const timeoutMs = opts.bootTimeoutMs ?? 180_000;
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const deadline = Date.now() + 10_000;
        const attempt = () => {
          if (qemu.exitCode !== null || qemu.signalCode !== null) return reject(new Error('qemu exited'));
          if (!existsSync(socketPath)) {
            if (Date.now() > deadline) return reject(new Error('qemu did not create its control socket'));
            return void setTimeout(attempt, 20);
          }
          const s = connect(socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', () =>
            Date.now() > deadline ? reject(new Error('cannot connect')) : setTimeout(attempt, 50),
          );
        };
        attempt();
      });
      const hello = await new Promise<{ uptime: number; kernel: string }>((resolve, reject) => {
        let buffered = '';
        const timer = setTimeout(
          () => reject(new Error(`no answer from the guest within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onData = (b: Buffer) => {
          buffered += b.toString('utf8');
          const nl = buffered.indexOf('\n');
          if (nl < 0) return;
          const line = buffered.slice(0, nl);
          socket.off('data', onData);
          clearTimeout(timer);
          if (buffered.length > nl + 1) socket.unshift(Buffer.from(buffered.slice(nl + 1)));
          try {
            resolve(JSON.parse(line) as { uptime: number; kernel: string });
          } catch {
            reject(new Error(`bad hello from the guest: ${line.slice(0, 200)}`));
          }
        };
        socket.on('data', onData);
        qemu.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`qemu exited (${code ?? signal}) before the guest was ready`));
        });
      });
      const guest = new Guest(qemu, socket, dir, hello, Date.now() - started, exited);
      guest.#listen();
      opts.log?.(
        `guest ${hello.kernel} booted in ${(guest.bootMs / 1000).toFixed(1)} s (${accel}, guest uptime ${hello.uptime.toFixed(1)} s)`,
      );
      return guest;
    } catch (e) {
      throw e instanceof LabError ? e : fail((e as Error).message);
    }
  }

  #listen(): void {
    let buffered = '';
    this.#socket.on('data', (b: Buffer) => {
      buffered += b.toString('utf8');
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        if (!line.trim()) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const p = this.#pending.get(msg.id as number);
        if (!p) continue;
        this.#pending.delete(msg.id as number);
        p.resolve(msg);
      }
    });
    const close = (why: string) => {
      if (this.#closed) return;
      this.#closed = new LabError('GUEST_CHANNEL', `guest channel closed: ${why}`);
      for (const p of this.#pending.values()) p.reject(this.#closed);
      this.#pending.clear();
    };
    this.#socket.on('close', () => close('socket closed'));
    this.#socket.on('error', (e) => close(e.message));
    this.#qemu.once('exit', () => close('qemu exited'));
  }

  #request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#socket.write(`${JSON.stringify({ id, ...msg })}\n`);
    });
  }

  /** Runs argv inside the guest and returns its output and exit code. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new LabError('INVALID_ARGUMENT', 'empty argv');
    const res = await this.#request({
      op: 'exec',
      argv,
      env: opts.env,
      cwd: opts.cwd,
      input: opts.input,
      timeoutMs: opts.timeoutMs,
    });
    if (!res.ok) {
      throw new LabError(res.timeout ? 'TIMEOUT' : 'COMMAND_FAILED', `in the guest: ${String(res.error)}`);
    }
    const result = { stdout: res.stdout as string, stderr: res.stderr as string, code: res.code as number };
    if (opts.check && result.code !== 0)
      throw new CommandFailedError(argv, result.code, result.stdout, result.stderr);
    return result;
  }

  /** Runs a shell script inside the guest; throws on a non-zero exit unless check is false. */
  sh(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', script], { check: true, ...opts });
  }

  /** Starts a long-running command inside the guest. */
  async start(
    argv: readonly string[],
    opts: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'> = {},
  ): Promise<BackgroundProcess> {
    const res = await this.#request({ op: 'start', argv, env: opts.env, cwd: opts.cwd });
    if (!res.ok) throw new LabError('COMMAND_FAILED', `in the guest: ${String(res.error)}`);
    const pid = res.pid as number;
    return {
      pid,
      stop: async () => {
        if (!this.#closed) await this.#request({ op: 'stop', pid });
      },
      output: async () => ((await this.#request({ op: 'output', pid })).output as string) ?? '',
      running: async () => Boolean((await this.#request({ op: 'output', pid })).running),
    };
  }

  /** The guest's console output so far (kernel messages, init's complaints). */
  console(): string {
    try {
      return readFileSync(join(this.#dir, 'console.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops the agent's processes, powers the guest off, and waits for qemu to exit (SIGKILL after 15 s). Idempotent. */
  async shutdown(): Promise<void> {
    if (!this.#closed) {
      try {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.#request({ op: 'shutdown' }),
          new Promise((r) => {
            timer = setTimeout(r, 10_000);
          }),
        ]).finally(() => clearTimeout(timer));
      } catch {
        // the channel may close before the answer arrives: qemu is exiting
      }
    }
    const killer = setTimeout(() => this.#qemu.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(killer);
    this.#socket.destroy();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

export interface IpvsRunner {
  /** Where IPVS commands and namespaces with IPVS go. */
  runner: Runner;
  /** The guest, when one was booted. */
  guest?: Guest;
  /** Shuts the guest down (if any). */
  release(): Promise<void>;
}

/**
 * A runner with kernel IPVS: this machine when its kernel has IPVS (no VM),
 * otherwise a freshly booted guest. Release it when done.
 */
export async function ipvsRunner(opts: GuestBootOptions = {}): Promise<IpvsRunner> {
  if (capabilitiesSync().hostIpvs) return { runner: hostRunner, release: async () => {} };
  const guest = await Guest.boot(opts);
  return { runner: guest, guest, release: () => guest.shutdown() };
}
