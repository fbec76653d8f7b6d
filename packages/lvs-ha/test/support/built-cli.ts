// The built CLI (dist/cli.js), for the tests that run `lvs-ha` inside the
// qemu guest: Node starts it in a few seconds under emulation, where tsx on
// the sources takes half a minute per process. `pnpm test` builds before it
// tests; by hand, build first (pnpm turbo run build --filter=lvs-ha...).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
export const BUILT_CLI = join(root, 'lvs-ha/dist/cli.js');

/** The newest mtime (ms) of the files under dir, 0 when there is none. */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  return t;
}

/**
 * The built CLI's path; throws when it is missing. A package whose sources
 * are newer than its build is said on stderr (the run tests the build, not
 * the sources): a stale dist would otherwise pass or fail for old code.
 */
export function builtCli(): string {
  if (!existsSync(BUILT_CLI))
    throw new Error(`${BUILT_CLI} is missing: build first (pnpm turbo run build --filter=lvs-ha...)`);
  const stale = readdirSync(root).filter((p) => newest(join(root, p, 'src')) > newest(join(root, p, 'dist')));
  if (stale.length > 0)
    process.stderr.write(
      `[built-cli] warning: the sources of ${stale.join(', ')} are newer than their dist: the guest runs the last build (pnpm turbo run build --filter=lvs-ha...)\n`,
    );
  return BUILT_CLI;
}

/** The arguments of `lvs-ha start` as the tests give them: a node's config dir and control socket, then `extra`. */
export function startArgs(configDir: string, node: string, control: string, ...extra: string[]): string[] {
  return ['start', '--config-dir', configDir, '--node', node, '--control', control, ...extra];
}

/** `lvs-ha start` of the built CLI, as the guest tests run it (see startArgs). */
export function startArgv(configDir: string, node: string, control: string, ...extra: string[]): string[] {
  return ['node', BUILT_CLI, ...startArgs(configDir, node, control, ...extra)];
}
