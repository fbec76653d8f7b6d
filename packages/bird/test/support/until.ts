// Polls a condition with a deadline: BIRD changes state after it answers
// (a reconfigured protocol goes through "flush" before "down"), and CI is a
// loaded 2-core machine.

/** Resolves with the milliseconds `ok` took to hold; throws "WHAT: not within MS ms". */
export async function until(
  ok: () => boolean | Promise<boolean>,
  ms: number,
  what = 'the condition',
  everyMs = 20,
): Promise<number> {
  const t = performance.now();
  while (!(await ok())) {
    if (performance.now() - t > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return performance.now() - t;
}
