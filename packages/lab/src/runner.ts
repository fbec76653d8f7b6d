// Where lab commands run. The same topology code drives namespaces on this
// machine (HostRunner) or inside the qemu guest (Guest implements Runner), so
// a test reads the same whether or not the host kernel has IPVS.
import { type ChildProcess, spawn } from 'node:child_process';
import { CommandFailedError, LabError } from './errors.js';

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. */
  input?: string;
  /** Extra environment variables (merged over the runner's environment). */
  env?: Record<string, string>;
  cwd?: string;
  /** Kill the command after this long (default 60 s); the result then has code 124 semantics via a LabError. */
  timeoutMs?: number;
  /** Throw CommandFailedError on a non-zero exit (default false: the caller reads `code`). */
  check?: boolean;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit status; 128 + signal number when the command was killed by a signal. */
  code: number;
}

/** A process left running (a server in a namespace): stop it, read what it printed. */
export interface BackgroundProcess {
  readonly pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once it is gone. */
  stop(): Promise<void>;
  /** Whatever it wrote to stdout and stderr so far. */
  output(): Promise<string>;
  /** Still running (not exited)? */
  running(): Promise<boolean>;
}

export interface Runner {
  /** 'host' runs on this machine; 'guest' inside the qemu guest. */
  readonly where: 'host' | 'guest';
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Start a long-running command and return without waiting for it. */
  start(
    argv: readonly string[],
    opts?: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'>,
  ): Promise<BackgroundProcess>;
}

const SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGSEGV: 11,
  SIGABRT: 6,
};

export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNALS[signal] ?? 0) : 0);
}

/** Runs argv on this machine, capturing output. */
export function runLocal(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new LabError('INVALID_ARGUMENT', 'empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new LabError('COMMAND_FAILED', `cannot run ${argv.join(' ')}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = {
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code: exitCodeOf(code, signal),
      };
      if (timedOut) {
        reject(new LabError('TIMEOUT', `timed out after ${opts.timeoutMs ?? 60_000} ms: ${argv.join(' ')}`));
      } else if (opts.check && result.code !== 0) {
        reject(new CommandFailedError(argv, result.code, result.stdout, result.stderr));
      } else {
        resolve(result);
      }
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Starts argv on this machine in its own process group, detached from our stdio. */
export function spawnLocal(
  argv: readonly string[],
  opts: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'> = {},
): ChildProcess {
  const [file, ...args] = argv;
  if (file === undefined) throw new LabError('INVALID_ARGUMENT', 'empty argv');
  return spawn(file, args, {
    cwd: opts.cwd,
    env: opts.env ? { ...process.env, ...opts.env } : process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** How much of a background process's output is kept (its end). */
export const OUTPUT_LIMIT = 1 << 20;

function background(child: ChildProcess): BackgroundProcess {
  // Keep the last OUTPUT_LIMIT bytes: a chatty server must not grow without bound.
  let chunks: Buffer[] = [];
  let size = 0;
  const keep = (b: Buffer) => {
    chunks.push(b);
    size += b.length;
    if (size > OUTPUT_LIMIT * 2) {
      const all = Buffer.concat(chunks);
      chunks = [all.subarray(all.length - OUTPUT_LIMIT)];
      size = OUTPUT_LIMIT;
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('close', () => resolve());
  });
  return {
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
    },
    async output() {
      const all = Buffer.concat(chunks);
      return all.subarray(Math.max(0, all.length - OUTPUT_LIMIT)).toString('utf8');
    },
    async running() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
}

export class HostRunner implements Runner {
  readonly where = 'host' as const;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return runLocal(argv, opts);
  }
  async start(
    argv: readonly string[],
    opts?: Omit<ExecOptions, 'input' | 'check' | 'timeoutMs'>,
  ): Promise<BackgroundProcess> {
    const child = spawnLocal(argv, opts);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (e) =>
        reject(new LabError('COMMAND_FAILED', `cannot start ${argv.join(' ')}: ${e.message}`, { cause: e })),
      );
    });
    return background(child);
  }
}

/** The runner for this machine. */
export const hostRunner: Runner = new HostRunner();
