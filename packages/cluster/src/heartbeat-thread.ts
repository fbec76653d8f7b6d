// The Heartbeat membership on a thread of its own. Heartbeat runs its
// heartbeat in separate realtime processes so that nothing the node does
// can hold back a keepalive; here the resources (the checks, IPVS, module
// loading, garbage collection) share the main thread, and a pause there
// longer than deadtime would make the peer take over a healthy director.
// The thread only speaks Heartbeat; it asks the main thread to run the
// resource actions and waits for each to be done, as Heartbeat waits for its
// resource scripts.
//
// The two threads watch each other, as Heartbeat's processes do. The main
// thread says it is alive every few hundred milliseconds; when it has not
// for `hangMs` (deadtime by default) while this thread ran on time, it is
// hung and cannot take anything down: this thread takes the VIPs down
// itself (it is told which are up after every change), then leaves with
// Heartbeat's "shutdone" so the peer takes over at once, and ends the
// process. A VIP it cannot take down keeps it heartbeating (the peer must
// not take over into a split brain) and is said on stderr every second.
// The main thread treats this thread's death the same way (ClusterNode).

import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { isMainThread, parentPort, type Worker, workerData } from 'node:worker_threads';
import {
  HeartbeatNode,
  type HeartbeatNodeOptions,
  type HeartbeatStats,
  type ResourceAction,
} from '@lvs-ha/hb-proto';
import { startWorker } from '@lvs-ha/sys';
import type { FailStopItem } from './resources.js';

/** The node's options without the resource runner (it stays on the main thread). */
export type HeartbeatThreadOptions = Omit<HeartbeatNodeOptions, 'resources'> & {
  resources?: Omit<NonNullable<HeartbeatNodeOptions['resources']>, 'run'>;
  /** Milliseconds without a sign of life from the main thread before it counts as hung (default deadtime). */
  hangMs?: number;
};

type ToMain =
  | { t: 'started' }
  | { t: 'status'; peer: string; status: string }
  | { t: 'link'; peer: string; medium: string; status: string }
  | { t: 'change'; holding: string; state: string }
  | { t: 'partition'; peer: string }
  | { t: 'frozen'; ms: number }
  | { t: 'warning'; message: string }
  | { t: 'error'; message: string }
  | { t: 'action'; action: ResourceAction }
  | { t: 'stats'; id: number; stats: HeartbeatStats }
  | { t: 'closed' };
type ToThread =
  | { t: 'done'; id: number }
  | { t: 'alive' }
  | { t: 'failstop'; items: FailStopItem[] }
  | { t: 'standby' | 'takeover'; which: 'all' | 'local' | 'foreign' | 'failback' }
  | { t: 'close'; graceful: boolean }
  | { t: 'stats'; id: number }
  | { t: 'crash' };

type Events = {
  status: [peer: string, status: string];
  link: [peer: string, medium: string, status: string];
  change: [holding: string, state: string];
  /** The peer talks again after we took it for dead without its having restarted (Heartbeat: "returning after partition"). */
  partition: [peer: string];
  /** The whole process was stopped this long (SIGSTOP, a suspended VM): the peer may have taken over meanwhile. */
  frozen: [ms: number];
  warning: [message: string];
  error: [message: string];
  /** The thread ended without being closed (a crash). */
  died: [reason: string];
};

/** How often the main thread says it is alive. */
const ALIVE_EVERY_MS = 200;

/** The thread: dist's heartbeat-thread.js, or this very file when running from the sources. */
function spawnThread(options: HeartbeatThreadOptions): Worker {
  const here = new URL(import.meta.url);
  const file = here.pathname.endsWith('.ts') ? here : new URL('./heartbeat-thread.js', here);
  return startWorker(file, { workerData: options });
}

/** A HeartbeatNode running on a worker thread; `run` executes resource actions on this thread. */
export class HeartbeatThread extends EventEmitter<Events> {
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private closed: (() => void) | undefined;
  private closing = false;
  private exited = false;
  private readonly alive: NodeJS.Timeout;
  /** stats() asked of the thread, by request id. */
  private readonly asked = new Map<number, (s: HeartbeatStats | undefined) => void>();
  private nextAsk = 0;

