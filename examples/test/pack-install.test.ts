// Every published package installs and imports alone: each is packed as
// `pnpm publish` would pack it, installed with npm from its tarball in an
// empty directory outside the workspace (our own names come from the
// tarballs, everything else from the registry), and every entry of its
// exports map is imported there. lvs-ha's command runs from such an install,
// and its runtime tree carries neither the lab nor a test framework.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL_TIMEOUT = 300_000; // npm install from a cold cache can take minutes on a loaded machine

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

interface Published {
  dir: string;
  manifest: Manifest;
}

// Found anew on each run, so a package added under packages/ is covered
// without touching this file.
const published: Published[] = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter((p) => !p.manifest.private)
  .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
const ours = new Set(published.map((p) => p.manifest.name));

/** Packages that have no place in the runtime tree of anything but the lab itself. */
const DEV_ONLY = [
  /^@lvs-ha\/lab$/, // network namespaces and a qemu guest
  /^vitest$/,
  /^@vitest\//,
  /^vite$/,
  /^jest$/,
  /^@jest\//,
  /^mocha$/,
  /^jasmine(-core)?$/,
  /^ava$/,
  /^tap$/,
  /^chai$/,
  /^sinon$/,
  /^fast-check$/,
  /^tsx$/,
  /^typescript$/,
  /^tsup$/,
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// Nothing of the workspace's pnpm run (npm_config_*, its engine-strict, the
// package it runs for) reaches the npm and node started here.
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$|VITEST)/.test(k)) continue;
    env[k] = v;
  }
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeout = INSTALL_TIMEOUT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { cwd, env: cleanEnv(), timeout, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr: err && code === null ? `${stderr}\n${err.message}` : stderr });
      },
    );
  });
}

const said = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** The entries of an exports map, each with the file its import condition names (undefined: types only). */
function exportEntries(manifest: Manifest): { subpath: string; file: string | undefined; types?: string }[] {
  const ex = manifest.exports;
  if (ex === undefined) return [{ subpath: '.', file: manifest.main ?? 'index.js', types: manifest.types }];
  const map =
    typeof ex === 'string' || Object.keys(ex as object).some((k) => !k.startsWith('.'))
      ? { '.': ex }
      : (ex as Record<string, unknown>);
  return Object.entries(map).map(([subpath, target]) => {
    if (typeof target === 'string') return { subpath, file: target };
    const t = target as Record<string, unknown>;
    const file = [t.import, t.node, t.default].find((x) => typeof x === 'string') as string | undefined;
    return { subpath, file, ...(typeof t.types === 'string' ? { types: t.types } : {}) };
  });
}

