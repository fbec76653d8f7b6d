export {
  capabilities,
  capabilitiesSync,
  type LabCapabilities,
  type LabNeed,
  missingFor,
  which,
} from './capabilities.js';
export { CommandFailedError, LabError, type LabErrorCode } from './errors.js';
export {
  GUEST_IMAGE_FORMAT,
  type GuestImage,
  type GuestImageStatus,
  guestCacheDir,
  guestImageStatus,
} from './guest-image.js';
export {
  bridge,
  cleanupStaleNetns,
  destroyAllNetns,
  NETNS_PREFIX,
  Netns,
  type NetnsCreateOptions,
  veth,
} from './netns.js';
export {
  type BackgroundProcess,
  type ExecOptions,
  type ExecResult,
  HostRunner,
  hostRunner,
  type Runner,
  runLocal,
} from './runner.js';
export { describeWithLab } from './vitest.js';
