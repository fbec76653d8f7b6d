export {
  AF_INET,
  AF_INET6,
  addressFamily,
  formatIp,
  formatIpv4,
  formatIpv6,
  type IpAddress,
  type IpFamily,
  ipFamily,
  ipFromBytes,
  maxPrefixLength,
  parseIp,
  parseIpv4,
  parseIpv6,
  solicitedNodeMulticast,
} from './address.js';
export { InvalidAddressError, IpError, type IpErrorCode } from './errors.js';
export {
  type IpPrefix,
  ipv4Broadcast,
  ipv4Netmask,
  parsePrefix,
  parsePrefixLength,
  prefixContains,
} from './prefix.js';
