// describe() for suites that need the real BIRD (and root, namespaces):
// skipped with the reason printed when the machine lacks it (the root
// SkipGuardReporter turns a skip into a failure under CI=true).
import { type LabNeed, missingFor } from '@lvs-ha/lab';
import { describeWithLab } from '@lvs-ha/lab/vitest';
import { describe } from 'vitest';
import { findExecutable } from '../../src/index.js';

export function describeWithBird(needs: readonly LabNeed[], name: string, fn: () => void): void {
  const missing: string[] = [];
  if (!findExecutable('bird'))
    missing.push('no bird executable (Debian package bird2; scripts/setup-system.sh installs it)');
  if (missing.length > 0) {
    const reason = [...missing, ...missingFor(needs)].join('; ');
    process.stderr.write(`[bird] skipping "${name}": ${reason}\n`);
    describe.skip(`${name} (skipped: ${reason})`, fn);
    return;
  }
  if (needs.length === 0) describe(name, fn);
  else describeWithLab(needs, name, fn);
}
