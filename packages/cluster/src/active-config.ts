// The configuration of an active/active director: DIR/bgp.cf (ours, beside
// Heartbeat's files: its presence selects the mode) and the ldirectord.cf
// beside it, read together: the VIPs of ldirectord.cf's virtual services
// are the ones bgp.cf's BIRD announces. One loader for `lvs-ha check` and
// `lvs-ha start`; every problem is a ConfigError at FILE:LINE:COLUMN.
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BirdConfigError, type DirectorBirdConfig, parseRoutingFile } from '@lvs-ha/bird';
import { type ActiveActiveLdirectord, activeActiveLdirectord } from '@lvs-ha/director';
import { ConfigError, type LdResolvedConfig, loadLdirectordCf } from '@lvs-ha/ha-config';
import { parseIp } from '@lvs-ha/vip';

/** The name of our file in the configuration directory that selects the active/active mode. */
export const BGP_CF = 'bgp.cf';

export interface ActiveConfig {
  dir: string;
  bgpFile: string;
  ldirectordFile: string;
  /** bgp.cf as BIRD's writer takes it, with ldirectord.cf's VIPs (undefined when it has errors). */
  bgp?: DirectorBirdConfig;
  /** ldirectord.cf with the mode's settings forced (undefined when it has errors). */
  ldirectord?: LdResolvedConfig;
  /** ldirectord id of each virtual service → its VIP (as BIRD's protocols name it). */
  vipOf: Map<string, string>;
  /** VIPs of bgp.cf's `vip` lines that no virtual service has. */
  extraVips: string[];
  /** ldirectord.cf's and bgp.cf's problems, and what the mode overrides or refuses of ldirectord.cf. */
  problems: ConfigError[];
}

/** True when DIR has a bgp.cf (the mode's switch). */
export async function hasBgpCf(dir: string): Promise<boolean> {
  return access(join(dir, BGP_CF)).then(
    () => true,
    () => false,
  );
}

/** A BirdConfigError's `FILE:LINE:COLUMN` (or `FILE`) as a ConfigError. */
export function configErrorOfBird(e: BirdConfigError, file: string): ConfigError {
  const m = /^(.*):(\d+):(\d+)$/.exec(e.where);
  return new ConfigError({
    code: 'BAD_VALUE',
    file: m ? (m[1] as string) : file,
    line: m ? Number(m[2]) : 1,
    column: m ? Number(m[3]) : 1,
    message: m ? e.reason : `${e.where === file ? '' : `${e.where}: `}${e.reason}`,
  });
}

const canonical = (vip: string) => {
  try {
    return parseIp(vip).text;
  } catch {
    return vip;
  }
};

/** Reads DIR/bgp.cf and the ldirectord.cf (DIR/ldirectord.cf, or `ldirectord`) of an active/active director. */
export async function loadActiveConfig(
  dir: string,
  options: { ldirectord?: string } = {},
): Promise<ActiveConfig> {
  const bgpFile = join(dir, BGP_CF);
  const ld = await loadLdirectordCf(options.ldirectord ?? 'ldirectord.cf', { configDir: dir });
  const problems: ConfigError[] = [...ld.problems];
  const out: ActiveConfig = {
    dir,
    bgpFile,
    ldirectordFile: ld.file,
    vipOf: new Map(),
    extraVips: [],
    problems,
  };
  let forced: ActiveActiveLdirectord | undefined;
  if (ld.value) {
    forced = activeActiveLdirectord(ld.value, ld.file);
    problems.push(...forced.problems);
    for (const [id, vip] of forced.vipOf) out.vipOf.set(id, canonical(vip));
    if (forced.vips.length === 0)
      problems.push(
        new ConfigError({
          code: 'MISSING_REQUIRED',
          file: ld.file,
          line: 1,
          column: 1,
          message: 'active/active (bgp.cf): no virtual service with an address to announce',
        }),
      );
  }
  let text: string | undefined;
  try {
    text = await readFile(bgpFile, 'utf8');
  } catch (e) {
    problems.push(
      new ConfigError({
        code: 'IO',
        file: bgpFile,
        line: 1,
        column: 1,
        message: `cannot read ${bgpFile}: ${(e as Error).message}`,
      }),
    );
  }
  if (text !== undefined) {
    const vips = [...new Set(out.vipOf.values())];
    try {
      const bgp = parseRoutingFile(text, bgpFile, { vips });
      const all = new Set(vips);
      out.extraVips = [...new Set(bgp.vips.map(canonical))].filter((v) => !all.has(v));
      out.bgp = bgp;
    } catch (e) {
      if (!(e instanceof BirdConfigError)) throw e;
      problems.push(configErrorOfBird(e, bgpFile));
    }
  }
  if (forced && !problems.some((p) => p.severity === 'error')) out.ldirectord = forced.config;
  return out;
}