function binFiles(manifest: Manifest): Record<string, string> {
  const bin = manifest.bin;
  if (bin === undefined) return {};
  if (typeof bin === 'string') return { [manifest.name.replace(/^@[^/]+\//, '')]: bin };
  return bin;
}

/** Every file the manifest points at: what a consumer's import, types or bin would open. */
function namedFiles(manifest: Manifest): string[] {
  const files = new Set<string>();
  for (const e of exportEntries(manifest)) {
    if (e.file) files.add(e.file);
    if (e.types) files.add(e.types);
  }
  for (const f of [manifest.main, manifest.types, ...Object.values(binFiles(manifest))]) if (f) files.add(f);
  return [...files].map((f) => f.replace(/^\.\//, ''));
}

/**
 * Imports each entry of a package's exports map in a plain node (no tsx, no
 * vitest), from the install directory: every named export defined, no
 * default export, at least one export; JSON entries (./package.json) load.
 */
const IMPORT_CHECK = `
const [name, subpaths] = [process.argv[2], JSON.parse(process.argv[3])];
const out = {};
for (const sub of subpaths) {
  const spec = sub === '.' ? name : name + sub.slice(1);
  try {
    if (sub.endsWith('.json')) {
      const m = await import(spec, { with: { type: 'json' } });
      out[sub] = { json: m.default.name };
      continue;
    }
    const m = await import(spec);
    const names = Object.keys(m);
    out[sub] = {
      names,
      undefinedNames: names.filter((k) => m[k] === undefined),
      hasDefault: 'default' in m,
    };
  } catch (e) {
    out[sub] = { error: String(e && e.stack ? e.stack.split('\\n').slice(0, 3).join(' | ') : e) };
  }
}
console.log(JSON.stringify(out));
`;

interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}

/** Paths (a > b > c@1.2.3) to every dev-only package below `name` in `npm ls --all --json`, skipping `skip` children of the top. */
function devOnlyBelow(name: string, node: LsNode, skip: Set<string>): string[] {
  const found: string[] = [];
  const walk = (n: LsNode, path: string[], depth: number) => {
    for (const [child, sub] of Object.entries(n.dependencies ?? {})) {
      if (sub.version === undefined) continue; // an optional dependency npm did not install
      if (depth === 0 && skip.has(child)) continue;
      const here = [...path, `${child}@${sub.version}`];
      if (DEV_ONLY.some((re) => re.test(child))) found.push(here.join(' > '));
      else if (path.length < 40) walk(sub, here, depth + 1);
    }
  };
  walk(node, [name], 0);
  return found;
}

/** The name of every package directory under dir/node_modules, at any depth. */
function installedNames(dir: string): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(join(dir, 'node_modules'), { recursive: true }) as string[]) {
    const m = /(?:^|\/node_modules\/)((?:@[^/]+\/)?[^/@][^/]*)\/package\.json$/.exec(f);
    if (m?.[1]) names.add(m[1]);
  }
  return [...names].sort();
}

let work = '';
const tarballs = new Map<string, string>();
const notBuilt = new Map<string, string>();
// Each package's tests start here: a package that is not built fails its own tests, not the others'.
function packed(name: string): string {
  const why = notBuilt.get(name);
  if (why)
    throw new Error(
      `${name} is not built (${why}): turbo run test --filter=@lvs-ha/examples builds every package examples/package.json depends on first`,
    );
  const tarball = tarballs.get(name);
  if (!tarball) throw new Error(`${name} was not packed`);
  return tarball;
}
const installs = new Map<string, Promise<{ dir: string; install: Run }>>();

/**
 * One empty directory per package: its tarball as the only dependency (plus
 * its optional peers from the registry, at the workspace's version, when they
 * are not ours: the lab's ./vitest entry needs vitest, and lvs-ha must run
 * without the lab), every name of ours overridden to its tarball so npm never
 * asks the registry for them.
 */
function installAlone(p: Published): Promise<{ dir: string; install: Run }> {
  const name = p.manifest.name;
  let pending = installs.get(name);
  if (!pending) {
    pending = (async () => {
      const dir = join(work, 'alone', name.replace('/', '+'));
      mkdirSync(dir, { recursive: true });
      // Every package of ours it needs must be packed: npm would otherwise ask the registry for it.
      for (const n of oursNeededBy(name)) packed(n);
      const dependencies: Record<string, string> = { [name]: `file:${packed(name)}` };
      for (const [peer, range] of Object.entries(p.manifest.peerDependencies ?? {})) {
        if (ours.has(peer) || !p.manifest.peerDependenciesMeta?.[peer]?.optional) continue;
        dependencies[peer] = workspaceVersion(p.dir, peer) ?? range;
      }
      const overrides = Object.fromEntries([...tarballs].map(([n, t]) => [n, `file:${t}`]));
      writeFileSync(
        join(dir, 'package.json'),
        `${JSON.stringify({ name: 'pack-install-check', private: true, type: 'module', dependencies, overrides }, null, 2)}\n`,
      );
      writeFileSync(join(dir, 'import-check.mjs'), IMPORT_CHECK);
      // --engine-strict: a dependency whose engines exclude this Node fails here.
      const install = await run('npm', ['install', '--no-audit', '--no-fund', '--engine-strict'], dir);
      return { dir, install };
    })();
    installs.set(name, pending);
  }
  return pending;
}

/** The packages of ours that installing `name` brings in (dependencies and required peers, transitively). */
function oursNeededBy(name: string, seen = new Set<string>()): Set<string> {
  const m = published.find((p) => p.manifest.name === name)?.manifest;
  const required = Object.keys({ ...m?.dependencies, ...m?.peerDependencies }).filter(
    (n) => ours.has(n) && !m?.peerDependenciesMeta?.[n]?.optional && !seen.has(n),
  );
  for (const n of required) {
    seen.add(n);
    oursNeededBy(n, seen);
  }
  return seen;
}

function workspaceVersion(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const m = join(dir, 'node_modules', name, 'package.json');
    if (existsSync(m)) return (JSON.parse(readFileSync(m, 'utf8')) as Manifest).version;
    if (dirname(dir) === dir) return undefined;
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'lvs-ha-pack-'));
  // Node would also look in node_modules above the install directories.
  for (let dir = work; dirname(dir) !== dir; dir = dirname(dir))
    if (existsSync(join(dirname(dir), 'node_modules')))
      throw new Error(`${join(dirname(dir), 'node_modules')} would be seen by the installs in ${work}`);
  for (const p of published) {
    const missing = namedFiles(p.manifest).filter((f) => !existsSync(join(p.dir, f)));
    // Only missing files are caught: turbo's cache restores dist/ with the
    // archived mtimes, so a source newer than its build proves nothing.
    if (missing.length > 0) {
      notBuilt.set(p.manifest.name, `${missing.join(', ')} missing`);
      continue;
    }
    const r = await run(
      'pnpm',
      ['pack', '--json', '--pack-destination', join(work, 'tarballs')],
      p.dir,
      120_000,
    );
    if (r.code !== 0) throw new Error(`pnpm pack of ${p.manifest.name} failed: ${said(r)}`);
    tarballs.set(p.manifest.name, (JSON.parse(r.stdout) as { filename: string }).filename);
  }
}, INSTALL_TIMEOUT);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the workspace', () => {
  it('has published packages, each with a version, and lvs-ha among them', () => {
    expect(published.length).toBeGreaterThan(1);
    expect([...ours]).toContain('lvs-ha');
    for (const p of published) expect(p.manifest.version, p.manifest.name).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('examples/package.json depends on every published package, so turbo builds each before this test', () => {
    const m = JSON.parse(readFileSync(join(root, 'examples', 'package.json'), 'utf8')) as Manifest;
    const listed = new Set(Object.keys({ ...m.dependencies, ...m.devDependencies }));
    expect([...ours].filter((n) => !listed.has(n))).toEqual([]);
  });
});

