// The one way the lab and the project's tests wait for a condition: read it
// again and again until it holds or a deadline passes. CI is a shared, loaded
// 2-core machine, so a single read right after an action is a flaky test.
import { LabError } from './errors.js';

export interface UntilOptions<T> {
  /** Pause between reads, in ms (default 100). */
  everyMs?: number;
  /** Called after a read that did not hold; it throws to give up early (a process that exited, a split brain). */
  guard?: (last: T) => void | Promise<void>;
  /** What to add to the timeout's message, given the last reading: the reading itself, the processes' logs. */
  detail?: (last: T) => string | Promise<string>;
}

export interface UntilResult<T> {
  /** What the read gave when it held. */
  value: T;
  /** How long that took, in ms. */
  ms: number;
}

/**
 * Polls `read` until `holds` says yes of what it gave; resolves with that
 * reading and the time it took; throws a LabError `TIMEOUT` saying
 * "WHAT: not within MS ms" (and the detail) when `ms` has passed.
 */
export function until<T>(
  what: string,
  read: () => T | Promise<T>,
  ms: number,
  options: UntilOptions<T> & { holds: (value: T) => boolean },
): Promise<UntilResult<T>>;
/** Polls `read` until it gives something other than `false` or `undefined`, as above. */
export function until<T>(
  what: string,
  read: () => T | Promise<T>,
  ms: number,
  options?: UntilOptions<T>,
): Promise<UntilResult<Exclude<T, false | undefined>>>;
export async function until<T>(
  what: string,
  read: () => T | Promise<T>,
  ms: number,
  options: UntilOptions<T> & { holds?: (value: T) => boolean } = {},
): Promise<UntilResult<T>> {
  const holds = options.holds ?? ((v: T) => v !== false && v !== undefined);
  const t0 = performance.now();
  for (;;) {
    const value = await read();
    if (holds(value)) return { value, ms: Math.round(performance.now() - t0) };
    await options.guard?.(value);
    if (performance.now() - t0 > ms) {
      const detail = options.detail ? await options.detail(value) : '';
      throw new LabError('TIMEOUT', `${what}: not within ${ms} ms${detail ? `\n${detail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.everyMs ?? 100));
  }
}
