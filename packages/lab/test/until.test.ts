import { describe, expect, it } from 'vitest';
import { LabError, until } from '../src/index.js';

describe('until', () => {
  it('reads until the condition holds and gives its value and the time it took', async () => {
    let n = 0;
    const r = await until('the third read', () => (++n >= 3 ? { n } : undefined), 5000, { everyMs: 5 });
    expect(r.value).toEqual({ n: 3 });
    expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(n).toBe(3);
  });

  it('counts false as not yet, and 0 or an empty string as a value', async () => {
    expect((await until('zero', () => 0, 100)).value).toBe(0);
    expect((await until('empty', async () => '', 100)).value).toBe('');
    let reads = 0;
    await expect(
      until(
        'never',
        () => {
          reads++;
          return false;
        },
        30,
        { everyMs: 5 },
      ),
    ).rejects.toThrow(/^never: not within 30 ms$/);
    expect(reads).toBeGreaterThan(1);
  });

  it('times out with a LabError TIMEOUT and the detail', async () => {
    const e = await until('the table', () => undefined, 20, { everyMs: 5, detail: () => 'last: {}' }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe('TIMEOUT');
    expect((e as Error).message).toBe('the table: not within 20 ms\nlast: {}');
  });

  it('gives up at once when the guard throws', async () => {
    const t0 = performance.now();
    await expect(
      until('never', () => false, 60_000, {
        guard: () => {
          throw new Error('the node exited');
        },
      }),
    ).rejects.toThrow('the node exited');
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});

describe('until with holds', () => {
  it('gives the reading that held, whatever it is, and the last one to the detail', async () => {
    let n = 0;
    expect((await until('n is 2', () => n++, 5000, { everyMs: 5, holds: (v) => v === 2 })).value).toBe(2);
    const e = await until('never 9', () => n++, 20, {
      everyMs: 5,
      holds: (v) => v === 9_999,
      detail: (last) => `last: ${last}`,
    }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(/^never 9: not within 20 ms\nlast: \d+$/);
  });
});