describe.each(published.map((p) => [p.manifest.name, p] as const))('%s', (name, p) => {
  it('packs with the LICENSE, its README, every file its manifest names, and no workspace: range', async () => {
    const tarball = packed(name);
    const list = await run('tar', ['-tzf', tarball], work, 60_000);
    expect(list.code, said(list)).toBe(0);
    const files = new Set(list.stdout.split('\n').map((f) => f.replace(/^package\//, '')));
    const wanted = ['LICENSE', 'README.md', 'package.json', ...namedFiles(p.manifest)];
    expect(wanted.filter((f) => !files.has(f))).toEqual([]);
    const contents = await run(
      'tar',
      ['-xzOf', tarball, 'package/package.json', 'package/LICENSE'],
      work,
      60_000,
    );
    expect(contents.stdout).not.toContain('workspace:');
    expect(contents.stdout).toContain(readFileSync(join(root, 'LICENSE'), 'utf8'));
  });

  it(
    'installs alone with npm from its tarball and every export imports in plain node',
    async () => {
      const { dir, install } = await installAlone(p);
      expect(install.code, `npm install ${name}: ${said(install)}`).toBe(0);
      const installed = JSON.parse(
        readFileSync(join(dir, 'node_modules', ...name.split('/'), 'package.json'), 'utf8'),
      ) as Manifest;
      const entries = exportEntries(installed);
      const types = entries
        .map((e) => e.types)
        .filter((t): t is string => t !== undefined && !existsSync(join(dir, 'node_modules', name, t)));
      expect(types, `${name}: types its exports name but the install lacks`).toEqual([]);
      for (const [bin, file] of Object.entries(binFiles(installed))) {
        expect(existsSync(join(dir, 'node_modules', '.bin', bin)), `${name}: bin ${bin} -> ${file}`).toBe(
          true,
        );
      }
      const runtime = entries.filter((e) => e.file !== undefined).map((e) => e.subpath);
      const r = await run(process.execPath, ['import-check.mjs', name, JSON.stringify(runtime)], dir, 60_000);
      expect(r.code, said(r)).toBe(0);
      const result = JSON.parse(r.stdout) as Record<
        string,
        { error?: string; json?: string; names?: string[]; undefinedNames?: string[]; hasDefault?: boolean }
      >;
      const problems: string[] = [];
      for (const sub of runtime) {
        const spec = sub === '.' ? name : name + sub.slice(1);
        const got = result[sub];
        if (!got) problems.push(`${spec}: not checked`);
        else if (got.error) problems.push(`${spec}: import failed: ${got.error}`);
        else if (sub.endsWith('.json')) {
          if (got.json !== name) problems.push(`${spec}: names ${got.json}`);
        } else {
          if (got.names?.length === 0) problems.push(`${spec}: exports nothing`);
          if (got.hasDefault) problems.push(`${spec}: has a default export`);
          for (const u of got.undefinedNames ?? []) problems.push(`${spec}: export ${u} is undefined`);
        }
      }
      expect(problems).toEqual([]);
    },
    INSTALL_TIMEOUT,
  );

  it(
    'has neither the lab nor a test framework in its runtime tree (npm ls --all --omit=dev)',
    async () => {
      const { dir, install } = await installAlone(p);
      expect(install.code, `npm install ${name}: ${said(install)}`).toBe(0);
      const ls = await run('npm', ['ls', '--all', '--omit=dev', '--json'], dir, 120_000);
      expect(ls.code, said(ls)).toBe(0);
      const tree = JSON.parse(ls.stdout) as LsNode;
      const top = tree.dependencies?.[name];
      expect(top?.version, `${name} is not in npm ls`).toBe(p.manifest.version);
      // Optional peers this test installed itself (for an entry that needs them) are not the package's doing.
      const skip = new Set(Object.keys(p.manifest.peerDependenciesMeta ?? {}).filter((n) => !ours.has(n)));
      expect(
        devOnlyBelow(name, top!, skip),
        `${name}: dev-only packages in its runtime tree, with the path that pulls each`,
      ).toEqual([]);
      // When nothing but the package was installed, nothing of the kind is on
      // disk either (npm ls follows dependency edges; this reads node_modules).
      if (skip.size === 0)
        expect(installedNames(dir).filter((n) => n !== name && DEV_ONLY.some((re) => re.test(n)))).toEqual(
          [],
        );
    },
    INSTALL_TIMEOUT,
  );
});

describe('the lvs-ha command from its own npm install', () => {
  const lvsHa = published.find((p) => p.manifest.name === 'lvs-ha');
  const bin = async () => {
    const { dir, install } = await installAlone(lvsHa!);
    expect(install.code, `npm install lvs-ha: ${said(install)}`).toBe(0);
    return { dir, bin: join(dir, 'node_modules', '.bin', 'lvs-ha') };
  };

  it(
    'lvs-ha --version prints the version in packages/lvs-ha/package.json',
    async () => {
      const { dir, bin: lvs } = await bin();
      const r = await run(lvs, ['--version'], dir, 60_000);
      expect(r, said(r)).toEqual({ code: 0, stdout: `${lvsHa!.manifest.version}\n`, stderr: '' });
    },
    INSTALL_TIMEOUT,
  );

  it(
    'serves its status page (dist/page: index.html, page.js, page.css) from its own install',
    async () => {
      const { dir } = await bin();
      const script = join(dir, 'page.mjs');
      writeFileSync(
        script,
        `import { pageRoutes, requestApi, serveApi } from 'lvs-ha';
const socketPath = ${JSON.stringify(join(dir, 'page.sock'))};
const api = await serveApi({ socketPath, routes: pageRoutes() });
const out = {};
for (const p of ['/', '/page.js', '/page.css']) {
  const a = await requestApi({ socketPath }, 'GET', p);
  out[p] = { status: a.status, size: a.text.length, head: a.text.slice(0, 40) };
}
await api.close();
console.log(JSON.stringify(out));
`,
      );
      const r = await run('node', [script], dir, 60_000);
      expect(r.code, said(r)).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, { status: number; size: number; head: string }>;
      expect(out['/']).toMatchObject({ status: 200, head: '<!doctype html>\n<html lang="en">\n<head>\n' });
      expect(out['/page.js']?.status).toBe(200);
      expect(out['/page.css']?.status).toBe(200);
      expect(out['/page.js']?.size).toBeGreaterThan(1000);
    },
    INSTALL_TIMEOUT,
  );

  it(
    "lvs-ha check passes the seed article's configuration",
    async () => {
      const { dir, bin: lvs } = await bin();
      // git keeps authkeys 0644, which Heartbeat (and check) refuse: a 0600 copy.
      const seed = join(work, 'seed-ha.d');
      mkdirSync(seed, { recursive: true });
      for (const f of readdirSync(join(root, 'examples', 'seed', 'ha.d')))
        copyFileSync(join(root, 'examples', 'seed', 'ha.d', f), join(seed, f));
      chmodSync(join(seed, 'authkeys'), 0o600);
      const r = await run(lvs, ['check', '--config-dir', seed], dir, 60_000);
      expect(r.code, said(r)).toBe(0);
      expect(r.stdout).toContain(`lvs-ha check: ${seed}: configuration is valid`);
      expect(r.stderr).toBe('');
    },
    INSTALL_TIMEOUT,
  );
});
