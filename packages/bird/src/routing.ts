// A director's routing, whole: writes the configuration, runs BIRD under
// the supervisor, keeps the set of VIPs the caller wants announced and
// makes BIRD's static protocols match it (after every change, after a
// `configure`, after BIRD was restarted because it died), and withdraws
// everything before it stops. This is what the health loop talks to:
// announce(vip) while the VIP has a healthy real server, withdraw(vip)
// otherwise.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseIp } from '@lvs-ha/ip';
import type { BirdClient } from './client.js';
import { type DirectorBirdConfig, type WrittenBirdConfig, writeDirectorConfig } from './config.js';
import { BirdArgumentError, BirdError } from './errors.js';
import { type BfdSession, parseProtocols } from './show.js';
import { type BirdExit, BirdProcess, checkConfig } from './supervisor.js';

export type RoutingEvent =
  | { type: 'started'; pid: number }
  | { type: 'exited'; exit: BirdExit }
  | { type: 'restarting'; inMs: number; attempt: number }
  | { type: 'announced'; vip: string }
  | { type: 'withdrawn'; vip: string }
  | { type: 'error'; error: Error };

export interface BirdRoutingOptions {
  config: DirectorBirdConfig;
  /** directory for bird.conf and bird.ctl (created) */
  dir: string;
  /** the bird binary */
  bird?: string;
  /** argv before bird's (e.g. ip netns exec NS) */
  wrap?: readonly string[];
  /** restart BIRD when it dies (default: after 200 ms, doubling to 10 s); false: report and stay down */
  restart?: { minMs?: number; maxMs?: number } | false;
  onEvent?: (event: RoutingEvent) => void;
}

export interface SessionStatus {
  /** the BGP protocol's name */
  name: string;
  neighbor: string | undefined;
  /** BIRD's protocol state (up, start...) and BGP state (Established, Active, Idle...) */
  state: string;
  bgpState: string | undefined;
  info: string;
  /** the BFD session to the neighbor: Up, Down, Init, AdminDown; undefined when none */
  bfd: string | undefined;
}

export interface VipStatus {
  vip: string;
  protocol: string;
  /** the caller wants it announced */
  wanted: boolean;
  /** BIRD's static protocol is up: the route is exported to every Established session */
  announced: boolean;
}

export interface RoutingStatus {
  running: boolean;
  pid: number | undefined;
  restarts: number;
  sessions: SessionStatus[];
  vips: VipStatus[];
}

/** The directors' routing through BIRD 2: start(), announce()/withdraw(), status(), stop(). */
export class BirdRouting {
  readonly written: WrittenBirdConfig;
  readonly configPath: string;
  readonly socketPath: string;
  readonly #options: BirdRoutingOptions;
  readonly #wanted = new Set<string>();
  #bird: BirdProcess | undefined;
  #client: BirdClient | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #restarts = 0;
  #backoff = 0;
  #startedAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;

  private constructor(options: BirdRoutingOptions, written: WrittenBirdConfig) {
    this.#options = options;
    this.written = written;
    this.configPath = join(options.dir, 'bird.conf');
    this.socketPath = join(options.dir, 'bird.ctl');
  }

  /** Writes and checks the configuration (bird -p), starts BIRD, connects. Every VIP starts withdrawn. */
  static async start(options: BirdRoutingOptions): Promise<BirdRouting> {
    const written = writeDirectorConfig(options.config);
    const r = new BirdRouting(options, written);
    await mkdir(options.dir, { recursive: true });
    await writeFile(r.configPath, written.text);
    await checkConfig({ file: r.configPath }, options.bird ? { bird: options.bird } : {});
    await r.#launch();
    return r;
  }

  get running(): boolean {
    return this.#bird !== undefined && this.#bird.exit === undefined && this.#client !== undefined;
  }

  /** The VIPs the caller wants announced. */
  get wanted(): ReadonlySet<string> {
    return this.#wanted;
  }

  /**
   * Wants the VIP announced and makes BIRD announce it; resolves once BIRD
   * said enabled (or, while BIRD is down or dies meanwhile, once noted: the
   * restart applies it).
   */
  announce(vip: string): Promise<void> {
    const key = this.#vip(vip);
    this.#wanted.add(key);
    return this.#queue(() => this.#reconcile());
  }

  /** Wants the VIP withdrawn; resolves once BIRD disabled its protocol (or BIRD is down: nothing is announced). */
  withdraw(vip: string): Promise<void> {
    const key = this.#vip(vip);
    this.#wanted.delete(key);
    return this.#queue(() => this.#reconcile());
  }

