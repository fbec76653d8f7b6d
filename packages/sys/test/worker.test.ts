import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { NoTsxError, startWorker } from '../src/index.js';

const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

function nextMessage<T>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('startWorker', () => {
  it('runs a TypeScript worker from the sources, with workerData shared, and gets messages back', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const w = startWorker(new URL('./fixtures/echo-worker.ts', import.meta.url), {
      workerData: { greeting: 'hello', counter },
    });
    workers.push(w);
    expect(await nextMessage(w)).toEqual({ ready: true });
    expect(Atomics.load(counter, 0)).toBe(1);
    w.postMessage('take over');
    const reply = await nextMessage<{ echo: string; greeting: string; url: string }>(w);
    expect(reply.echo).toBe('TAKE OVER!');
    expect(reply.greeting).toBe('hello');
    expect(reply.url).toBe(new URL('./fixtures/echo-worker.ts', import.meta.url).href);
  });

  it('runs a built (.js/.mjs) worker as it is', async () => {
    const url = new URL('./fixtures/plain-worker.mjs', import.meta.url);
    const w = startWorker(url, { workerData: [1, 2] });
    workers.push(w);
    expect(await nextMessage(w)).toEqual({ plain: true, workerData: [1, 2], url: url.href });
  });

  it('says so when tsx is not installed beside a .ts worker', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lvs-ha-sys-'));
    try {
      const file = join(dir, 'lonely-worker.ts');
      writeFileSync(file, 'export {};\n');
      let err: unknown;
      try {
        workers.push(startWorker(pathToFileURL(file)));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NoTsxError);
      expect((err as NoTsxError).code).toBe('NO_TSX');
      expect((err as NoTsxError).message).toContain('lonely-worker.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a worker that fails to load on its error event', async () => {
    const w = startWorker(new URL('./fixtures/no-such-worker.ts', import.meta.url));
    workers.push(w);
    await expect(nextMessage(w)).rejects.toThrow(/no-such-worker/);
  });
});
