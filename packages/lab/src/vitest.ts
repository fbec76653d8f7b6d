// describeWithLab: a describe() that runs only where the machine offers what
// the suite needs, and otherwise is skipped with the reason printed (the root
// SkipGuardReporter turns those skips into a failure under CI=true).
import { afterAll, beforeAll, describe } from 'vitest';
import { type LabNeed, missingFor } from './capabilities.js';
import { Guest, type GuestBootOptions } from './guest.js';
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

/**
 * One qemu guest for a whole test file: call at the top level; the returned
 * function boots it on first use (so a file whose suites are skipped boots
 * nothing) and the guest is shut down after the file.
 */
export function guestPerFile(options: GuestBootOptions = {}): () => Promise<Guest> {
  let booted: Promise<Guest> | undefined;
  afterAll(async () => {
    if (booted) await (await booted.catch(() => undefined))?.shutdown();
  });
  return () => {
    booted ??= Guest.boot({ log: (l) => process.stderr.write(`[lab] ${l}\n`), ...options });
    return booted;
  };
}
