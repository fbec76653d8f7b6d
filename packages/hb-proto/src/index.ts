export type { AuthCounters, AuthKeyEntry, AuthMethod, Keyring } from './auth.js';
export { Authenticator, computeDigest, heartbeatCrc, keyring, keyringFromAuthkeys } from './auth.js';
export {
  CLASSIC_END,
  CLASSIC_START,
  classicLength,
  classicSigningText,
  decodeClassic,
  decodeNetstring,
  encodeClassic,
  encodeNetstring,
  MAX_DEPTH,
  MAX_WIRE_LENGTH,
  NETSTRING_END,
  NETSTRING_START,
  netstringLength,
} from './codec.js';
export { HbProtoError, type HbProtoErrorCode } from './errors.js';
export type {
  LinkState,
  LinkStatus,
  MembershipCounters,
  MembershipEvents,
  MembershipOptions,
  NodeStatus,
  PeerState,
} from './membership.js';
export { Membership } from './membership.js';
export type { HbField, HbFieldType, HbMessage } from './message.js';
export {
  F,
  FIELD_TYPE_NUMBERS,
  getBinary,
  getString,
  message,
  NOSEQ_PREFIX,
  setBinary,
  setString,
  T,
  toObject,
} from './message.js';
export type { HeartbeatNodeOptions, HeartbeatStats, NodeEvents, NodeMedium } from './node.js';
export { HeartbeatNode, mediumName } from './node.js';
export type { DecodedPacket, EncodePacketOptions, WireFormat } from './packet.js';
export {
  addMessageAuth,
  COMPRESSED_PAYLOAD,
  COMPRESSION_ALGORITHM,
  compressMessage,
  decodePacket,
  decompressField,
  decompressMessage,
  encodePacket,
  encodingLength,
  MAX_UNCOMPRESSED,
  openPacket,
} from './packet.js';
export type {
  AutoFailback,
  ResourceAction,
  ResourceEvents,
  ResourceManagerOptions,
  ResourceSet,
  ResourceState,
  StandbyState,
} from './resources.js';
export { haresourcesGroups, ResourceManager, resourceKey } from './resources.js';

export const packageName = '@lvs-ha/hb-proto';
