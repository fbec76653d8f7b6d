// Making the network believe the VIP moved: gratuitous ARP (both forms, as
// send_arp and keepalived send) for IPv4, unsolicited neighbour
// advertisements with the override flag for IPv6.
import { setTimeout as sleep } from 'node:timers/promises';
import { getLink } from './addresses.js';
import { InvalidArgumentError } from './errors.js';
import { type IpAddress, parseIp } from './ip.js';
import type { NetnsOption } from './netns.js';
import { PacketSocket } from './packet.js';
import { formatMac, gratuitousArp, parseMac, unsolicitedNeighborAdvertisement } from './packets.js';

export interface AnnounceOptions extends NetnsOption {
  /** The VIP. */
  address: string | IpAddress;
  /** Interface to announce on. */
  interface: string;
  /** Rounds of announcements. Default 5. */
  count?: number;
  /** Milliseconds between rounds. Default 200. */
  intervalMs?: number;
  /** IPv4: which forms each round sends. Default both, request first. */
  forms?: ('request' | 'reply')[];
  /** A second burst of `count` rounds this many ms after the first ends (0: none). Default 0. */
  repeatAfterMs?: number;
  /** Source MAC. Default the interface's own. */
  mac?: string;
  /** IPv6: set the router flag. Default false. */
  router?: boolean;
  /** Stops between frames (e.g. the VIP was lost meanwhile). */
  signal?: AbortSignal;
}

export interface AnnounceResult {
  interface: string;
  mac: string;
  address: string;
  /** Frames sent, in order, with the time each went out (ms since the start). */
  frames: { atMs: number; kind: 'arp-request' | 'arp-reply' | 'neighbor-advertisement' }[];
  aborted: boolean;
}

function positiveInt(name: string, v: number | undefined, dflt: number, min = 1): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > 1_000_000)
    throw new InvalidArgumentError(name, `${v} is not an integer ≥ ${min}`);
  return n;
}

/** Announces that `address` now lives at this interface's MAC. */
export async function announce(options: AnnounceOptions): Promise<AnnounceResult> {
  const ip = typeof options.address === 'string' ? parseIp(options.address) : parseIp(options.address?.text);
  const count = positiveInt('count', options.count, 5);
  const interval = positiveInt('intervalMs', options.intervalMs, 200, 0);
  const repeat = positiveInt('repeatAfterMs', options.repeatAfterMs, 0, 0);
  const forms = options.forms ?? ['request', 'reply'];
  if (forms.length === 0 || forms.some((f) => f !== 'request' && f !== 'reply'))
    throw new InvalidArgumentError('forms', 'expected a non-empty list of "request" and "reply"');
  const link = await getLink(options.interface, options);
  if (link.loopback)
    throw new InvalidArgumentError('interface', `${link.name} is a loopback: nobody to announce to`);
  const mac = options.mac !== undefined ? parseMac(options.mac) : link.mac ? parseMac(link.mac) : undefined;
  if (mac?.length !== 6) throw new InvalidArgumentError('interface', `${link.name} has no Ethernet address`);
  const frames: { frame: Uint8Array; kind: AnnounceResult['frames'][number]['kind'] }[] =
    ip.family === 4
      ? forms.map((f) => ({
          frame: gratuitousArp(f, mac, ip),
          kind: f === 'request' ? 'arp-request' : 'arp-reply',
        }))
      : [
          {
            frame: unsolicitedNeighborAdvertisement(mac, ip, {
              router: options.router ?? false,
              override: true,
            }),
            kind: 'neighbor-advertisement',
          },
        ];
  const sock = PacketSocket.open(link.name, 0, options);
  const start = performance.now();
  const sent: AnnounceResult['frames'] = [];
  let aborted = false;
  try {
    const burst = async () => {
      for (let i = 0; i < count; i++) {
        if (i > 0) await sleep(interval, undefined, { signal: options.signal }).catch(() => undefined);
        if (options.signal?.aborted) return false;
        for (const f of frames) {
          sock.send(f.frame);
          sent.push({ atMs: performance.now() - start, kind: f.kind });
        }
      }
      return true;
    };
    aborted = !(await burst());
    if (!aborted && repeat > 0) {
      await sleep(repeat, undefined, { signal: options.signal }).catch(() => undefined);
      aborted = options.signal?.aborted === true || !(await burst());
    }
  } finally {
    sock.close();
  }
  return { interface: link.name, mac: formatMac(mac), address: ip.text, frames: sent, aborted };
}
