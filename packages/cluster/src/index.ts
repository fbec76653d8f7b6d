export {
  type ActiveConfig,
  BGP_CF,
  configErrorOfBird,
  hasBgpCf,
  loadActiveConfig,
} from './active-config.js';
export {
  ActiveNode,
  ActiveNodeError,
  type ActiveNodeOptions,
  type ActiveReport,
  type ActiveRouting,
  type ActiveVipStatus,
  activeSysctls,
} from './active-node.js';
export { ConfigCallback, type ConfigCallbackOptions } from './callback.js';
export {
  ClusterNode,
  ClusterNodeError,
  type ClusterNodeOptions,
  type ClusterObservation,
  type ClusterReport,
  type ClusterStatus,
} from './cluster-node.js';
export { HeartbeatThread, type HeartbeatThreadOptions } from './heartbeat-thread.js';
export {
  type DirectorCounters,
  ResourceError,
  ResourceRunner,
  type ResourceRunnerOptions,
} from './resources.js';
export { type HaState, NotifyStates, type StateChange } from './states.js';
export { ConnectionSync, type ConnectionSyncOptions } from './sync.js';