  /** Announces exactly these VIPs. */
  setAnnounced(vips: Iterable<string>): Promise<void> {
    const keys = [...vips].map((v) => this.#vip(v));
    this.#wanted.clear();
    for (const k of keys) this.#wanted.add(k);
    return this.#queue(() => this.#reconcile());
  }

  /** Makes BIRD match the wanted set again (after someone ran `configure`, say). */
  resync(): Promise<void> {
    return this.#queue(() => this.#reconcile());
  }

  /** BGP sessions with their BFD state, and each VIP wanted and announced. */
  async status(): Promise<RoutingStatus> {
    const base = { running: this.running, pid: this.#bird?.pid, restarts: this.#restarts };
    const client = this.#client;
    if (!client || !this.running) {
      return {
        ...base,
        sessions: [],
        vips: [...this.written.vipProtocols].map(([vip, protocol]) => ({
          vip,
          protocol,
          wanted: this.#wanted.has(vip),
          announced: false,
        })),
      };
    }
    const rows = parseProtocols(await client.command('show protocols all'));
    let bfd: BfdSession[] = [];
    if (this.written.bfdProtocol) bfd = await client.bfdSessions();
    const byName = new Map(rows.map((r) => [r.name, r]));
    const sessions = this.written.bgpProtocols.map((name): SessionStatus => {
      const row = byName.get(name);
      const neighbor = row?.bgp?.neighborAddress;
      return {
        name,
        neighbor,
        state: row?.state ?? 'absent',
        bgpState: row?.bgp?.state,
        info: row?.info ?? '',
        bfd: neighbor === undefined ? undefined : bfd.find((s) => s.address === neighbor)?.state,
      };
    });
    const vips = [...this.written.vipProtocols].map(([vip, protocol]) => ({
      vip,
      protocol,
      wanted: this.#wanted.has(vip),
      announced: byName.get(protocol)?.state === 'up',
    }));
    return { ...base, sessions, vips };
  }

  /**
   * Withdraws every VIP (disable, so the routers drop them before BIRD's
   * sessions close), then stops BIRD (SIGTERM: a Cease to each router).
   */
  async stop(): Promise<BirdExit | undefined> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    this.#wanted.clear();
    await this.#queue(() => this.#reconcile()).catch((e: Error) => this.#event({ type: 'error', error: e }));
    await this.#client?.close();
    this.#client = undefined;
    return this.#bird?.stop();
  }

  #vip(vip: string): string {
    let text: string;
    try {
      text = parseIp(vip).text;
    } catch {
      throw new BirdArgumentError(vip, 'not an IP address');
    }
    if (!this.written.vipProtocols.has(text))
      throw new BirdArgumentError(vip, 'not a VIP of this configuration');
    return text;
  }

  #queue(step: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(step);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #reconcile(): Promise<void> {
    const client = this.#client;
    if (!client || !this.running) return; // down: the restart reconciles
    try {
      for (const [vip, protocol] of this.written.vipProtocols) {
        if (this.#wanted.has(vip)) {
          if (await client.enable(protocol)) this.#event({ type: 'announced', vip });
        } else if (await client.disable(protocol)) {
          this.#event({ type: 'withdrawn', vip });
        }
      }
    } catch (e) {
      // BIRD died under us (the socket closes before its exit is reported):
      // the exit handler restarts it and reconciles then.
      if (e instanceof BirdError && (e.code === 'BIRD_CLOSED' || e.code === 'BIRD_SOCKET')) {
        this.#event({ type: 'error', error: e });
        return;
      }
      throw e;
    }
  }

  async #launch(): Promise<void> {
    const bird = await BirdProcess.start({
      config: this.configPath,
      socket: this.socketPath,
      ...(this.#options.bird ? { bird: this.#options.bird } : {}),
      ...(this.#options.wrap ? { wrap: this.#options.wrap } : {}),
    });
    this.#bird = bird;
    this.#startedAt = Date.now();
    this.#client = await bird.connect();
    this.#event({ type: 'started', pid: bird.pid });
    void bird.exited.then((exit) => this.#exited(bird, exit));
  }

  #exited(bird: BirdProcess, exit: BirdExit): void {
    if (bird !== this.#bird) return;
    this.#event({ type: 'exited', exit });
    void this.#client?.close();
    this.#client = undefined;
    if (this.#stopped || bird.stopping || this.#options.restart === false) return;
    const min = this.#options.restart?.minMs ?? 200;
    const max = this.#options.restart?.maxMs ?? 10_000;
    // A BIRD that ran a while starts the backoff over.
    if (Date.now() - this.#startedAt > max) this.#backoff = 0;
    const attempt = this.#restarts + 1;
    const inMs = Math.min(max, min * 2 ** Math.min(this.#backoff, 16));
    this.#backoff += 1;
    this.#event({ type: 'restarting', inMs, attempt });
    this.#restartTimer = setTimeout(() => {
      this.#restarts = attempt;
      void this.#queue(async () => {
        if (this.#stopped) return;
        try {
          await this.#launch();
        } catch (e) {
          this.#event({ type: 'error', error: e as Error });
          // a failed start counts as an exit: try again later
          const failed = this.#bird;
          if (failed) this.#exited(failed, failed.exit ?? { code: null, signal: null, stderr: '' });
          return;
        }
        await this.#reconcile();
      }).catch((e: Error) => this.#event({ type: 'error', error: e }));
    }, inMs);
  }

  #event(event: RoutingEvent): void {
    this.#options.onEvent?.(event);
  }
}
