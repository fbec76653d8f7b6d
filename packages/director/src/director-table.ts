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
  describeService,
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
  /** Real servers in the table with a weight above 0 (the file's, or a runtime override's). */
  up: string[];
  /** Real servers in the table with weight 0 (quiescent: down, or drained). */
  quiescent: string[];
  /** Real servers out of the table. */
  out: string[];
  /** The fallback server, when it is in the table (no real server up). */
  fallback?: string;
}

/**
 * A runtime override of one real server of one virtual service (lvs-ha
 * drain, weight): its weight while the checks say it is up, or out of the
 * table. The checks still decide up or down (maintenancedir included): an
 * override never puts a down server in.
 */
export interface RealOverride {
  /** ldirectord's id of the virtual service (tcp:192.0.2.50:80, fwm:7). */
  virtual: string;
  /** The real server as the kernel names it (192.0.2.21:80, [2001:db8::21]:80). */
  real: string;
  /** Its weight while up (0: drained, quiescent). */
  weight: number;
  /** Out of the table while the override holds (a drain finished with remove). */
  remove?: boolean;
}

/** Which real servers an operator names: `ADDRESS[:PORT]` (or `[V6]:PORT`), in one virtual service or in all. */
export interface RealSelector {
  real: string;
  /** ldirectord's id (tcp:192.0.2.50:80), ipvsadm's name (192.0.2.50:80/tcp), ADDRESS:PORT, or a fwmark number. */
  virtual?: string;
}

/** The real servers of `config` that `sel` names, as override keys with their configured weight (empty when none). */
export function selectReals(
  config: LdResolvedConfig,
  sel: RealSelector,
): { virtual: string; real: string; configuredWeight: number }[] {
  const want = parseRealName(sel.real);
  if (!want) return [];
  const out: { virtual: string; real: string; configuredWeight: number }[] = [];
  for (const v of config.virtuals) {
    const key = serviceKeyOfVirtual(v);
    if (!key) continue;
    if (sel.virtual !== undefined && !virtualNamed(v, key, sel.virtual)) continue;
    for (const r of realServersOf(v)) {
      if (r.address.toLowerCase() !== want.address) continue;
      if (want.port !== undefined && r.port !== want.port) continue;
      out.push({ virtual: v.id, real: realKey(r), configuredWeight: r.weight });
    }
  }
  return out;
}

function parseRealName(text: string): { address: string; port?: number } | undefined {
  const t = text.trim().toLowerCase();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? (/^[^:]+:\d+$/.test(t) ? /^([^:]+):(\d+)$/.exec(t) : null);
  if (m) return { address: m[1] as string, ...(m[2] !== undefined && { port: Number(m[2]) }) };
  return t === '' ? undefined : { address: t };
}

function virtualNamed(v: LdResolvedVirtual, key: ServiceKey, name: string): boolean {
  const n = name.trim().toLowerCase();
  if (n === v.id.toLowerCase() || n === describeService(key).toLowerCase()) return true;
  if (key.fwmark !== undefined) return n === String(key.fwmark);
  const where = describeDestination({ address: String(key.address), port: key.port as number });
  return n === where.toLowerCase();
}

/** The map key of an override. */
export function overrideKey(o: { virtual: string; real: string }): string {
  return `${o.virtual}/${o.real}`;
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
  overrides: readonly RealOverride[] = [],
): DirectorTable {
  const byKey = new Map(overrides.map((o) => [overrideKey(o), o]));
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
      const ov = byKey.get(overrideKey({ virtual: v.id, real: k }));
      if (up && ov?.remove) st.out.push(k);
      else if (up && ov?.weight === 0) {
        // drained: in the table at weight 0 (its connections go on, no new ones), as a quiesced server
        spec.destinations.push({ ...dest, weight: 0 });
        st.quiescent.push(k);
      } else if (up) {
        spec.destinations.push(ov ? { ...dest, weight: ov.weight } : dest);
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
