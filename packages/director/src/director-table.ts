// The IPVS table ldirectord keeps for an ldirectord.cf, as a function of the
// real servers' health: what ld_start, _service_up/_service_down,
// _restore_service/_remove_service and fallback_on/fallback_off do one
// command at a time, stated as the table they converge to. Pure: the
// Director reconciles the kernel to it.
import { type LdResolvedConfig, type LdResolvedVirtual, ldPortNumber } from '@lvs-ha/ha-config';
import {
  type DesiredService,
  type DestinationSpec,
  describeDestination,
  type SchedulerFlag,
  type ServiceKey,
  serviceId,
  type TableService,
} from '@lvs-ha/ipvs';

/** Health of one real server of one virtual service: true up, false down, undefined not checked yet. */
export type RealHealth = (virtualId: string, real: { address: string; port: number }) => boolean | undefined;

/** Where a virtual service's table stands: which real servers carry traffic, whether the fallback does. */
export interface VirtualStatus {
  id: string;
  key: ServiceKey;
  /** Real servers with their configured weight in the table. */
  up: string[];
  /** Real servers in the table with weight 0 (quiescent). */
  quiescent: string[];
  /** Real servers out of the table. */
  out: string[];
  /** The fallback server, when it is in the table (no real server up). */
  fallback?: string;
}

export interface DirectorTable {
  services: DesiredService[];
  status: VirtualStatus[];
}

/** ldirectord's ld_strip_brackets. */
function stripBrackets(host: string): string {
  return /^\[(.*)\]$/.exec(host)?.[1] ?? host;
}

/** The IPVS key of a virtual service as ldirectord adds it (`-t|-u addr:port` or `-f mark [-6]`). */
export function serviceKeyOfVirtual(v: LdResolvedVirtual): ServiceKey | undefined {
  const a = v.address;
  if (a.kind === 'fwmark') return { fwmark: a.mark, family: v.ipv6 ? 'inet6' : 'inet' };
  const port = ldPortNumber(a.port);
  if (port === undefined) return undefined;
  const protocol = v.protocol.value === 'udp' ? 'udp' : 'tcp';
  return { protocol, address: stripBrackets(a.host), port };
}

const realKey = describeDestination;

/** The real servers of a virtual as the kernel names them (brackets off, port as a number), with their configured weight. */
export function realServersOf(
  v: LdResolvedVirtual,
): { address: string; port: number; weight: number; forward: 'gate' | 'masq' | 'ipip' }[] {
  return v.reals.map((r) => ({
    address: stripBrackets(r.address),
    port: ldPortNumber(r.port) ?? 0,
    weight: r.weight.value,
    forward: r.forward,
  }));
}

/**
 * The table for `config` given each real server's health. `current` is the
 * kernel's table now: ldirectord keeps a real server that is already there
 * with its weight until the first check says otherwise (ld_start), and
 * quiesces (weight 0) only a server that is in the table, unless
 * readdquiescent asks to add it back with weight 0.
 */
export function directorTable(
  config: LdResolvedConfig,
  health: RealHealth,
  current: readonly TableService[] = [],
): DirectorTable {
  const services: DesiredService[] = [];
  const status: VirtualStatus[] = [];
  const seen = new Set<string>();
  for (const v of config.virtuals) {
    const key = serviceKeyOfVirtual(v);
    if (!key) continue;
    const spec: DesiredService = { ...key, scheduler: v.scheduler.value, destinations: [] };
    if (v.persistent.value !== null) spec.persistent = v.persistent.value;
    if (v.netmask.value !== null && v.persistent.value !== null) spec.netmask = v.netmask.value;
    if (v.ops.value) spec.onePacket = true;
    if (v.schedflags.value)
      spec.schedulerFlags = v.schedflags.value.split(/[,\s]+/).filter(Boolean) as SchedulerFlag[];
    const id = serviceId(key);
    if (seen.has(id)) continue; // ldirectord refuses duplicates at parse time; be safe
    seen.add(id);
    const now = current.find((s) => serviceId(s) === id);
    const inTable = new Map((now?.destinations ?? []).map((d) => [realKey(d), d]));
    const st: VirtualStatus = { id: v.id, key, up: [], quiescent: [], out: [] };
    const quiescent = v.quiescent.value;
    const readd = config.global.readdquiescent.value;
    for (const r of v.reals) {
      const port = ldPortNumber(r.port) ?? 0;
      const address = stripBrackets(r.address);
      const k = realKey({ address, port });
      const have = inTable.get(k);
      let up = health(v.id, { address, port });
      // Before its first check a server keeps its place if it carries traffic (ld_start).
      if (up === undefined) up = have !== undefined && have.weight > 0;
      const dest: DestinationSpec = { address, port, forward: r.forward, weight: r.weight.value };
      if (r.upperThreshold.value > 0) dest.upperThreshold = r.upperThreshold.value;
      if (r.lowerThreshold.value > 0) dest.lowerThreshold = r.lowerThreshold.value;
      if (up) {
        spec.destinations.push(dest);
        st.up.push(k);
      } else if (quiescent && (have !== undefined || readd)) {
        spec.destinations.push({ ...dest, weight: 0 });
        st.quiescent.push(k);
      } else st.out.push(k);
    }
    const fallback = fallbackOf(v);
    if (fallback && st.up.length === 0) {
      const fk = realKey(fallback);
      // A fallback that is also a real server replaces that server's entry.
      spec.destinations = spec.destinations.filter((d) => realKey(d) !== fk);
      spec.destinations.push({
        address: fallback.address,
        port: fallback.port,
        forward: fallback.forward,
        weight: 1,
      });
      st.fallback = fk;
    }
    services.push(spec);
    status.push(st);
  }
  return { services, status };
}

/**
 * ldirectord's fallback_find: the virtual's own fallback, else the global
 * one of its family; @lvs-ha/ha-config has already resolved which, with the
 * virtual's port and `gate` as defaults.
 */
function fallbackOf(
  v: LdResolvedVirtual,
): { address: string; port: number; forward: 'gate' | 'masq' | 'ipip' } | undefined {
  const f = v.fallback.value;
  if (!f) return undefined;
  const port = ldPortNumber(f.port ?? '0');
  if (port === undefined) return undefined;
  return { address: stripBrackets(f.host), port, forward: f.forward ?? 'gate' };
}
