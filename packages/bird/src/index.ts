export { BirdClient, type BirdClientOptions } from './client.js';
export {
  BFD_PROTOCOL,
  type BfdOptions,
  type BgpNeighbor,
  type DirectorBirdConfig,
  neighborProtocolName,
  vipProtocolName,
  type WrittenBirdConfig,
  writeDirectorConfig,
} from './config.js';
export {
  BirdArgumentError,
  BirdClosedError,
  BirdConfigError,
  BirdError,
  type BirdErrorCode,
  BirdProtocolError,
  BirdReplyError,
  BirdSocketError,
  BirdStartError,
  BirdTimeoutError,
  BirdUnexpectedReplyError,
} from './errors.js';
export {
  type DecodedLine,
  decodeLine,
  decodeReplies,
  decodeReply,
  encodeCommand,
  encodeLine,
  encodeReply,
  formatCode,
  isErrorCode,
  MAX_COMMAND_LENGTH,
  REPLY,
  type Reply,
  ReplyDecoder,
  type ReplyDecoderOptions,
  type ReplyLine,
} from './reply.js';
export {
  BirdRouting,
  type BirdRoutingOptions,
  type RoutingEvent,
  type RoutingStatus,
  type SessionStatus,
  type VipStatus,
} from './routing.js';
export { parseRoutingFile, type RoutingFileOptions } from './routing-file.js';
export {
  type BfdSession,
  type BgpDetails,
  type BirdStatus,
  type ChannelDetails,
  type NextHop,
  type ProtocolInfo,
  type ProtocolState,
  parseBfdSessions,
  parseProtocols,
  parseRoutes,
  parseStatus,
  type Route,
  type RoutePath,
} from './show.js';
export {
  type BirdExit,
  BirdProcess,
  type BirdProcessOptions,
  type CheckConfigOptions,
  checkConfig,
  findExecutable,
} from './supervisor.js';
