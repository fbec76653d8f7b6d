// Checks on several threads: one Node thread runs a few thousand connect
// checks a second at most (half of that is kernel work in connect() and
// close()); a pool of worker threads multiplies it. The Monitor keeps the
// schedule and the state; the threads only run checks.
import type { Worker } from 'node:worker_threads';
import { startWorker } from '@lvs-ha/sys';
import type { CheckResult, CheckTarget } from './check.js';
import type { CheckSpec } from './dispatch.js';

type Pending = {
  resolve: (r: CheckResult) => void;
  worker: number;
  signal?: AbortSignal;
  onAbort?: () => void;
};

export class CheckPool {
  private readonly workers: Worker[] = [];
  private readonly outbox: unknown[][] = [];
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private next = 0;
  private scheduled = false;

  constructor(threads: number) {
    const here = import.meta.url;
    // From the sources (tests, tsx) the worker is TypeScript; from dist it is the built entry.
    const url = new URL(here.endsWith('.ts') ? './check-worker.ts' : './check-worker.js', here);
    this.spawn = () => startWorker(url);
    for (let i = 0; i < threads; i++) {
      this.workers.push(this.start(i));
      this.outbox.push([]);
    }
  }

  private readonly spawn: () => Worker;
  private closed = false;

  private start(i: number): Worker {
    const w = this.spawn();
    w.on('message', (batch: [number, CheckResult][]) => {
      for (const [seq, r] of batch) this.settle(seq, r);
    });
    // A thread that dies fails its checks in flight and is replaced (a second later, not in a loop).
    const died = (why: string) => {
      for (const [seq, p] of this.pending)
        if (p.worker === i)
          this.settle(seq, { ok: false, reason: 'error', detail: `check thread: ${why}`, durationMs: 0 });
      if (this.closed || this.workers[i] !== w) return;
      setTimeout(() => {
        if (!this.closed && this.workers[i] === w) this.workers[i] = this.start(i);
      }, 1000).unref();
    };
    w.on('error', (e) => died(e.message));
    w.on('exit', (code) => died(`exited with ${code}`));
    w.unref();
    return w;
  }

  private settle(seq: number, r: CheckResult): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    p.resolve(r);
  }

  private send(worker: number, msg: unknown): void {
    this.outbox[worker]?.push(msg);
    if (this.scheduled) return;
    this.scheduled = true;
    // One message per thread per turn of the event loop, not one per check.
    setImmediate(() => {
      this.scheduled = false;
      this.outbox.forEach((box, i) => {
        if (box.length === 0) return;
        this.workers[i]?.postMessage(box.splice(0));
      });
    });
  }

  run(spec: CheckSpec, target: CheckTarget, round: number, signal?: AbortSignal): Promise<CheckResult> {
    return new Promise((resolve) => {
      const seq = ++this.seq;
      const worker = this.next;
      this.next = (this.next + 1) % this.workers.length;
      const p: Pending = { resolve, worker };
      if (signal) {
        p.signal = signal;
        p.onAbort = () => {
          this.send(worker, { abort: seq });
          this.settle(seq, { ok: false, reason: 'error', detail: 'aborted', durationMs: 0 });
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(seq, p);
      this.send(worker, { seq, spec, target, round });
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) void w.terminate();
    for (const [seq] of this.pending)
      this.settle(seq, { ok: false, reason: 'error', detail: 'stopped', durationMs: 0 });
  }
}
