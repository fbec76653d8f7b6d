// What an ldirectord.cf becomes on an active/active director (every
// director behind a router's ECMP route carries flows; pure): every
// virtual service scheduled with `mh` (Maglev hashing, with mh-port and
// mh-fallback), so that every director with the same real servers in the
// same order picks the same real server for a 5-tuple; real servers that
// fail quiesced (weight 0), never deleted, and every real server in the
// table from the first table on (readdquiescent), in the file's order: a
// real server deleted and added again would come back at the end of the
// list, and the kernel's Maglev table depends on that order. No fallback
// server: a VIP without a healthy real server is withdrawn from the router
// instead. What the file asks against that is said as a ConfigError at its
// line: an error when the mode cannot honour it (another scheduler, masq,
// a fwmark service without an address), a warning when it is overridden.
import { ConfigError, type LdResolvedConfig, type LdResolvedVirtual } from '@lvs-ha/ha-config';
import { serviceKeyOfVirtual, type VirtualStatus } from './director-table.js';

/** The scheduler flags every virtual service gets in the mode. */
export const ACTIVE_ACTIVE_FLAGS = 'mh-fallback,mh-port';

export interface ActiveActiveLdirectord {
  /** The configuration with the mode's settings forced (what the Director runs). */
  config: LdResolvedConfig;
  /** The VIPs of the virtual services, in the file's order, each once. */
  vips: string[];
  /** ldirectord id of each virtual service → its VIP. */
  vipOf: Map<string, string>;
  /** What the file asks that the mode overrides (warnings) or cannot do (errors), at its line. */
  problems: ConfigError[];
}

const strip = (host: string) => /^\[(.*)\]$/.exec(host)?.[1] ?? host;

/**
 * The ldirectord.cf of an active/active director: `scheduler = mh` with
 * mh-fallback,mh-port, quiescent and readdquiescent on, no fallback; the
 * problems found at `file`'s lines.
 */
export function activeActiveLdirectord(config: LdResolvedConfig, file: string): ActiveActiveLdirectord {
  const problems: ConfigError[] = [];
  const at = (
    line: number | undefined,
    severity: 'error' | 'warning',
    message: string,
    hint?: string,
  ): void => {
    problems.push(
      new ConfigError({
        code: severity === 'error' ? 'BAD_VALUE' : 'NOT_ACTED_ON',
        file,
        line: line ?? 1,
        column: 1,
        message: `active/active (bgp.cf): ${message}`,
        severity,
        ...(hint !== undefined && { hint }),
      }),
    );
  };
  const quiescentWhy =
    'a deleted real server comes back at the end of the table, and the Maglev table changes with that order';
  const g = config.global;
  if (g.quiescent.explicit && !g.quiescent.value)
    at(
      g.quiescent.line,
      'warning',
      'quiescent = no is overridden: a failed real server is quiesced (weight 0), not deleted',
      quiescentWhy,
    );
  const vips: string[] = [];
  const vipOf = new Map<string, string>();
  const virtuals: LdResolvedVirtual[] = [];
  for (const v of config.virtuals) {
    if (v.address.kind === 'fwmark') {
      at(
        v.line,
        'error',
        `virtual=${v.address.mark} is a firewall mark: the mode announces each virtual service's address`,
        'give the service as ADDRESS:PORT',
      );
      continue;
    }
    const key = serviceKeyOfVirtual(v);
    if (!key || key.address === undefined) continue;
    const vip = strip(v.address.host);
    if (!vips.includes(vip)) vips.push(vip);
    vipOf.set(v.id, vip);
    if (v.scheduler.explicit && v.scheduler.value !== 'mh')
      at(
        v.scheduler.line ?? v.line,
        'error',
        `scheduler = ${v.scheduler.value}: every director must pick the same real server for a flow, which only mh (Maglev hashing) does`,
        'scheduler = mh, or leave it out',
      );
    if (v.schedflags.explicit && v.schedflags.value !== null) {
      const given = v.schedflags.value
        .split(/[,|\s]+/)
        .filter(Boolean)
        .sort()
        .join(',');
      if (given !== ACTIVE_ACTIVE_FLAGS)
        at(
          v.schedflags.line ?? v.line,
          'warning',
          `schedflags = ${v.schedflags.value} is replaced by ${ACTIVE_ACTIVE_FLAGS}`,
        );
    }
    if (v.quiescent.explicit && !v.quiescent.value)
      at(
        v.quiescent.line ?? v.line,
        'warning',
        'quiescent = no is overridden: a failed real server is quiesced (weight 0), not deleted',
        quiescentWhy,
      );
    if (v.fallback.value !== null)
      at(
        v.fallback.line ?? (v.fallback.source === 'global' ? g.fallback.line : undefined) ?? v.line,
        'warning',
        'the fallback server is not used: a VIP without a healthy real server is withdrawn from the routers instead',
      );
    if (v.persistent.value !== null)
      at(
        v.persistent.line ?? v.line,
        'warning',
        'persistent: the persistence templates are per director; a flow that moves to another director follows the mh hash, not the template',
        'for client affinity, schedflags without mh-port hashes the client address only (not in this mode yet)',
      );
    for (const r of v.reals)
      if (r.forward === 'masq')
        at(
          r.line ?? v.line,
          'error',
          `real=${r.address}:${r.port} masq: the replies would have to come back through the director that took the flow; the mode uses direct routing`,
          'gate (or ipip)',
        );
    virtuals.push({
      ...v,
      scheduler: { ...v.scheduler, value: 'mh' },
      schedflags: { ...v.schedflags, value: ACTIVE_ACTIVE_FLAGS },
      quiescent: { ...v.quiescent, value: true },
      fallback: { ...v.fallback, value: null },
      fallbackcommand: { ...v.fallbackcommand, value: null },
    });
  }
  return {
    config: {
      ...config,
      global: {
        ...g,
        quiescent: { ...g.quiescent, value: true },
        readdquiescent: { ...g.readdquiescent, value: true },
      },
      virtuals,
    },
    vips,
    vipOf,
    problems,
  };
}

/**
 * The VIPs to announce given the table's status: a VIP while at least one
 * of its virtual services has a real server up (weight above 0). `extra`
 * VIPs (bgp.cf's `vip` lines, with no virtual service of their own) are
 * announced while any virtual service has one.
 */
export function healthyVips(
  vipOf: ReadonlyMap<string, string>,
  status: readonly Pick<VirtualStatus, 'id' | 'up'>[],
  extra: readonly string[] = [],
): Set<string> {
  const out = new Set<string>();
  for (const s of status) {
    const vip = vipOf.get(s.id);
    if (vip !== undefined && s.up.length > 0) out.add(vip);
  }
  if (out.size > 0) for (const v of extra) out.add(v);
  return out;
}
