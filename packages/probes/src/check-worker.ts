// A thread of the Monitor's check pool: runs the checks it is sent and sends
// the results back in batches (one message per turn of its event loop).
import { parentPort } from 'node:worker_threads';
import type { CheckResult, CheckTarget } from './check.js';
import { type CheckSpec, runCheck } from './dispatch.js';

type Job = { seq: number; spec: CheckSpec; target: CheckTarget; round: number } | { abort: number };

const port = parentPort;
if (port) {
  const aborts = new Map<number, AbortController>();
  let out: [number, CheckResult][] = [];
  let flushing = false;
  const flush = () => {
    flushing = false;
    const batch = out;
    out = [];
    port.postMessage(batch);
  };
  port.on('message', (jobs: Job[]) => {
    for (const job of jobs) {
      if ('abort' in job) {
        aborts.get(job.abort)?.abort();
        continue;
      }
      const ac = new AbortController();
      aborts.set(job.seq, ac);
      runCheck(job.spec, job.target, job.round, ac.signal)
        .catch(
          (e: unknown): CheckResult => ({ ok: false, reason: 'error', detail: String(e), durationMs: 0 }),
        )
        .then((r) => {
          aborts.delete(job.seq);
          out.push([job.seq, r]);
          if (!flushing) {
            flushing = true;
            setImmediate(flush);
          }
        });
    }
  });
}
