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

function workspaceAliases(): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const dir of readdirSync(packagesDir)) {
    const manifest = join(packagesDir, dir, 'package.json');
    const entry = join(packagesDir, dir, 'src', 'index.ts');
    if (!existsSync(manifest) || !existsSync(entry)) continue;
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string };
    aliases[name] = entry;
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
