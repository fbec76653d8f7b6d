export {
  ClusterNode,
  ClusterNodeError,
  type ClusterNodeOptions,
  type ClusterReport,
  type ClusterStatus,
} from './cluster-node.js';
export { HeartbeatThread, type HeartbeatThreadOptions } from './heartbeat-thread.js';
