// Runs BIRD as our child: `bird -f -c FILE -s SOCKET`, started under
// `setpriv --pdeathsig SIGKILL` so the kernel kills it when this process
// dies, however it dies (the routers then withdraw the VIPs: BFD and the
// TCP session go down with it). Waits until the socket answers, reports the
// exit, stops it. Also `checkConfig`: `bird -p -c FILE`, BIRD's own parse.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BirdClient } from './client.js';
import { BirdConfigError, BirdError, BirdStartError } from './errors.js';

/** Finds an executable in PATH and the sbin directories (bird is in /usr/sbin, often not in a user's PATH). */
export function findExecutable(command: string): string | undefined {
  if (command.includes('/')) return command;
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, command);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // the next directory
    }
  }
  return undefined;
}

export interface BirdExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the last lines BIRD wrote to stderr */
  stderr: string;
}

export interface BirdProcessOptions {
  /** the configuration file */
  config: string;
  /** the control socket's path */
  socket: string;
  /** the bird binary (default: `bird` in PATH or /usr/sbin) */
  bird?: string;
  /**
   * argv put before bird's, e.g. ['ip', 'netns', 'exec', 'NS']: it must exec
   * bird in place (no fork), or the parent-death signal is lost
   */
  wrap?: readonly string[];
  /** how long to wait for the socket's welcome (default 10000 ms) */
  startTimeoutMs?: number;
  /** each line BIRD writes to stderr (its log with `log stderr`) */
  onLog?: (line: string) => void;
}

/** How much of BIRD's stderr is kept for error messages and BirdExit. */
const STDERR_KEEP = 8192;

/**
 * A running BIRD. `exited` resolves when it exits, whoever caused it (check
 * `stopping` to tell our stop() from a crash).
 */
export class BirdProcess {
  readonly pid: number;
  readonly socket: string;
  readonly config: string;
  /** true when the kernel kills BIRD if we die (setpriv --pdeathsig was found); false: only our exit handler does */
  readonly diesWithUs: boolean;
  readonly exited: Promise<BirdExit>;
  readonly #child: ChildProcess;
  #exit: BirdExit | undefined;
  #stderr = '';
  #stopping = false;

