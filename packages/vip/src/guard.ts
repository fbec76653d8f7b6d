// Before taking a VIP: does another host already answer for it? IPv4 asks
// with RFC 5227 ARP probes (sender IP 0.0.0.0, so no cache learns from
// them); IPv6 with a duplicate-address-detection NS (RFC 4862, with an
// RFC 7527 nonce). The result names every other holder; the caller decides.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { getLink } from './addresses.js';
import { DecodeError, InvalidArgumentError } from './errors.js';
import { type IpAddress, parseIp } from './ip.js';
import type { NetnsOption } from './netns.js';
import { PacketSocket } from './packet.js';
import {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  arpProbe,
  dadNeighborSolicitation,
  decodeArpFrame,
  decodeNeighborDiscoveryFrame,
  ETH_P_ARP,
  ETH_P_IPV6,
  formatMac,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  parseMac,
} from './packets.js';

export interface ProbeOptions extends NetnsOption {
  address: string | IpAddress;
  interface: string;
  /** Probes sent. Default 3. */
  probes?: number;
  /** Milliseconds between probes. Default 200. */
  intervalMs?: number;
  /** Milliseconds to keep listening after the last probe. Default 500. */
  waitMs?: number;
}

export interface Holder {
  mac: string;
  /** "answer": it claims the address; "probing": it is itself about to take it. */
  kind: 'answer' | 'probing';
  /** Milliseconds after the first probe. */
  atMs: number;
}

export interface ProbeResult {
  address: string;
  interface: string;
  inUse: boolean;
  /** Other hosts seen, one entry per MAC and kind. */
  holders: Holder[];
}

/** Detects whether another host holds (or is taking) `address` on the link. */
export async function probeAddress(options: ProbeOptions): Promise<ProbeResult> {
  const ip = typeof options.address === 'string' ? parseIp(options.address) : parseIp(options.address?.text);
  const probes = options.probes ?? 3;
  const interval = options.intervalMs ?? 200;
  const wait = options.waitMs ?? 500;
  for (const [n, v] of [
    ['probes', probes],
    ['intervalMs', interval],
    ['waitMs', wait],
  ] as const)
    if (!Number.isInteger(v) || v < (n === 'probes' ? 1 : 0))
      throw new InvalidArgumentError(n, `${v} is out of range`);
  const link = await getLink(options.interface, options);
  if (!link.mac) throw new InvalidArgumentError('interface', `${link.name} has no Ethernet address`);
  const mac = parseMac(link.mac);
  const nonce = Uint8Array.from(randomBytes(6));
  const frame = ip.family === 4 ? arpProbe(mac, ip) : dadNeighborSolicitation(mac, ip, nonce);
  const sock = PacketSocket.open(link.name, ip.family === 4 ? ETH_P_ARP : ETH_P_IPV6, options);
  const holders = new Map<string, Holder>();
  const start = performance.now();
  const note = (m: Uint8Array, kind: Holder['kind']) => {
    const text = formatMac(m);
    if (text === link.mac || holders.has(`${text}/${kind}`)) return;
    holders.set(`${text}/${kind}`, { mac: text, kind, atMs: Math.round(performance.now() - start) });
  };
  const drain = () => {
    for (let f = sock.receive(); f; f = sock.receive()) {
      try {
        if (ip.family === 4) {
          const a = decodeArpFrame(f);
          if (a.senderIp.text === ip.text && (a.operation === ARPOP_REPLY || a.operation === ARPOP_REQUEST))
            note(a.senderMac, 'answer');
          else if (
            a.operation === ARPOP_REQUEST &&
            a.senderIp.text === '0.0.0.0' &&
            a.targetIp.text === ip.text
          )
            note(a.senderMac, 'probing');
        } else {
          if (f[20] !== 58) continue; // not ICMPv6
          const nd = decodeNeighborDiscoveryFrame(f);
          if (!nd.checksumValid || nd.hopLimit !== 255 || nd.target.text !== ip.text) continue;
          if (nd.type === ND_NEIGHBOR_ADVERT) note(nd.linkLayerAddress ?? nd.ethernet.source, 'answer');
          else if (nd.type === ND_NEIGHBOR_SOLICIT && nd.source.text === '::') {
            const ours = nd.nonce && Buffer.from(nd.nonce).equals(Buffer.from(nonce));
            if (!ours) note(nd.ethernet.source, 'probing');
          }
        }
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e; // other traffic on the link: not ours to judge
      }
    }
  };
  try {
    for (let i = 0; i < probes; i++) {
      sock.send(frame);
      const until = performance.now() + (i === probes - 1 ? wait : interval);
      while (performance.now() < until) {
        drain();
        await sleep(Math.min(10, Math.max(0, until - performance.now())));
      }
    }
    drain();
  } finally {
    sock.close();
  }
  const list = [...holders.values()];
  return {
    address: ip.text,
    interface: link.name,
    inUse: list.some((h) => h.kind === 'answer'),
    holders: list,
  };
}
