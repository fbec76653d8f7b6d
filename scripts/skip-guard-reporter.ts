// Under CI=true a skipped test is a failure: a suite that silently did not
// run proves nothing. Locally, skips are listed with their reasons.
import type { Reporter, TestModule } from 'vitest/node';

export class SkipGuardReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        if (test.result().state === 'skipped') skipped.push(`${mod.moduleId} > ${test.fullName}`);
      }
    }
    if (skipped.length === 0) return;
    const ci = process.env.CI === 'true' || process.env.CI === '1';
    const header = ci
      ? `CI=true and ${skipped.length} test(s) were skipped:`
      : `${skipped.length} test(s) skipped:`;
    process.stderr.write(`\n${header}\n${skipped.map((s) => `  - ${s}`).join('\n')}\n`);
    if (ci) process.exitCode = 1;
  }
}