  private constructor(child: ChildProcess, options: BirdProcessOptions, diesWithUs: boolean) {
    this.#child = child;
    this.pid = child.pid as number;
    this.socket = options.socket;
    this.config = options.config;
    this.diesWithUs = diesWithUs;
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLog?.(l);
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        live.delete(this);
        if (partial) options.onLog?.(partial);
        this.#exit = { code, signal, stderr: this.#stderr };
        resolve(this.#exit);
      });
    });
  }

  /**
   * Starts BIRD and resolves once its socket answers with BIRD's welcome;
   * rejects with BirdStartError (BIRD's stderr tail) when it exits first or
   * does not answer in time, or when another BIRD already answers on the
   * socket (BIRD would refuse to start: "I found another BIRD running").
   */
  static async start(options: BirdProcessOptions): Promise<BirdProcess> {
    const bird = findExecutable(options.bird ?? 'bird');
    if (!bird) throw new BirdStartError('no bird executable (Debian package bird2)', '', null);
    if (existsSync(options.socket) && (await answers(options.socket)))
      throw new BirdStartError(`another BIRD already answers on ${options.socket}`, '', null);
    const setpriv = findExecutable('setpriv');
    const argv = [
      ...(setpriv ? [setpriv, '--pdeathsig', 'SIGKILL', '--'] : []),
      ...(options.wrap ?? []),
      bird,
      '-f',
      '-c',
      options.config,
      '-s',
      options.socket,
    ];
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    const spawned = await new Promise<Error | undefined>((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (e) => resolve(e));
    });
    if (spawned) throw new BirdStartError(`cannot run ${argv[0]}: ${spawned.message}`, '', null);
    const p = new BirdProcess(child, options, setpriv !== undefined);
    live.add(p);
    installExitHandler();
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (p.#exit) {
        throw new BirdStartError(
          `bird exited during start (${p.#exit.signal ?? `exit ${p.#exit.code}`})`,
          p.#exit.stderr,
          p.#exit.code,
        );
      }
      if (await answers(options.socket)) {
        // BIRD answers as soon as it listens; it exits right after finding a broken config only before that.
        if (!p.#exit) return p;
      }
      if (Date.now() > deadline) {
        p.kill('SIGKILL');
        await p.exited;
        throw new BirdStartError(`no answer on ${options.socket} within ${timeoutMs} ms`, p.#stderr, null);
      }
      await Promise.race([sleep(25), p.exited]);
    }
  }

  /** Undefined while BIRD runs. */
  get exit(): BirdExit | undefined {
    return this.#exit;
  }

  /** True once stop() was called. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** BIRD's stderr so far (the last 8 KiB). */
  get stderr(): string {
    return this.#stderr;
  }

  /** A client of this BIRD's socket. */
  connect(options?: { timeoutMs?: number }): Promise<BirdClient> {
    return BirdClient.connect(this.socket, options);
  }

  /** Sends a signal (SIGKILL for a crash test; BIRD takes SIGHUP as `configure`, SIGTERM/SIGINT as shut down). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.#exit) this.#child.kill(signal);
  }

  /**
   * Stops BIRD: SIGTERM (it closes its BGP sessions with a Cease, so the
   * routers withdraw at once), SIGKILL after `graceMs` (default 5000).
   */
  async stop(graceMs = 5000): Promise<BirdExit> {
    this.#stopping = true;
    if (this.#exit) return this.#exit;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

const live = new Set<BirdProcess>();
let exitHandler = false;

// Where setpriv is missing, at least a normal exit of ours takes BIRD along.
function installExitHandler(): void {
  if (exitHandler) return;
  exitHandler = true;
  process.once('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when something on the socket sends a BIRD welcome line. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    let text = '';
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setEncoding('utf8');
    s.setTimeout(1000, () => done(false));
    s.on('data', (d: string) => {
      text += d;
      if (text.includes('\n')) done(/^0001 /.test(text));
    });
    s.on('error', () => done(false));
    s.on('close', () => resolve(false));
  });
}

export interface CheckConfigOptions {
  /** the bird binary (default: `bird` in PATH or /usr/sbin) */
  bird?: string;
  timeoutMs?: number;
}

/**
 * BIRD's own verdict on a configuration: `bird -p -c FILE` (parse only, no
 * daemon). Resolves when BIRD accepts it; throws BirdConfigError (where:
 * BIRD's file:line:column) with BIRD's message when not. `text` is written
 * to a temporary file first; give `{ file }` to check a file in place.
 */
export async function checkConfig(
  input: { text: string } | { file: string },
  options: CheckConfigOptions = {},
): Promise<void> {
  const bird = findExecutable(options.bird ?? 'bird');
  if (!bird) throw new BirdStartError('no bird executable (Debian package bird2)', '', null);
  let dir: string | undefined;
  let file: string;
  if ('file' in input) file = input.file;
  else {
    dir = await mkdtemp(join(tmpdir(), 'lvs-ha-bird-check-'));
    file = join(dir, 'bird.conf');
    await writeFile(file, input.text);
  }
  try {
    const r = await new Promise<{ code: number | null; stderr: string; error?: Error }>((resolve) => {
      execFile(
        bird,
        ['-p', '-c', file],
        { timeout: options.timeoutMs ?? 10_000, encoding: 'utf8' },
        (err, _stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
          resolve({ code, stderr, ...(err && code === null ? { error: err } : {}) });
        },
      );
    });
    if (r.error) throw new BirdError('BIRD_START_FAILED', `bird -p: ${r.error.message}`, { cause: r.error });
    if (r.code !== 0) {
      // "bird: /tmp/x/bird.conf:2:44 syntax error, unexpected ..."
      const said = r.stderr.trim().replace(/^bird:\s*/, '');
      const m = /^(\S+:\d+:\d+)\s+(.*)$/s.exec(said);
      throw new BirdConfigError(m ? (m[1] as string) : file, m ? (m[2] as string) : said || `exit ${r.code}`);
    }
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
