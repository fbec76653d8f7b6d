// The Heartbeat membership on a thread of its own. Heartbeat runs its
// heartbeat in separate realtime processes so that nothing the node does
// can hold back a keepalive; here the resources (the checks, IPVS, module
// loading, garbage collection) share the main thread, and a pause there
// longer than deadtime would make the peer take over a healthy director.
// The thread only speaks Heartbeat; it asks the main thread to run the
// resource actions and waits for each to be done, as Heartbeat waits for its
// resource scripts.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { HeartbeatNode, type HeartbeatNodeOptions, type ResourceAction } from '@lvs-ha/hb-proto';

/** The node's options without the resource runner (it stays on the main thread). */
export type HeartbeatThreadOptions = Omit<HeartbeatNodeOptions, 'resources'> & {
  resources?: Omit<NonNullable<HeartbeatNodeOptions['resources']>, 'run'>;
};

type ToMain =
  | { t: 'started' }
  | { t: 'status'; peer: string; status: string }
  | { t: 'link'; peer: string; medium: string; status: string }
  | { t: 'change'; holding: string; state: string }
  | { t: 'warning'; message: string }
  | { t: 'error'; message: string }
  | { t: 'action'; action: ResourceAction }
  | { t: 'closed' };
type ToThread =
  | { t: 'done'; id: number }
  | { t: 'standby' | 'takeover'; which: 'all' | 'local' | 'foreign' | 'failback' }
  | { t: 'close'; graceful: boolean };

type Events = {
  status: [peer: string, status: string];
  link: [peer: string, medium: string, status: string];
  change: [holding: string, state: string];
  warning: [message: string];
  error: [message: string];
};

/**
 * The thread: dist's heartbeat-thread.js, or from the sources (development,
 * tests) this file, after tsx's hooks are registered in the thread (a
 * worker does not inherit the --import that loaded tsx here).
 */
function spawnThread(options: HeartbeatThreadOptions): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts'))
    return new Worker(new URL('./heartbeat-thread.js', here), { workerData: options });
  const api = pathToFileURL(
    join(dirname(createRequire(here).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
  ).href;
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(here)}); });`;
  return new Worker(code, { eval: true, workerData: options });
}

/** A HeartbeatNode running on a worker thread; `run` executes resource actions on this thread. */
export class HeartbeatThread extends EventEmitter<Events> {
  private readonly worker: Worker;
  private readonly started: Promise<void>;
  private closed: (() => void) | undefined;
  private exited = false;

  constructor(options: HeartbeatThreadOptions, run: (a: ResourceAction) => Promise<void>) {
    super();
    this.worker = spawnThread(options);
    let ready: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    this.started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.worker.on('error', (e) => {
      failed(e);
      this.emit('error', `heartbeat thread: ${e.message}`);
    });
    this.worker.on('exit', (code) => {
      this.exited = true;
      failed(new Error(`heartbeat thread exited with ${code}`));
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
        case 'warning':
          return this.emit('warning', m.message);
        case 'error':
          return this.emit('error', m.message);
        case 'closed':
          return this.closed?.();
        case 'action':
          // The thread waits for this, as Heartbeat waits for its scripts; a failure is the runner's to report.
          void run(m.action)
            .catch(() => undefined)
            .then(() => this.send({ t: 'done', id: m.action.id }));
      }
    });
  }

  private send(m: ToThread): void {
    this.worker.postMessage(m);
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

  /** Leaves (graceful: resources released through `run`, the peer told) and ends the thread. */
  async close({ graceful = false } = {}): Promise<void> {
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
  node.on('error', (e) => post({ t: 'error', message: e.message }));
  node.resources?.on('change', (holding, state) => post({ t: 'change', holding, state }));
  node.resources?.on('warning', (message) => post({ t: 'warning', message }));
  port.on('message', (m: ToThread) => {
    if (m.t === 'done') {
      waiting.get(m.id)?.();
      waiting.delete(m.id);
    } else if (m.t === 'standby') node.resources?.standby(m.which);
    else if (m.t === 'takeover') node.resources?.takeover(m.which);
    else if (m.t === 'close') void node.close({ graceful: m.graceful }).then(() => post({ t: 'closed' }));
  });
  node.start().then(
    () => post({ t: 'started' }),
    (e: Error) => {
      post({ t: 'error', message: e.message });
      process.exit(1);
    },
  );
}
