// Reading a Heartbeat configuration directory (/etc/ha.d) from disk. The
// parsers stay pure; this is the one place that touches the filesystem.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { type Authkeys, parseAuthkeys } from './authkeys.js';
import { type ClusterFiles, checkCluster } from './cluster.js';
import { ConfigError, type ParseResult } from './errors.js';
import { type HaCf, parseHaCf } from './hacf.js';
import { type Haresources, parseHaresources } from './haresources.js';
import { type LdirectordConfig, parseLdirectordCf } from './ldirectord.js';
import {
  type LdResolvedConfig,
  type ResolveLdirectordOptions,
  resolveLdirectordDefaults,
} from './ldirectord-defaults.js';

export interface LoadedFile<T> extends ParseResult<T> {
  /** The path read. */
  file: string;
}

export interface ConfigDir {
  dir: string;
  haCf?: LoadedFile<HaCf>;
  authkeys?: LoadedFile<Authkeys>;
  haresources?: LoadedFile<Haresources>;
  ldirectord?: LoadedFile<LdirectordConfig>;
  /** Every problem of every file, then the cross-file ones, errors and warnings. */
  problems: ConfigError[];
}

async function readConfigFile(path: string): Promise<{ text: string; mode: number } | ConfigError> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, mode: st.mode & 0o7777 };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    return new ConfigError({
      code: 'IO',
      file: path,
      line: 1,
      column: 1,
      message: `cannot read ${path}: ${why}`,
    });
  }
}

/**
 * Where ldirectord looks for the configuration haresources passes it
 * (`ldirectord::ldirectord.cf`): an absolute path as is, otherwise DIR/NAME,
 * then DIR/conf/NAME (ldirectord 4.12's order, DIR being /etc/ha.d).
 */
export function ldirectordCandidates(configDir: string, name = 'ldirectord.cf'): string[] {
  if (isAbsolute(name)) return [name];
  const dir = resolve(configDir);
  return [join(dir, name), join(dir, 'conf', name)];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** The first of ldirectord's candidates for `name` that exists (ldirectordCandidates()), or undefined. */
export async function findLdirectordCf(
  configDir: string,
  name = 'ldirectord.cf',
): Promise<string | undefined> {
  for (const c of ldirectordCandidates(configDir, name)) if (await exists(c)) return c;
  return undefined;
}

/** An ldirectord.cf read from disk: `value` (defaults resolved) only when it has no error. */
export interface LoadedLdirectord {
  /** The path read, or the first candidate when none exists. */
  file: string;
  parsed?: LdirectordConfig;
  value?: LdResolvedConfig;
  /** Errors and warnings, with file, line and column (an IO error when it cannot be read). */
  problems: ConfigError[];
}

/**
 * Finds an ldirectord.cf as ldirectord does (an absolute path, else
 * DIR/NAME, then DIR/conf/NAME), reads and parses it and resolves its
 * defaults: the one loader behind `lvs-ha check`, `lvs-ha director` and the
 * ldirectord resource of `lvs-ha start`.
 */
export async function loadLdirectordCf(
  name = 'ldirectord.cf',
  options: { configDir?: string } & ResolveLdirectordOptions = {},
): Promise<LoadedLdirectord> {
  const { configDir = '/etc/ha.d', ...resolveOptions } = options;
  const candidates = ldirectordCandidates(configDir, name);
  const file = (await findLdirectordCf(configDir, name)) ?? (candidates[0] as string);
  const read = await readConfigFile(file);
  if (read instanceof ConfigError) return { file, problems: [read] };
  const r = parseLdirectordCf(read.text, { file });
  const out: LoadedLdirectord = { file, parsed: r.value, problems: r.problems };
  if (!r.problems.some((p) => p.severity === 'error'))
    out.value = resolveLdirectordDefaults(r.value, resolveOptions);
  return out;
}

/** Reads, parses and cross-checks ha.cf, authkeys, haresources and ldirectord.cf of a directory. */
export async function loadConfigDir(dir: string): Promise<ConfigDir> {
  const out: ConfigDir = { dir, problems: [] };
  const load = async <T>(path: string, parse: (text: string, mode: number) => ParseResult<T>) => {
    const read = await readConfigFile(path);
    if (read instanceof ConfigError) {
      out.problems.push(read);
      return undefined;
    }
    const result = parse(read.text, read.mode);
    out.problems.push(...result.problems);
    return { file: path, ...result };
  };
  const haCf = await load(join(dir, 'ha.cf'), (t) => parseHaCf(t, { file: join(dir, 'ha.cf') }));
  const authkeys = await load(join(dir, 'authkeys'), (t, mode) =>
    parseAuthkeys(t, { file: join(dir, 'authkeys'), mode }),
  );
  const haresources = await load(join(dir, 'haresources'), (t) =>
    parseHaresources(t, { file: join(dir, 'haresources') }),
  );
  if (haCf) out.haCf = haCf;
  if (authkeys) out.authkeys = authkeys;
  if (haresources) out.haresources = haresources;

  // ldirectord.cf: the file haresources names, else the default name.
  const named = haresources?.value.groups
    .flatMap((g) => g.resources)
    .find((r) => r.kind === 'script' && r.name === 'ldirectord');
  const ldName = named?.kind === 'script' && named.args[0] ? named.args[0] : 'ldirectord.cf';
  const candidates = ldirectordCandidates(dir, ldName);
  const found = await findLdirectordCf(dir, ldName);
  if (found) {
    const ld = await loadLdirectordCf(found);
    out.problems.push(...ld.problems);
    if (ld.parsed) out.ldirectord = { file: found, value: ld.parsed, problems: ld.problems };
  } else if (named) {
    out.problems.push(
      new ConfigError({
        code: 'IO',
        file: haresources!.file,
        line: named.line ?? 1,
        column: named.column ?? 1,
        message: `haresources starts ldirectord but ${candidates.join(' or ')} does not exist`,
      }),
    );
  }
  const files: ClusterFiles = {};
  if (out.haCf) files.haCf = { file: out.haCf.file, value: out.haCf.value };
  if (out.authkeys) files.authkeys = { file: out.authkeys.file, value: out.authkeys.value };
  if (out.haresources) files.haresources = { file: out.haresources.file, value: out.haresources.value };
  if (out.ldirectord) files.ldirectord = { file: out.ldirectord.file, value: out.ldirectord.value };
  out.problems.push(...checkCluster(files));
  return out;
}
