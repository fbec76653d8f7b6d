// A prober child process inside a namespace (test/child/prober.ts under tsx).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@lvs-ha/lab';
import type { CheckResult, Transition } from '../../src/index.js';

const pkg = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('../child/prober.ts', import.meta.url));

export interface Prober {
  call<T = CheckResult>(op: string, fields?: Record<string, unknown>): Promise<T>;
  transitions: Transition[];
  /** Waits for a transition matching `pred` (seen before or after the call). */
  transition(pred: (t: Transition) => boolean, timeoutMs: number): Promise<Transition>;
  close(): Promise<void>;
}

/** `wrap` goes before node (setpriv, to run the prober without a capability). */
export async function startProber(ns: Netns, wrap: readonly string[] = []): Promise<Prober> {
  // Netns.spawn() closes stdin; the requests go there.
  const proc: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', ns.name, ...wrap, process.execPath, '--import', 'tsx', child],
    {
      cwd: pkg,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>();
  const transitions: Transition[] = [];
  const listeners = new Set<() => void>();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => {
    ready = r;
  });
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    const m = JSON.parse(line) as { id?: number; event?: string } & Record<string, unknown>;
    if (m.event === 'ready') ready();
    else if (m.event === 'transition') {
      transitions.push(m as unknown as Transition);
      for (const l of listeners) l();
    } else if (m.id !== undefined) waiting.get(m.id)?.(m as { result?: unknown; error?: string });
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await Promise.race([
    isReady,
    exited.then(() => {
      throw new Error(`prober exited: ${stderr}`);
    }),
  ]);
  let next = 1;
  return {
    transitions,
    call<T>(op: string, fields: Record<string, unknown> = {}) {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, (m) => {
          waiting.delete(id);
          if (m.error) reject(new Error(m.error));
          else resolve(m.result as T);
        });
        proc.stdin!.write(`${JSON.stringify({ id, op, ...fields })}\n`);
      });
    },
    transition(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = transitions.find(pred);
          if (!hit) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no such transition within ${timeoutMs} ms; saw ${JSON.stringify(transitions)} ${stderr}`,
            ),
          );
        }, timeoutMs);
        if (!check()) listeners.add(check);
      });
    },
    async close() {
      proc.stdin!.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      proc.kill('SIGKILL');
    },
  };
}
