// The framing lives in @lvs-ha/netlink-frame; these names stay public here as before.

// The address families are @lvs-ha/ip's; these names stay public here as before.
export { AF_INET, AF_INET6 } from '@lvs-ha/ip';
export {
  type Attribute,
  encodeAttributes,
  encodeErrorPayload as encodeErrorMessage,
  encodeNetlinkMessage,
  type NetlinkErrorPayload as NetlinkErrorMessage,
  type NetlinkHeader,
  type NetlinkMessage,
  NLM_F,
  NLMSG,
} from '@lvs-ha/netlink-frame';
export {
  type Address,
  type AddressChange,
  addAddress,
  findInterfaceFor,
  getLink,
  type Link,
  type ListAddressesOptions,
  listAddresses,
  listLinks,
  pickInterface,
  removeAddress,
  setLinkUp,
  type VipRequest,
} from './addresses.js';
export { type AnnounceOptions, type AnnounceResult, announce } from './announce.js';
export {
  AddressInUseError,
  DecodeError,
  InvalidAddressError,
  InvalidArgumentError,
  NetlinkError,
  NoMatchingInterfaceError,
  NoSuchInterfaceError,
  NoSuchNetnsError,
  PacketSocketError,
  PermissionDeniedError,
  VipError,
  type VipErrorCode,
} from './errors.js';
export { type Holder, type ProbeOptions, type ProbeResult, probeAddress } from './guard.js';
export {
  formatIp,
  type IpAddress,
  type IpFamily,
  type IpPrefix,
  ipv4Broadcast,
  parseIp,
  parsePrefix,
  parsePrefixLength,
  parseVipSpec,
  prefixContains,
  solicitedNodeMulticast,
  type VipSpec,
  validateInterfaceName,
} from './ip.js';
export { inNetns, type NetnsOption } from './netns.js';
export { PacketSocket } from './packet.js';
export {
  ARPOP_REPLY,
  ARPOP_REQUEST,
  type ArpPacket,
  arpProbe,
  BROADCAST_MAC,
  dadNeighborSolicitation,
  decodeArpFrame,
  decodeEthernet,
  decodeNeighborDiscoveryFrame,
  ETH_P_ARP,
  ETH_P_IPV6,
  type EthernetFrame,
  encodeArpFrame,
  formatMac,
  gratuitousArp,
  icmpv6Checksum,
  ipv6MulticastMac,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  type NeighborAdvertisementOptions,
  type NeighborDiscoveryPacket,
  parseMac,
  unsolicitedNeighborAdvertisement,
} from './packets.js';
export {
  type AddressMessage,
  decodeAddressMessage,
  decodeAttributes,
  decodeErrorMessage,
  decodeLinkMessage,
  decodeNetlinkMessages,
  encodeAddressMessage,
  encodeDumpRequest,
  encodeLinkMessage,
  IFA,
  IFA_F,
  IFF,
  IFLA,
  type LinkMessage,
  RT_SCOPE,
  RTM,
  RTNLGRP,
  type ScopeName,
} from './rtnetlink.js';
export { release, type TakeOverOptions, type TakeOverResult, takeOver } from './takeover.js';
export {
  type AddressEvent,
  type LinkEvent,
  type VipEvent,
  type VipLossReason,
  VipWatcher,
  type WatcherStats,
  type WatchOptions,
  watchVips,
} from './watch.js';
