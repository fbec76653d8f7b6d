// Starting a worker thread from a module URL, built or not. A package's dist
// has the worker as .js and Node runs it as it is. From the sources
// (development, tests: the URL ends in .ts) Node cannot run it, and a worker
// does not inherit the loader (tsx, vitest) that ran its parent's
// TypeScript, so tsx's ESM hooks are registered in the worker first. tsx is
// resolved from the worker file's own package, lazily: it is a development
// dependency there, and a built install never needs it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { NoTsxError } from './errors.js';

/**
 * `new Worker(url, options)`, or for a TypeScript source (.ts, .mts, .cts)
 * the same worker with tsx registered before the module is imported.
 * `options` (workerData, transferList, env, resourceLimits…) pass through
 * either way; `eval` is this function's to set. Throws NoTsxError (code
 * NO_TSX) for a .ts URL without tsx installed beside it.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!/\.[cm]?ts$/.test(url.pathname)) return new Worker(url, { ...options, eval: false });
  let api: string;
  try {
    const tsx = createRequire(url).resolve('tsx/package.json');
    // tsx's ESM API (its "./esm/api" export for import); require.resolve would give the CommonJS one.
    api = pathToFileURL(join(dirname(tsx), 'dist/esm/api/index.mjs')).href;
  } catch (e) {
    throw new NoTsxError(url.href, { cause: e });
  }
  const code = `import(${JSON.stringify(api)}).then((t) => { t.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { ...options, eval: true });
}