  constructor(options: HeartbeatThreadOptions, run: (a: ResourceAction) => Promise<void>) {
    super();
    this.worker = spawnThread(options);
    let ready: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.started.catch(() => undefined);
    this.alive = setInterval(() => this.send({ t: 'alive' }), ALIVE_EVERY_MS);
    this.worker.on('error', (e) => {
      failed(e);
      this.emit('error', `heartbeat thread: ${e.message}`);
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      clearInterval(this.alive);
      failed(new Error(`heartbeat thread exited with ${code}`));
      for (const answer of this.asked.values()) answer(undefined);
      this.asked.clear();
      if (!this.closing) this.emit('died', `the heartbeat thread ended (exit code ${code})`);
      this.closed?.();
    });
    this.worker.on('message', (m: ToMain) => {
      switch (m.t) {
        case 'started':
          return ready();
        case 'status':
          return this.emit('status', m.peer, m.status);
        case 'link':
          return this.emit('link', m.peer, m.medium, m.status);
        case 'change':
          return this.emit('change', m.holding, m.state);
        case 'partition':
          return this.emit('partition', m.peer);
        case 'frozen':
          return this.emit('frozen', m.ms);
        case 'warning':
          return this.emit('warning', m.message);
        case 'error':
          return this.emit('error', m.message);
        case 'closed':
          return this.closed?.();
        case 'stats':
          this.asked.get(m.id)?.(m.stats);
          this.asked.delete(m.id);
          return;
        case 'action':
          // The thread waits for this, as Heartbeat waits for its scripts; the
          // runner resolves only when the action is really over.
          void run(m.action)
            .catch(() => undefined)
            .then(() => this.send({ t: 'done', id: m.action.id }));
      }
    });
  }

  private send(m: ToThread): void {
    if (!this.exited) this.worker.postMessage(m);
  }

  /** Joins the cluster. */
  start(): Promise<void> {
    return this.started;
  }

  /** hb_standby: give these groups to the peer. */
  standby(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    this.send({ t: 'standby', which });
  }

  /** hb_takeover: take these groups from the peer. */
  takeover(which: 'all' | 'local' | 'foreign' | 'failback' = 'all'): void {
    this.send({ t: 'takeover', which });
  }

  /** What the thread takes down itself should this thread hang (ResourceRunner.failStopList()). */
  failStopList(items: FailStopItem[]): void {
    this.send({ t: 'failstop', items });
  }

  /**
   * The membership's counters (HeartbeatNode.stats()), asked of the thread
   * when wanted (a scrape), not posted on a timer: one message each way.
   * Undefined when the thread is gone or does not answer within `timeoutMs`.
   */
  stats(timeoutMs = 1000): Promise<HeartbeatStats | undefined> {
    if (this.exited) return Promise.resolve(undefined);
    const id = ++this.nextAsk;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.asked.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.asked.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.send({ t: 'stats', id });
    });
  }

  /** For fault-injection tests only: the thread throws an uncaught error, as a bug would. */
  crash(): void {
    this.send({ t: 'crash' });
  }

  /** Leaves (graceful: resources released through `run`, the peer told) and ends the thread. */
  async close({ graceful = false } = {}): Promise<void> {
    this.closing = true;
    clearInterval(this.alive);
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      this.closed = resolve;
      this.send({ t: 'close', graceful });
    });
    await this.worker.terminate();
  }
}

