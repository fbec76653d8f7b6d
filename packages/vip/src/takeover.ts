// What Heartbeat's IPaddr2 start/stop do for a VIP, in one call each:
// check nobody else holds it, bring it up, tell the neighbours; and take
// it down again.
import {
  type AddressChange,
  addAddress,
  findInterfaceFor,
  listAddresses,
  removeAddress,
  requestOfSpec,
  type VipRequest,
} from './addresses.js';
import { type AnnounceOptions, type AnnounceResult, announce } from './announce.js';
import { AddressInUseError } from './errors.js';
import { type ProbeResult, probeAddress } from './guard.js';
import { parseIp } from './ip.js';
import type { NetnsOption } from './netns.js';

export interface TakeOverOptions extends NetnsOption {
  /** Probe for another holder first. Default true. */
  probe?: boolean;
  /** When another host answers: 'fail' (AddressInUseError, nothing changed; default) or 'proceed'. */
  onConflict?: 'fail' | 'proceed';
  /** Announcement settings (count, intervalMs, repeatAfterMs, forms, router, signal). */
  announce?: Omit<AnnounceOptions, 'address' | 'interface' | 'netns'>;
}

export interface TakeOverResult {
  change: AddressChange;
  probe: ProbeResult | undefined;
  announcement: AnnounceResult;
}

/** Probes, adds the VIP (idempotent) and announces it. */
export async function takeOver(
  vip: VipRequest | string,
  options: TakeOverOptions = {},
): Promise<TakeOverResult> {
  let req: VipRequest = typeof vip === 'string' ? requestOfSpec(vip) : vip;
  const ns = options.netns ? { netns: options.netns } : {};
  const address = (typeof req.address === 'string' ? parseIp(req.address) : req.address).text;
  if (req.interface === undefined) {
    // IPaddr's rule, resolved now so the probe goes out where the VIP will live.
    const found = await findInterfaceFor(address, ns);
    req = { ...req, interface: found.interface, prefixLength: req.prefixLength ?? found.prefixLength };
  }
  const ifname = req.interface!;
  let probe: ProbeResult | undefined;
  if (options.probe !== false) {
    // Already ours: nothing to probe, only to announce again.
    const mine = (await listAddresses({ ...ns, interface: ifname })).some((a) => a.address.text === address);
    if (!mine) {
      probe = await probeAddress({ address, interface: ifname, ...ns });
      if (probe.inUse && (options.onConflict ?? 'fail') === 'fail')
        throw new AddressInUseError(
          probe.address,
          probe.holders.filter((h) => h.kind === 'answer').map((h) => h.mac),
        );
    }
  }
  const change = await addAddress(req, ns);
  const announcement = await announce({ ...options.announce, address, interface: change.interface, ...ns });
  return { change, probe, announcement };
}

/** Takes the VIP down (idempotent). */
export function release(vip: VipRequest | string, options: NetnsOption = {}): Promise<AddressChange> {
  return removeAddress(vip, options);
}
