// A network namespace holding one real Debian server per test file, the
// check agent (runCheck running inside the namespace) and an nftables table
// to black-hole ports. Everything lives in the namespace and a temp dir, so
// nothing touches the host's network or its system-wide daemons.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Netns, tsxLoader } from '@lvs-ha/lab';
import type { CheckResult, CheckSpec, CheckTarget } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** A server process started in the namespace, in its own process group. */
export class Daemon {
  private out = '';
  readonly exited: Promise<number | null>;
  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      if (this.out.length < 20_000) this.out += d.toString();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }
  get pid(): number {
    return this.child.pid ?? -1;
  }
  output(): string {
    return this.out;
  }
  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {}
  }
  /** SIGSTOP the whole group: the kernel still accepts connections, nobody answers. */
  pause(): void {
    this.signal('SIGSTOP');
  }
  resume(): void {
    this.signal('SIGCONT');
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
    // Forked children that ignored SIGTERM (or outlived their parent).
    this.signal('SIGKILL');
  }
}

export class ServiceLab {
  /** The temp dir of the current server (see useDir); removed by stop(). */
  dir: string;
  private readonly root: string;
  private agent: ChildProcess | undefined;
  private pending = new Map<number, (r: { result?: CheckResult; error?: string }) => void>();
  private nextId = 0;
  private daemons: Daemon[] = [];

  private constructor(readonly ns: Netns) {
    this.root = mkdtempSync(join(tmpdir(), 'lvsha-probes-'));
    // Servers that drop root (exim, postgres, dovecot...) must reach their files.
    chmodSync(this.root, 0o755);
    this.dir = this.root;
  }

  /** Gives the next server a fresh directory of its own under the lab's. */
  useDir(name: string): string {
    this.dir = join(this.root, name.replace(/[^A-Za-z0-9_-]/g, '_'));
    mkdirSync(this.dir, { mode: 0o755 });
    chmodSync(this.dir, 0o755);
    return this.dir;
  }

  /** Stops every server started so far (between the file's services). */
  async stopDaemons(): Promise<void> {
    for (const d of this.daemons.splice(0)) await d.stop();
  }

  static async start(label: string): Promise<ServiceLab> {
    const lab = new ServiceLab(await Netns.create(label));
    try {
      await lab.ns.sh(
        'nft add table inet probes && nft add chain inet probes input "{ type filter hook input priority 0; policy accept; }"',
      );
      await lab.startAgent();
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  }

  private async startAgent(): Promise<void> {
    const child = spawn(
      'ip',
      ['netns', 'exec', this.ns.name, process.execPath, '--import', tsxLoader(), join(here, 'agent.ts')],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: join(here, '..', '..') },
    );
    this.agent = child;
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const rl = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`check agent did not start: ${err}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`check agent exited ${code}: ${err}`)));
      rl.once('line', () => {
        clearTimeout(t);
        resolve();
      });
    });
    rl.on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; result?: CheckResult; error?: string };
      this.pending.get(msg.id)?.(msg);
      this.pending.delete(msg.id);
    });
  }

  /** Runs runCheck inside the namespace. */
  async check(spec: CheckSpec, target: CheckTarget, round = 0): Promise<CheckResult> {
    const id = this.nextId++;
    const reply = await new Promise<{ result?: CheckResult; error?: string }>((resolve) => {
      this.pending.set(id, resolve);
      this.agent?.stdin?.write(`${JSON.stringify({ id, spec, target, round })}\n`);
    });
    if (reply.error || !reply.result) throw new Error(reply.error ?? 'no result');
    return reply.result;
  }

  /** Starts argv in the namespace as its own process group (argv[0] runs in the foreground). */
  spawn(name: string, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Daemon {
    const child = spawn('ip', ['netns', 'exec', this.ns.name, ...argv], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const d = new Daemon(name, child);
    this.daemons.push(d);
    return d;
  }

  /** Waits until something listens on the port inside the namespace. */
  async waitListening(
    port: number,
    proto: 'tcp' | 'udp' = 'tcp',
    daemon?: Daemon,
    timeoutMs = 60_000,
  ): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.ns.exec(['ss', proto === 'tcp' ? '-Hltn' : '-Hlun', `sport = :${port}`]);
      if (r.stdout.trim() !== '') return;
      if (daemon && (daemon.child.exitCode !== null || daemon.child.signalCode !== null)) {
        throw new Error(`${daemon.name} exited before listening on ${port}: ${daemon.output()}`);
      }
      if (Date.now() > until)
        throw new Error(`nothing listens on ${proto}/${port}: ${daemon?.output() ?? ''}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /**
   * Waits until the check passes: for servers that listen before they are
   * ready (MariaDB runs its init file, PostgreSQL may still be starting up).
   */
  async waitUp(spec: CheckSpec, target: CheckTarget, timeoutMs = 60_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.check(spec, target);
      if (r.ok) return;
      if (Date.now() > until) throw new Error(`never up: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  /** Drops every packet to the port (the server seems to have vanished from the network). */
  async blackhole(port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<void> {
    await this.ns.exec(
      ['nft', 'add', 'rule', 'inet', 'probes', 'input', proto, 'dport', String(port), 'drop'],
      {
        check: true,
      },
    );
  }

  async clearBlackholes(): Promise<void> {
    await this.ns.exec(['nft', 'flush', 'chain', 'inet', 'probes', 'input'], { check: true });
  }

  async stop(): Promise<void> {
    await this.stopDaemons();
    this.agent?.stdin?.end();
    this.agent?.kill('SIGKILL');
    await this.ns.destroy();
    rmSync(this.root, { recursive: true, force: true });
  }
}
