export { runCli } from './cli-main.js';
export {
  ClusterNode,
  ClusterNodeError,
  type ClusterNodeOptions,
  type ClusterStatus,
} from './cluster-node.js';
export {
  askControl,
  type ControlAnswer,
  ControlError,
  type ControlRequest,
  DEFAULT_CONTROL_SOCKET,
  parseControlRequest,
  serveControl,
} from './control.js';
export {
  type Applied,
  Director,
  DirectorError,
  type DirectorErrorCode,
  type DirectorIpvs,
  type DirectorOptions,
  type DirectorTransition,
} from './director.js';
export {
  type DirectorTable,
  directorTable,
  type RealHealth,
  serviceKeyOfVirtual,
  type VirtualStatus,
} from './director-table.js';
export { describeOperation } from './operations.js';