// The thread's side.
if (!isMainThread && parentPort && (workerData as { node?: unknown } | undefined)?.node !== undefined) {
  const port = parentPort;
  const post = (m: ToMain) => port.postMessage(m);
  const options = workerData as HeartbeatThreadOptions;
  const waiting = new Map<number, () => void>();
  let items: FailStopItem[] = [];
  let closing = false;
  // Heartbeat runs its heartbeat processes at realtime priority (ha.cf's
  // `realtime`, on by default) so that a busy machine does not delay them
  // past deadtime; a nice value for this thread alone is what Node allows
  // (setpriority on Linux applies to the calling thread). Needs root; else
  // it runs at the process's priority.
  try {
    setPriority(0, -15);
  } catch {
    // not permitted: the default priority
  }
  const node = new HeartbeatNode({
    ...options,
    ...(options.resources && {
      resources: {
        ...options.resources,
        run: (action: ResourceAction) =>
          new Promise<void>((resolve) => {
            waiting.set(action.id, resolve);
            post({ t: 'action', action });
          }),
      },
    }),
  } as HeartbeatNodeOptions);
  node.on('status', (peer, status) => post({ t: 'status', peer, status }));
  node.on('link', (peer, medium, status) => post({ t: 'link', peer, medium, status }));
  node.on('partition', (peer) => post({ t: 'partition', peer }));
  node.on('error', (e) => post({ t: 'error', message: e.message }));
  node.resources?.on('change', (holding, state) => post({ t: 'change', holding, state }));
  node.resources?.on('warning', (message) => post({ t: 'warning', message }));

  // stderr straight to the descriptor: the main thread relays a worker's process.stderr, and it may be hung
  const loud = (line: string) => writeSync(2, `lvs-ha: ${line}\n`);
  const hangMs = options.hangMs ?? options.deadtimeMs;
  let lastAlive = performance.now();
  let lastCheck = performance.now();
  let failing = false;
  const stopScript = (i: Extract<FailStopItem, { kind: 'script' }>) =>
    new Promise<void>((resolve, reject) =>
      execFile(i.path, [...i.args, 'stop'], { timeout: i.timeoutMs, killSignal: 'SIGKILL' }, (err) =>
        err ? reject(new Error(`${[i.path, ...i.args, 'stop'].join(' ')}: ${err.message}`)) : resolve(),
      ),
    );
  const failStop = async (reason: string) => {
    failing = true;
    loud(
      `${reason}: taking the groups down from the heartbeat thread (VIPs, scripts), then leaving the cluster`,
    );
    const { release } = await import('@lvs-ha/vip');
    for (;;) {
      const left: FailStopItem[] = [];
      for (const i of items) {
        try {
          if (i.kind === 'vip') loud(`vip ${i.spec} down on ${(await release(i.spec)).interface}`);
          else {
            await stopScript(i);
            loud(`${i.path} stop: done`);
          }
        } catch (e) {
          left.push(i);
          loud(
            `error ${i.kind === 'vip' ? `vip ${i.spec}` : i.path} cannot be taken down: ${(e as Error).message}`,
          );
        }
      }
      items = left;
      if (left.length === 0) break;
      loud(
        'still heartbeating: a resource may be up here, and the peer must not take it over beside it; trying again in 1 s',
      );
      await new Promise((r) => setTimeout(r, 1000));
    }
    await node.leave();
    loud('left the cluster (shutdone sent: the peer takes over now); ending the process');
    process.kill(process.pid, 'SIGKILL');
  };
  // The peer declares us dead after deadtime of silence. (Our last heartbeat may be a keepalive
  // older still; deadtime itself keeps a busy machine's scheduling stalls from counting.)
  const frozenMs = options.deadtimeMs;
  const watchdog = setInterval(() => {
    const now = performance.now();
    // This thread ran late too: the whole process was stopped (SIGSTOP, a
    // suspended VM), not the main thread alone. Give it time to speak, and
    // tell it: long enough, and the peer has taken over meanwhile.
    if (now - lastCheck > hangMs / 2) lastAlive = now;
    if (now - lastCheck > frozenMs && !closing) post({ t: 'frozen', ms: Math.round(now - lastCheck) });
    lastCheck = now;
    if (!failing && !closing && now - lastAlive > hangMs)
      void failStop(`the main thread has not answered for ${Math.round(now - lastAlive)} ms (hung)`);
  }, 100);

  port.on('message', (m: ToThread) => {
    if (m.t === 'done') {
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    } else if (m.t === 'alive') lastAlive = performance.now();
    else if (m.t === 'failstop') items = m.items;
    else if (m.t === 'stats') post({ t: 'stats', id: m.id, stats: node.stats() });
    else if (m.t === 'standby') node.resources?.standby(m.which);
    else if (m.t === 'takeover') node.resources?.takeover(m.which);
    else if (m.t === 'crash')
      setImmediate(() => {
        throw new Error('fault injection: the heartbeat thread crashes');
      });
    else if (m.t === 'close') {
      closing = true;
      clearInterval(watchdog);
      void node.close({ graceful: m.graceful }).then(() => post({ t: 'closed' }));
    }
  });
  node.start().then(
    () => post({ t: 'started' }),
    (e: Error) => {
      post({ t: 'error', message: e.message });
      process.exit(1);
    },
  );
}
