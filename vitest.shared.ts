// One vitest configuration for every package: workspace packages resolve to
// their TypeScript sources (tests never need a prior build), and a reporter
// that turns skipped tests into a failure when CI=true.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SkipGuardReporter } from './scripts/skip-guard-reporter.ts';

const root = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(root, 'packages');

/**
 * Each workspace package's exports (".", "./vitest"...) mapped to the
 * source file its dist entry is built from (dist/X.js <- src/X.ts), matched
 * exactly: a prefix match would send "@lvs-ha/lab/vitest" to
 * ".../src/index.ts/vitest".
 */
function workspaceAliases(): { find: RegExp; replacement: string }[] {
  const aliases: { find: RegExp; replacement: string }[] = [];
  for (const dir of readdirSync(packagesDir)) {
    const manifest = join(packagesDir, dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, exports = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      name: string;
      exports?: Record<string, { import?: string } | string>;
    };
    for (const [sub, target] of Object.entries(exports)) {
      const built = typeof target === 'string' ? target : target.import;
      const m = built ? /^\.\/dist\/(.+)\.js$/.exec(built) : null;
      const source = m ? join(packagesDir, dir, 'src', `${m[1]}.ts`) : undefined;
      if (!source || !existsSync(source)) continue;
      const spec = sub === '.' ? name : `${name}/${sub.slice(2)}`;
      aliases.push({
        find: new RegExp(`^${spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
        replacement: source,
      });
    }
  }
  return aliases;
}

/** A test file boots the qemu guest when it asks for one (the lab's helper or Guest.boot). */
const BOOTS_GUEST = /\bguestPerFile\(|\bGuest\.boot\(/;

/**
 * LVS_HA_TEST_LANE=guest keeps the files that boot the qemu guest,
 * LVS_HA_TEST_LANE=host the others (scripts/test-lanes.mjs runs the two
 * lanes side by side: TCG keeps one core busy, the namespace suites mostly
 * wait on timers). Unset: every file, as a developer runs `vitest run`.
 */
function laneExcludes(): { exclude: string[]; passWithNoTests: boolean } {
  const lane = process.env.LVS_HA_TEST_LANE;
  if (lane !== 'guest' && lane !== 'host') return { exclude: [], passWithNoTests: false };
  const dir = join(process.cwd(), 'test');
  const files = existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts'))
    : [];
  const exclude = files
    .filter((f) => BOOTS_GUEST.test(readFileSync(join(dir, f), 'utf8')) !== (lane === 'guest'))
    .map((f) => `test/${f}`);
  // a package may have no file in a lane
  return { exclude, passWithNoTests: true };
}

const lane = laneExcludes();

export const sharedConfig = defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...lane.exclude],
    passWithNoTests: lane.passWithNoTests,
    benchmark: { include: ['bench/**/*.bench.ts'] },
    reporters: ['default', new SkipGuardReporter()],
    testTimeout: 30_000,
    hookTimeout: 300_000,
  },
});
