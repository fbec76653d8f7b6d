// Ethernet frames for announcing and guarding a VIP: ARP (RFC 826, with
// RFC 5227's probe/announcement forms) and ICMPv6 neighbour discovery
// (RFC 4861 NS/NA). Pure: every frame is built and parsed here, the packet
// socket only moves bytes. All fields are network byte order.
import { DecodeError, InvalidArgumentError } from './errors.js';
import { formatIp, type IpAddress, solicitedNodeMulticast } from './ip.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
const IPPROTO_ICMPV6 = 58;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC = new Uint8Array(6);

/** "02:00:5e:00:53:01" -> 6 bytes. */
export function parseMac(text: string): Uint8Array {
  const m =
    /^([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})[:-]([0-9a-f]{1,2})$/i.exec(
      String(text).trim(),
    );
  if (!m)
    throw new InvalidArgumentError('MAC address', `"${text}" is not six hex bytes like 02:00:5e:00:53:01`);
  return Uint8Array.from(m.slice(1).map((h) => Number.parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}

function checkMac(mac: Uint8Array, what: string) {
  if (!(mac instanceof Uint8Array) || mac.length !== 6)
    throw new InvalidArgumentError(what, 'a MAC address has 6 bytes');
}

export interface EthernetFrame {
  destination: Uint8Array;
  source: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

export function decodeEthernet(frame: Uint8Array): EthernetFrame {
  if (frame.length < 14) throw new DecodeError(`Ethernet frame of ${frame.length} bytes`, 0);
  return {
    destination: frame.subarray(0, 6),
    source: frame.subarray(6, 12),
    etherType: (frame[12]! << 8) | frame[13]!,
    payload: frame.subarray(14),
  };
}

function ethernet(destination: Uint8Array, source: Uint8Array, etherType: number, payloadLength: number) {
  const out = new Uint8Array(14 + payloadLength);
  out.set(destination, 0);
  out.set(source, 6);
  out[12] = etherType >> 8;
  out[13] = etherType & 0xff;
  return out;
}

// ---- ARP ------------------------------------------------------------------

export interface ArpPacket {
  operation: number;
  senderMac: Uint8Array;
  senderIp: IpAddress;
  targetMac: Uint8Array;
  targetIp: IpAddress;
}

/** An Ethernet frame carrying an ARP packet for IPv4 over Ethernet (42 bytes). */
export function encodeArpFrame(arp: ArpPacket, destination: Uint8Array, source = arp.senderMac): Uint8Array {
  checkMac(arp.senderMac, 'sender MAC');
  checkMac(arp.targetMac, 'target MAC');
  checkMac(destination, 'destination MAC');
  if (arp.senderIp.family !== 4 || arp.targetIp.family !== 4)
    throw new InvalidArgumentError('ARP address', 'ARP carries IPv4 addresses only');
  const f = ethernet(destination, source, ETH_P_ARP, 28);
  f.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0, arp.operation], 14);
  f.set(arp.senderMac, 22);
  f.set(arp.senderIp.bytes, 28);
  f.set(arp.targetMac, 32);
  f.set(arp.targetIp.bytes, 38);
  return f;
}

/** Decodes an ARP frame (Ethernet/IPv4 only), or throws DecodeError. */
export function decodeArpFrame(frame: Uint8Array): ArpPacket & { ethernet: EthernetFrame } {
  const eth = decodeEthernet(frame);
  if (eth.etherType !== ETH_P_ARP)
    throw new DecodeError(`EtherType 0x${eth.etherType.toString(16)} is not ARP`, 12);
  const p = eth.payload;
  if (p.length < 28) throw new DecodeError(`ARP packet of ${p.length} bytes`, 14);
  if (p[0] !== 0 || p[1] !== 1 || p[2] !== 8 || p[3] !== 0 || p[4] !== 6 || p[5] !== 4)
    throw new DecodeError('ARP packet is not Ethernet/IPv4', 14);
  const ip = (o: number): IpAddress => {
    const bytes = Uint8Array.from(p.subarray(o, o + 4));
    return { family: 4, bytes, text: formatIp(bytes) };
  };
  return {
    ethernet: eth,
    operation: (p[6]! << 8) | p[7]!,
    senderMac: Uint8Array.from(p.subarray(8, 14)),
    senderIp: ip(14),
    targetMac: Uint8Array.from(p.subarray(18, 24)),
    targetIp: ip(24),
  };
}

/**
 * Gratuitous ARP for `ip` held at `mac`, broadcast. The request form has
 * sender IP = target IP and a zero target MAC (RFC 5227's announcement);
 * the reply form carries our MAC as target MAC too, which is what Linux
 * requires before it takes a gratuitous reply as one (arp_is_garp).
 */
export function gratuitousArp(form: 'request' | 'reply', mac: Uint8Array, ip: IpAddress): Uint8Array {
  return encodeArpFrame(
    {
      operation: form === 'request' ? ARPOP_REQUEST : ARPOP_REPLY,
      senderMac: mac,
      senderIp: ip,
      targetMac: form === 'request' ? ZERO_MAC : mac,
      targetIp: ip,
    },
    BROADCAST_MAC,
  );
}

const ZERO_IP4: IpAddress = { family: 4, bytes: new Uint8Array(4), text: '0.0.0.0' };

/** RFC 5227 ARP probe: "who has ip?" with sender IP 0.0.0.0, so no cache learns from it. */
export function arpProbe(mac: Uint8Array, ip: IpAddress): Uint8Array {
  return encodeArpFrame(
    { operation: ARPOP_REQUEST, senderMac: mac, senderIp: ZERO_IP4, targetMac: ZERO_MAC, targetIp: ip },
    BROADCAST_MAC,
  );
}

// ---- IPv6 neighbour discovery ---------------------------------------------

/** The Ethernet multicast MAC of an IPv6 group: 33:33 + its last 4 bytes. */
export function ipv6MulticastMac(group: IpAddress): Uint8Array {
  return Uint8Array.from([0x33, 0x33, ...group.bytes.subarray(12)]);
}

const ALL_NODES: IpAddress = {
  family: 6,
  bytes: Uint8Array.from([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  text: 'ff02::1',
};
const UNSPECIFIED6: IpAddress = { family: 6, bytes: new Uint8Array(16), text: '::' };

/** Internet checksum of the ICMPv6 message with the IPv6 pseudo-header (RFC 8200 8.1). */
export function icmpv6Checksum(source: IpAddress, destination: IpAddress, icmp: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  };
  add(source.bytes);
  add(destination.bytes);
  sum += (icmp.length >>> 16) + (icmp.length & 0xffff) + IPPROTO_ICMPV6;
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv6Frame(dstMac: Uint8Array, srcMac: Uint8Array, src: IpAddress, dst: IpAddress, icmp: Uint8Array) {
  const f = ethernet(dstMac, srcMac, ETH_P_IPV6, 40 + icmp.length);
  f[14] = 0x60; // version 6, traffic class 0, flow label 0
  f[18] = icmp.length >> 8;
  f[19] = icmp.length & 0xff;
  f[20] = IPPROTO_ICMPV6;
  f[21] = 255; // hop limit: receivers drop ND with anything else
  f.set(src.bytes, 22);
  f.set(dst.bytes, 38);
  const sum = icmpv6Checksum(src, dst, icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  f.set(icmp, 54);
  return f;
}

export interface NeighborAdvertisementOptions {
  /** R flag: the sender is a router. Default false. */
  router?: boolean;
  /** O flag: replace cached link-layer addresses. Default true (that is the point of a take-over). */
  override?: boolean;
}

/**
 * Unsolicited neighbour advertisement for `target` at `mac`, to all nodes
 * (ff02::1), with the target link-layer address option. The source is the
 * target itself, as the kernel's own ndisc_send_unsol_na does.
 */
export function unsolicitedNeighborAdvertisement(
  mac: Uint8Array,
  target: IpAddress,
  options: NeighborAdvertisementOptions = {},
): Uint8Array {
  checkMac(mac, 'MAC');
  if (target.family !== 6) throw new InvalidArgumentError('target', `${target.text} is not IPv6`);
  const icmp = new Uint8Array(32);
  icmp[0] = ND_NEIGHBOR_ADVERT;
  icmp[4] = (options.router ? 0x80 : 0) | ((options.override ?? true) ? 0x20 : 0);
  icmp.set(target.bytes, 8);
  icmp.set([2, 1], 24); // option 2: target link-layer address, 1 x 8 bytes
  icmp.set(mac, 26);
  return ipv6Frame(ipv6MulticastMac(ALL_NODES), mac, target, ALL_NODES, icmp);
}

/**
 * DAD neighbour solicitation (RFC 4862 5.4.2): from ::, to the target's
 * solicited-node group. With a 6-byte `nonce` it carries RFC 7527's nonce
 * option, as Linux's own DAD does, so a looped-back copy is recognisable.
 */
export function dadNeighborSolicitation(mac: Uint8Array, target: IpAddress, nonce?: Uint8Array): Uint8Array {
  checkMac(mac, 'MAC');
  if (target.family !== 6) throw new InvalidArgumentError('target', `${target.text} is not IPv6`);
  if (nonce && nonce.length !== 6) throw new InvalidArgumentError('nonce', 'a DAD nonce has 6 bytes');
  const group = solicitedNodeMulticast(target);
  const icmp = new Uint8Array(nonce ? 32 : 24);
  icmp[0] = ND_NEIGHBOR_SOLICIT;
  icmp.set(target.bytes, 8);
  if (nonce) {
    icmp.set([14, 1], 24);
    icmp.set(nonce, 26);
  }
  return ipv6Frame(ipv6MulticastMac(group), mac, UNSPECIFIED6, group, icmp);
}

export interface NeighborDiscoveryPacket {
  ethernet: EthernetFrame;
  source: IpAddress;
  destination: IpAddress;
  hopLimit: number;
  /** 135 (NS) or 136 (NA). */
  type: number;
  code: number;
  checksum: number;
  /** True when the checksum verifies over the pseudo-header. */
  checksumValid: boolean;
  router: boolean;
  solicited: boolean;
  override: boolean;
  target: IpAddress;
  /** Source (NS) or target (NA) link-layer address option, when present. */
  linkLayerAddress?: Uint8Array;
  /** RFC 7527 nonce option (DAD NS), when present. */
  nonce?: Uint8Array;
}

/** Decodes an Ethernet frame carrying an ICMPv6 NS or NA (no extension headers). */
export function decodeNeighborDiscoveryFrame(frame: Uint8Array): NeighborDiscoveryPacket {
  const eth = decodeEthernet(frame);
  if (eth.etherType !== ETH_P_IPV6)
    throw new DecodeError(`EtherType 0x${eth.etherType.toString(16)} is not IPv6`, 12);
  const p = eth.payload;
  if (p.length < 40 || p[0]! >> 4 !== 6) throw new DecodeError('not an IPv6 packet', 14);
  if (p[6] !== IPPROTO_ICMPV6) throw new DecodeError(`next header ${p[6]} is not ICMPv6`, 20);
  const payloadLength = (p[4]! << 8) | p[5]!;
  if (40 + payloadLength > p.length) throw new DecodeError('IPv6 payload length overruns the frame', 18);
  const ip = (o: number): IpAddress => {
    const bytes = Uint8Array.from(p.subarray(o, o + 16));
    return { family: 6, bytes, text: formatIp(bytes) };
  };
  const source = ip(8);
  const destination = ip(24);
  const icmp = p.subarray(40, 40 + payloadLength);
  if (icmp.length < 24) throw new DecodeError('ICMPv6 neighbour discovery message shorter than 24 bytes', 54);
  const type = icmp[0]!;
  if (type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT)
    throw new DecodeError(`ICMPv6 type ${type} is not NS/NA`, 54);
  const zeroed = Uint8Array.from(icmp);
  zeroed[2] = 0;
  zeroed[3] = 0;
  const checksum = (icmp[2]! << 8) | icmp[3]!;
  const out: NeighborDiscoveryPacket = {
    ethernet: eth,
    source,
    destination,
    hopLimit: p[7]!,
    type,
    code: icmp[1]!,
    checksum,
    checksumValid: icmpv6Checksum(source, destination, zeroed) === checksum,
    router: (icmp[4]! & 0x80) !== 0,
    solicited: (icmp[4]! & 0x40) !== 0,
    override: (icmp[4]! & 0x20) !== 0,
    target: ip(48),
  };
  for (let o = 24; o + 2 <= icmp.length; ) {
    const len = icmp[o + 1]! * 8;
    if (len === 0 || o + len > icmp.length)
      throw new DecodeError('bad neighbour discovery option length', 54 + o);
    if ((icmp[o] === 1 || icmp[o] === 2) && len >= 8)
      out.linkLayerAddress = Uint8Array.from(icmp.subarray(o + 2, o + 8));
    if (icmp[o] === 14 && len >= 8) out.nonce = Uint8Array.from(icmp.subarray(o + 2, o + len));
    o += len;
  }
  return out;
}
