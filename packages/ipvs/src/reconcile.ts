// Brings the kernel's table to a desired table with the fewest changes:
// what is already right is not touched (its connections never see a delete
// and re-add), a changed weight is one edit of that real server, and services
// the caller does not own are left alone. The plan is pure; Ipvs.reconcile
// reads the table (unless given) and applies the plan pipelined.
import type { TableService } from './client.js';
import {
  type Destination,
  type DestinationSpec,
  decodeService,
  destinationId,
  encodeService,
  type Service,
  serviceId,
  serviceKeyOf,
} from './model.js';
import type { Operation } from './operations.js';
import type { DesiredService } from './text.js';

export interface ReconcileOptions {
  /**
   * Which existing services this caller owns: only those are deleted when
   * they are not in the desired table. Default: every service is owned.
   */
  owned?: (service: Service) => boolean;
}

// Normalise through the codec, so that "what the kernel would report" is compared.
function normalService(s: DesiredService): Service {
  return decodeService(encodeService(s));
}
// The settings a real server would be reported with (the kernel's defaults
// filled in), without a trip through the codec: this runs per real server.
function normalDestination(
  d: DestinationSpec,
): Pick<
  Destination,
  'forward' | 'weight' | 'upperThreshold' | 'lowerThreshold' | 'tunnelType' | 'tunnelPort' | 'tunnelChecksum'
> {
  const forward = d.forward ?? 'gate';
  const tunnelType = forward === 'ipip' ? (d.tunnelType ?? 'ipip') : undefined;
  return {
    forward,
    weight: d.weight ?? 1,
    upperThreshold: d.upperThreshold ?? 0,
    lowerThreshold: d.lowerThreshold ?? 0,
    tunnelType,
    tunnelPort: tunnelType === 'gue' ? (d.tunnelPort ?? 0) : undefined,
    tunnelChecksum: tunnelType && tunnelType !== 'ipip' ? (d.tunnelChecksum ?? 'nocsum') : undefined,
  };
}

function sameService(a: Service, b: Service): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.persistent === b.persistent &&
    (a.persistent === undefined || a.netmask === b.netmask) &&
    a.onePacket === b.onePacket &&
    (a.flags & 0x38) === (b.flags & 0x38) &&
    (a.pe ?? '') === (b.pe ?? '')
  );
}

function sameDestination(a: ReturnType<typeof normalDestination>, b: Destination): boolean {
  return (
    a.forward === b.forward &&
    a.weight === b.weight &&
    a.upperThreshold === b.upperThreshold &&
    a.lowerThreshold === b.lowerThreshold &&
    (a.forward !== 'ipip' ||
      ((a.tunnelType ?? 'ipip') === (b.tunnelType ?? 'ipip') &&
        (a.tunnelPort ?? 0) === (b.tunnelPort ?? 0) &&
        (a.tunnelChecksum ?? 'nocsum') === (b.tunnelChecksum ?? 'nocsum')))
  );
}

/** The operations that turn `current` into `desired` (pure; nothing is sent). */
export function planReconcile(
  current: readonly TableService[],
  desired: readonly DesiredService[],
  options: ReconcileOptions = {},
): Operation[] {
  const owned = options.owned ?? (() => true);
  const have = new Map(current.map((s) => [serviceId(s), s]));
  const want = new Set<string>();
  const serviceOps: Operation[] = [];
  const destDeletes: Operation[] = [];
  const destEdits: Operation[] = [];
  const destAdds: Operation[] = [];
  for (const d of desired) {
    const id = serviceId(d);
    if (want.has(id)) continue;
    want.add(id);
    const key = serviceKeyOf(d);
    const { destinations, ...spec } = d;
    const cur = have.get(id);
    const norm = normalService(d);
    if (!cur) {
      serviceOps.push({ op: 'add-service', service: spec });
      const seen = new Set<string>();
      for (const rs of destinations) {
        const rid = destinationId(rs);
        if (seen.has(rid)) continue;
        seen.add(rid);
        destAdds.push({ op: 'add-destination', service: key, destination: rs });
      }
      continue;
    }
    if (!sameService(norm, cur)) serviceOps.push({ op: 'edit-service', service: spec });
    const curDests = new Map(cur.destinations.map((x) => [destinationId(x), x]));
    const wanted = new Set<string>();
    for (const rs of destinations) {
      const rid = destinationId(rs);
      if (wanted.has(rid)) continue;
      wanted.add(rid);
      const c = curDests.get(rid);
      if (!c) destAdds.push({ op: 'add-destination', service: key, destination: rs });
      else if (!sameDestination(normalDestination(rs), c))
        destEdits.push({ op: 'edit-destination', service: key, destination: rs });
    }
    for (const [rid, c] of curDests)
      if (!wanted.has(rid))
        destDeletes.push({
          op: 'delete-destination',
          service: key,
          destination: { address: c.address, port: c.port },
        });
  }
  const serviceDeletes: Operation[] = [];
  for (const [id, s] of have)
    if (!want.has(id) && owned(s)) serviceDeletes.push({ op: 'delete-service', service: serviceKeyOf(s) });
  // Removals of real servers first (a threshold or weight slot frees up), then edits, then additions.
  return [...serviceOps, ...destDeletes, ...destEdits, ...destAdds, ...serviceDeletes];
}
