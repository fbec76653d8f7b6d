// describeWithLab: a describe() that runs only where the machine offers what
// the suite needs, and otherwise is skipped with the reason printed (the root
// SkipGuardReporter turns those skips into a failure under CI=true).
import { afterAll, beforeAll, describe } from 'vitest';
import { type LabNeed, missingFor } from './capabilities.js';
import { cleanupStaleNetns, destroyAllNetns } from './netns.js';

export function describeWithLab(needs: readonly LabNeed[], name: string, fn: () => void): void {
  const missing = missingFor(needs);
  if (missing.length > 0) {
    const reason = missing.join('; ');
    process.stderr.write(`[lab] skipping "${name}": ${reason}\n`);
    describe.skip(`${name} (skipped: ${reason})`, fn);
    return;
  }
  describe(name, () => {
    beforeAll(() => {
      const stale = cleanupStaleNetns();
      if (stale.length > 0) process.stderr.write(`[lab] removed stale namespaces: ${stale.join(', ')}\n`);
    });
    // Registered before the suite's own hooks: vitest runs after-hooks as a
    // stack, so this runs last and removes whatever the suite did not tear
    // down (because it failed half-way).
    afterAll(async () => {
      await destroyAllNetns();
    });
    fn();
  });
}
