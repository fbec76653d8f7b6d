export {
  capabilities,
  capabilitiesSync,
  type LabCapabilities,
  type LabNeed,
  missingFor,
  which,
} from './capabilities.js';
export { type CpioEntry, type CpioMember, decodeCpio, encodeCpio } from './cpio.js';
export { CommandFailedError, LabError, type LabErrorCode } from './errors.js';
export {
  chooseAccel,
  GUEST_AGENT_PATH,
  GUEST_TMPFS,
  Guest,
  type GuestBootOptions,
  KVM_PROBE_TIMEOUT_MS,
  type KvmVerdict,
  keptDirectories,
  type QemuOptions,
  qemuArgs,
  removeStaleGuestDirs,
  tsxLoader,
} from './guest.js';
export {
  GUEST_IMAGE_FORMAT,
  GUEST_MODULES,
  type GuestImage,
  type GuestImageStatus,
  guestCacheDir,
  guestImageStatus,
  type PrepareOptions,
  prepareGuestImage,
} from './guest-image.js';
export { HEARTBEAT_DAEMON, RealHeartbeat, type RealHeartbeatOptions } from './heartbeat.js';
export {
  buildInitramfs,
  CONTROL_PORT_NAME,
  HOST_ROOT_TAG,
  type InitramfsInput,
  initScript,
  SHARE_TAG,
} from './initramfs.js';
export { moduleDepends, moduleKey, orderModules, parseModinfo } from './modules.js';
export {
  bridge,
  cleanupStaleNetns,
  destroyAllNetns,
  destroyNetns,
  NETNS_PREFIX,
  Netns,
  type NetnsCreateOptions,
  veth,
} from './netns.js';
export type { OperationsPhase, OperationsResult } from './operations-tour.js';
export {
  labLdirectordCf,
  type PairTourOptions,
  type PairTourResult,
  pairTour,
  SEED_LDIRECTORD_CF,
} from './pair-tour.js';
export {
  type BackgroundProcess,
  type ExecOptions,
  type ExecResult,
  HostRunner,
  hostRunner,
  OUTPUT_LIMIT,
  type Runner,
  runLocal,
} from './runner.js';
export { type Segment, segment } from './segment.js';
export {
  type ApacheOptions,
  type ApacheServer,
  apacheConfig,
  type HttpServerOptions,
  startApache,
  startHttpServer,
} from './services.js';
export {
  type FetchOptions,
  type FetchResult,
  type HostRole,
  type HostSpec,
  type InterfaceInfo,
  Lab,
  LabHost,
  type LabStartOptions,
  type NeighbourEntry,
  parseHttpResponse,
  seedTopology,
  seedTopologyWith,
  type Topology,
  topologyScript,
} from './topology.js';
export { seedTour, type TourOptions } from './tour.js';
export { type UntilOptions, type UntilResult, until } from './until.js';
