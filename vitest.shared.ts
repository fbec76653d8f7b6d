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

export const sharedConfig = defineConfig({
  resolve: { alias: workspaceAliases() },
  test: {
    include: ['test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    reporters: ['default', new SkipGuardReporter()],
    testTimeout: 30_000,
    hookTimeout: 300_000,
  },
});
