// Notify hooks, as keepalived's `notify` script (and notify_master,
// notify_backup, notify_fault, notify_stop): `lvs-ha start --notify SCRIPT`
// runs SCRIPT on every change of state of a haresources group and of this
// node, as
//
//   SCRIPT TYPE NAME STATE REASON
//
// TYPE GROUP (NAME: the group's key, its first resource as haresources
// writes it, e.g. 192.0.2.50/32/eth0) or NODE (NAME: this node's name);
// STATE MASTER (held here: every resource started), BACKUP (not held),
// FAULT (could not be started here, or the node failed), STOP (the node
// left); REASON what caused it (the hand-over's words: req_our_resources,
// mach_down, standby, shutdown, ip-request…; or join, start-failed,
// fail-stop, partition, stop). keepalived's fourth argument is the
// priority, which Heartbeat has none of.
//
// Runs are serialised (a change waits for the one before: the script sees
// them in order), each killed after a timeout, and never waited for by the
// node: the change is done (the VIP up or down) before the script runs, and
// its failure is a logged line, nothing more.
import { execFile } from 'node:child_process';
import type { StateChange } from '@lvs-ha/cluster';

/** How a run ended: the exit code, or killed at the timeout, or could not be started. */
export interface NotifyRun {
  code: number | null;
  signal: string | null;
  killed: boolean;
  error?: string;
}

/** Runs `file args` with a timeout (SIGKILL); the default is child_process.execFile. */
export type NotifyExec = (
  file: string,
  args: string[],
  o: { timeoutMs: number; env: NodeJS.ProcessEnv },
) => Promise<NotifyRun>;

export const execNotify: NotifyExec = (file, args, o) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: o.timeoutMs, killSignal: 'SIGKILL', env: o.env }, (err) => {
      if (!err) return resolve({ code: 0, signal: null, killed: false });
      const e = err as NodeJS.ErrnoException & { code?: number | string; signal?: string; killed?: boolean };
      if (typeof e.code === 'string')
        return resolve({ code: null, signal: null, killed: false, error: e.message });
      resolve({ code: e.code ?? null, signal: e.signal ?? null, killed: e.killed === true });
    });
  });

export interface NotifierOptions {
  /** The script (an absolute path, or found on PATH). */
  script: string;
  /** Milliseconds a run may take before it is killed (default 30 s). */
  timeoutMs?: number;
  /** This node's name, in LVS_HA_NODE. */
  node: string;
  /** One line per failed run (and per run at all, when verbose). */
  say: (line: string) => void;
  exec?: NotifyExec;
  /** The environment the script gets (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The arguments of one change, as the script gets them. */
export function notifyArgs(c: StateChange): string[] {
  return [c.type, c.name, c.state, c.reason];
}

export class Notifier {
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  readonly timeoutMs: number;

  constructor(private readonly o: NotifierOptions) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
  }

  /** Queues a run for `c`; returns at once. */
  notify(c: StateChange): void {
    const args = notifyArgs(c);
    const shown = `${this.o.script} ${args.join(' ')}`;
    this.pending++;
    this.chain = this.chain.then(async () => {
      try {
        const r = await (this.o.exec ?? execNotify)(this.o.script, args, {
          timeoutMs: this.timeoutMs,
          env: {
            ...(this.o.env ?? process.env),
            LVS_HA_NODE: this.o.node,
            LVS_HA_TYPE: c.type,
            LVS_HA_NAME: c.name,
            LVS_HA_STATE: c.state,
            LVS_HA_REASON: c.reason,
          },
        });
        if (r.killed) this.o.say(`error notify ${shown} did not finish in ${this.timeoutMs} ms (killed)`);
        else if (r.error !== undefined) this.o.say(`error notify ${shown} could not be run: ${r.error}`);
        else if (r.code !== 0) this.o.say(`error notify ${shown} exited with ${r.code ?? r.signal}`);
        else this.o.say(`notify ${shown}: done`);
      } catch (e) {
        this.o.say(`error notify ${shown}: ${(e as Error).message}`);
      } finally {
        this.pending--;
      }
    });
  }

  /** Runs queued or running. */
  get queued(): number {
    return this.pending;
  }

  /** Resolves when every run queued so far has ended, or after `ms` (whichever first). */
  idle(ms = Number.POSITIVE_INFINITY): Promise<void> {
    if (!Number.isFinite(ms)) return this.chain;
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      void this.chain.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
